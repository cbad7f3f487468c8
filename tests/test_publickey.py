"""Tests of typed public keys (Ed25519, P-256, P-384), ECDSA key pairs and ES256/ES384 JOSE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from valuetrace.did import (
    EcKeyPair,
    Ed25519KeyPair,
    KeyType,
    PublicKey,
    build_did_web_document,
    did_key_document,
    did_key_from_public_key,
    find_public_key,
    verification_key_from_did_key,
)
from valuetrace.errors import DIDError, SigningKeyError
from valuetrace.vc import decode_envelope, decode_jws, sign_enveloped, verify_jws

DATA = Path(__file__).parent / "data" / "did-key"
NIST_VECTORS: dict[str, Any] = json.loads((DATA / "did-method-key-nist-curves.json").read_text())
SPEC_VECTORS: dict[str, Any] = json.loads((DATA / "did-key-spec-test-vectors.json").read_text())
# The P-521 vectors and the one with base58 keys are outside the supported key types.
JWK_VECTORS = {
    did: vector
    for did, vector in NIST_VECTORS.items()
    if vector["verificationMethod"].get("publicKeyJwk", {}).get("crv") in {"P-256", "P-384"}
}
ISSUER = "did:web:issuer.example:org"


def credential(issuer: str = ISSUER) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://issuer.example/credentials/1",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.com/product/1"},
    }


def test_jwk_vectors_cover_both_curves() -> None:
    curves = {v["verificationMethod"]["publicKeyJwk"]["crv"] for v in JWK_VECTORS.values()}

    assert curves == {"P-256", "P-384"}


@pytest.mark.parametrize("did", list(JWK_VECTORS))
def test_did_key_matches_vector_jwk(did: str) -> None:
    method = JWK_VECTORS[did]["verificationMethod"]

    from_did = verification_key_from_did_key(did)
    from_jwk = PublicKey.from_jwk(method["publicKeyJwk"])

    assert from_did == from_jwk
    assert from_did.jwk() == method["publicKeyJwk"]
    assert did_key_from_public_key(from_jwk) == did


@pytest.mark.parametrize("did", list(JWK_VECTORS))
def test_private_jwk_vector_signs(did: str) -> None:
    method = JWK_VECTORS[did]["verificationMethod"]
    pair = EcKeyPair.from_jwk(method["privateKeyJwk"])

    signature = pair.sign(b"payload")

    assert pair.verification_key == verification_key_from_did_key(did)
    assert pair.verification_key.verify(signature, b"payload")
    assert not pair.verification_key.verify(signature, b"payloaD")


@pytest.mark.parametrize("did", list(JWK_VECTORS))
def test_vector_document_key_lookup(did: str) -> None:
    document = JWK_VECTORS[did]["didDocument"]
    method_id = document["verificationMethod"][0]["id"]

    assert find_public_key(document, method_id) == verification_key_from_did_key(did)


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_spec_did_key_document(curve: str) -> None:
    did = SPEC_VECTORS["vectors"][curve]["dids"][0]

    document = did_key_document(did)
    method = document["verificationMethod"][0]

    assert method["publicKeyMultibase"] == did.removeprefix("did:key:")
    assert method["type"] == "Multikey"
    assert document["assertionMethod"] == [method["id"]]
    assert document["keyAgreement"] == [method["id"]]
    assert find_public_key(document, method["id"]) == verification_key_from_did_key(did)


def test_secp256k1_did_key_rejected() -> None:
    did = SPEC_VECTORS["vectors"]["Secp256k1"]["dids"][0]

    with pytest.raises(DIDError, match="secp256k1-pub"):
        verification_key_from_did_key(did)


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_ec_key_round_trips(key_type: KeyType) -> None:
    pair = EcKeyPair.generate(key_type)
    public = pair.verification_key

    assert PublicKey.from_multibase(public.multibase()) == public
    assert PublicKey.from_jwk(public.jwk()) == public
    assert EcKeyPair.from_private_multibase(pair.private_multibase()) == pair
    assert EcKeyPair.from_private_bytes(key_type, pair.private_bytes()) == pair
    assert len(pair.sign(b"x")) == public.signature_length


def test_multibase_prefixes() -> None:
    assert EcKeyPair.generate(KeyType.P256).public_multibase.startswith("zDn")
    assert EcKeyPair.generate(KeyType.P384).public_multibase.startswith("z82")
    assert Ed25519KeyPair.generate().verification_key.multibase().startswith("z6Mk")


def test_p256_signature_fails_p384_key() -> None:
    p256 = EcKeyPair.generate(KeyType.P256)
    p384 = EcKeyPair.generate(KeyType.P384)

    assert not p384.verification_key.verify(p256.sign(b"data"), b"data")


@pytest.mark.parametrize(
    ("jwk", "problem"),
    [
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "32 bytes each"),
        ({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}, "not supported"),
        ({"kty": "RSA", "n": "AA", "e": "AQAB"}, "not supported"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "a+b/"}, "base64url"),
        ("not a JWK", "not an object"),
    ],
)
def test_invalid_jwk_rejected(jwk: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        PublicKey.from_jwk(jwk)


def test_point_off_curve_rejected() -> None:
    good = EcKeyPair.generate(KeyType.P256).public_jwk
    x = bytearray(good["x"].encode())
    x[5] = ord("A") if x[5] != ord("A") else ord("B")
    bad = {**good, "x": x.decode()}

    with pytest.raises(ValueError, match="not a point on the curve"):
        PublicKey.from_jwk(bad)


def test_private_jwk_mismatch_rejected() -> None:
    first = EcKeyPair.generate(KeyType.P256)
    second = EcKeyPair.generate(KeyType.P256)
    jwk = {**first.public_jwk, "d": _b64url(second.private_bytes())}

    with pytest.raises(SigningKeyError, match="does not match"):
        EcKeyPair.from_jwk(jwk)


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _resolver(document: dict[str, Any]) -> Any:
    return lambda kid: find_public_key(document, kid)


@pytest.mark.parametrize(("key_type", "alg"), [(KeyType.P256, "ES256"), (KeyType.P384, "ES384")])
def test_es_envelope_round_trip(key_type: KeyType, alg: str) -> None:
    pair = EcKeyPair.generate(key_type)
    document = build_did_web_document(ISSUER, [("key-1", pair.verification_key)])

    decoded = decode_envelope(sign_enveloped(credential(), pair, f"{ISSUER}#key-1"))

    assert decoded.header["alg"] == alg
    assert verify_jws(decoded, _resolver(document)) == []


@pytest.mark.parametrize(("key_type", "alg"), [(KeyType.P256, "ES256"), (KeyType.P384, "ES384")])
def test_es_envelope_verified_by_joserfc(key_type: KeyType, alg: str) -> None:
    pair = EcKeyPair.generate(key_type)
    envelope = sign_enveloped(credential(), pair, f"{ISSUER}#key-1")
    compact = decode_envelope(envelope).compact

    result = jws.deserialize_compact(compact, ECKey.import_key(pair.public_jwk), algorithms=[alg])

    assert json.loads(result.payload)["issuer"] == ISSUER


@pytest.mark.parametrize(("key_type", "alg"), [(KeyType.P256, "ES256"), (KeyType.P384, "ES384")])
def test_joserfc_es_token_verifies(key_type: KeyType, alg: str) -> None:
    pair = EcKeyPair.generate(key_type)
    private = ECKey.import_key({**pair.public_jwk, "d": _b64url(pair.private_bytes())})
    header = {"alg": alg, "kid": f"{ISSUER}#key-1", "typ": "vc+jwt", "cty": "vc"}
    compact = jws.serialize_compact(
        header, json.dumps(credential()).encode(), private, algorithms=[alg]
    )
    document = build_did_web_document(ISSUER, [("key-1", pair.verification_key)])

    decoded = decode_jws(compact)

    assert verify_jws(decoded, _resolver(document)) == []


def _resign_header(compact: str, header: dict[str, Any]) -> str:
    """Replace the protected header of a compact JWS, keeping payload and signature."""
    _, payload, signature = compact.split(".")
    encoded = _b64url(json.dumps(header, separators=(",", ":")).encode())
    return f"{encoded}.{payload}.{signature}"


@pytest.mark.parametrize(
    ("signing_key", "claimed_alg"),
    [
        (KeyType.P256, "EdDSA"),
        (KeyType.P256, "ES384"),
        (KeyType.P384, "ES256"),
        (KeyType.ED25519, "ES256"),
    ],
)
def test_alg_not_fitting_key_rejected(signing_key: KeyType, claimed_alg: str) -> None:
    pair: EcKeyPair | Ed25519KeyPair = (
        Ed25519KeyPair.generate()
        if signing_key is KeyType.ED25519
        else EcKeyPair.generate(signing_key)
    )
    document = build_did_web_document(ISSUER, [("key-1", pair.verification_key)])
    envelope = sign_enveloped(credential(), pair, f"{ISSUER}#key-1")
    decoded = decode_envelope(envelope)
    forged = _resign_header(decoded.compact, {**decoded.header, "alg": claimed_alg})

    findings = verify_jws(decode_jws(forged), _resolver(document))

    assert [f.code for f in findings] == ["signature.alg_rejected"]
    assert findings[0].path == "$.header.alg"


def test_es256_tampered_payload_invalid() -> None:
    pair = EcKeyPair.generate(KeyType.P256)
    document = build_did_web_document(ISSUER, [("key-1", pair.verification_key)])
    compact = decode_envelope(sign_enveloped(credential(), pair, f"{ISSUER}#key-1")).compact
    header, _, signature = compact.split(".")
    changed = {**credential(), "validFrom": "2020-01-01T00:00:00Z"}
    payload = _b64url(json.dumps(changed).encode())

    decoded = decode_jws(f"{header}.{payload}.{signature}")

    assert [f.code for f in verify_jws(decoded, _resolver(document))] == ["signature.invalid"]

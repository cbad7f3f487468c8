"""Tests of enveloped credentials and presentations: compact JWS signing, decoding, verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import OKPKey

from valuetrace.did import (
    EcKeyPair,
    Ed25519KeyPair,
    KeyType,
    PublicKey,
    build_did_web_document,
    did_key_document,
    did_key_from_public_key,
    did_of,
    find_public_key,
    verify_ed25519,
)
from valuetrace.errors import DIDError, EnvelopeError
from valuetrace.findings import Finding, Severity
from valuetrace.vc import (
    DATA_URL_PREFIX,
    ENVELOPED_TYPE,
    DecodedJWS,
    credential_issuer,
    decode_envelope,
    decode_jws,
    is_enveloped,
    sign_enveloped,
    verify_jws,
)
from valuetrace.vc._jose_presentation import (
    ENVELOPED_PRESENTATION_TYPE,
    decode_enveloped_presentation,
    is_enveloped_presentation,
    sign_enveloped_presentation,
    verify_enveloped_presentation,
)

ISSUER = "did:web:issuer.example:org"
KID = f"{ISSUER}#key-1"
HEADER = {"alg": "EdDSA", "kid": KID, "typ": "vc+jwt", "cty": "vc"}
UNTP_DPP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/"

# RFC 8037 appendix A.4: an EdDSA JWS over the text "Example of Ed25519 signing".
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

IGNORE_EDDSA_DEPRECATION = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value).encode("utf-8"))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_credential(issuer: Any = ISSUER) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", UNTP_DPP_CONTEXT],
        "id": "https://issuer.example/credentials/dpp-1",
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://id.gs1.org/01/09520123456788", "name": "Widget é"},
    }


def sign_token(header: dict[str, Any], payload: dict[str, Any], key: Ed25519KeyPair) -> str:
    """Build a compact JWS by hand, so that tests can sign headers sign_enveloped never writes."""
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


def resolver_for(document: dict[str, Any]) -> Callable[[str], bytes | None]:
    return lambda kid: find_public_key(document, kid)


def joserfc_public_key(key: Ed25519KeyPair) -> OKPKey:
    jwk: dict[str, str | list[str]] = {**key.public_jwk}
    return OKPKey.import_key(jwk)


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


@pytest.fixture
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture
def resolve(key: Ed25519KeyPair) -> Callable[[str], bytes | None]:
    return resolver_for(build_did_web_document(ISSUER, [("key-1", key.public_key)]))


# Signing ---------------------------------------------------------------------------------------


def test_sign_envelope_shape(key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)

    assert envelope["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert envelope["type"] == ENVELOPED_TYPE
    assert envelope["id"].startswith(DATA_URL_PREFIX)
    assert set(envelope) == {"@context", "type", "id"}


def test_sign_header_exact(key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)
    header_text = envelope["id"][len(DATA_URL_PREFIX) :].split(".")[0]

    assert json.loads(b64url_decode(header_text)) == HEADER
    assert list(json.loads(b64url_decode(header_text))) == ["alg", "kid", "typ", "cty"]


def test_sign_payload_plain_credential(key: Ed25519KeyPair) -> None:
    credential = make_credential()
    envelope = sign_enveloped(credential, key, KID)
    compact = envelope["id"][len(DATA_URL_PREFIX) :]

    payload = json.loads(b64url_decode(compact.split(".")[1]))

    assert payload == credential
    assert "vc" not in payload
    assert "iss" not in payload
    assert "=" not in compact


def test_sign_verify_round_trip(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    credential = make_credential()

    decoded = decode_envelope(sign_enveloped(credential, key, KID))

    assert decoded.payload == credential
    assert decoded.header == HEADER
    assert verify_jws(decoded, resolve) == []


def test_sign_issuer_object(key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]) -> None:
    credential = make_credential({"id": ISSUER, "type": ["CredentialIssuer"], "name": "Issuer"})

    decoded = decode_envelope(sign_enveloped(credential, key, KID))

    assert verify_jws(decoded, resolve) == []


def test_sign_did_key_issuer(key: Ed25519KeyPair) -> None:
    did = did_key_from_public_key(key.public_key)
    kid = f"{did}#{key.public_multibase}"
    document = did_key_document(did)

    decoded = decode_envelope(sign_enveloped(make_credential(did), key, kid))

    assert verify_jws(decoded, resolver_for(document)) == []


def test_sign_bundled_untp_sample(key: Ed25519KeyPair) -> None:
    sample_path = resources.files("valuetrace") / "data/untp/0.6.1/dpp/untp-dpp-instance.json"
    credential = json.loads(sample_path.read_text(encoding="utf-8"))
    issuer = credential["issuer"]["id"]
    document = build_did_web_document(issuer, [("key-1", key.public_key)])

    decoded = decode_envelope(sign_enveloped(credential, key, f"{issuer}#key-1"))

    assert decoded.payload == credential
    assert verify_jws(decoded, resolver_for(document)) == []


def test_sign_kid_other_did(key: Ed25519KeyPair) -> None:
    with pytest.raises(ValueError, match=r"belongs to 'did:web:other\.example'"):
        sign_enveloped(make_credential(), key, "did:web:other.example#key-1")


def test_sign_kid_not_did_url(key: Ed25519KeyPair) -> None:
    with pytest.raises(ValueError, match="is not a DID URL"):
        sign_enveloped(make_credential(), key, "key-1")


def test_sign_without_issuer(key: Ed25519KeyPair) -> None:
    credential = make_credential()
    del credential["issuer"]

    with pytest.raises(ValueError, match="no issuer"):
        sign_enveloped(credential, key, KID)


def test_sign_not_serialisable(key: Ed25519KeyPair) -> None:
    credential = make_credential()
    credential["validFrom"] = object()

    with pytest.raises(ValueError, match="cannot be serialised to JSON"):
        sign_enveloped(credential, key, KID)


# Interoperability with joserfc -----------------------------------------------------------------


@IGNORE_EDDSA_DEPRECATION
def test_joserfc_verifies_ours(key: Ed25519KeyPair) -> None:
    credential = make_credential()
    compact = sign_enveloped(credential, key, KID)["id"][len(DATA_URL_PREFIX) :]
    public_key = joserfc_public_key(key)

    result = jws.deserialize_compact(compact, public_key, algorithms=["EdDSA"])

    assert result.headers() == HEADER
    assert json.loads(result.payload) == credential


@IGNORE_EDDSA_DEPRECATION
def test_joserfc_rejects_our_tampered(key: Ed25519KeyPair) -> None:
    compact = sign_enveloped(make_credential(), key, KID)["id"][len(DATA_URL_PREFIX) :]
    header, _, signature = compact.split(".")
    forged = f"{header}.{b64url_json(make_credential('did:web:evil.example'))}.{signature}"

    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(forged, joserfc_public_key(key), algorithms=["EdDSA"])


@IGNORE_EDDSA_DEPRECATION
@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_ours_verifies_joserfc(
    alg: str, key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    private_key = OKPKey.import_key({**key.public_jwk, "d": b64url(key.private_bytes())})
    credential = make_credential()
    header = {**HEADER, "alg": alg}
    compact = jws.serialize_compact(
        header, json.dumps(credential).encode("utf-8"), private_key, algorithms=[alg]
    )

    decoded = decode_jws(compact)

    assert decoded.payload == credential
    assert verify_jws(decoded, resolve) == []


def test_rfc8037_vector_signature() -> None:
    header_text, payload_text, signature_text = RFC8037_JWS.split(".")

    signing_input = f"{header_text}.{payload_text}".encode("ascii")

    assert verify_ed25519(b64url_decode(RFC8037_X), b64url_decode(signature_text), signing_input)


def test_rfc8037_vector_text_payload() -> None:
    """The RFC's payload is plain text, which is not a credential."""
    with pytest.raises(EnvelopeError, match="the JWS payload is not valid JSON"):
        decode_jws(RFC8037_JWS)


# Rejections by verify_jws ----------------------------------------------------------------------


def test_reject_alg_none(resolve: Callable[[str], bytes | None]) -> None:
    header = {**HEADER, "alg": "none"}
    compact = f"{b64url_json(header)}.{b64url_json(make_credential())}."

    findings = verify_jws(decode_jws(compact), resolve)

    assert codes(findings) == ["signature.alg_rejected"]
    assert findings[0].path == "$.header.alg"
    assert "'none'" in findings[0].message


def test_reject_hs256_public_key_secret(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    """An HMAC token keyed with the issuer's public key must not pass as signed by the issuer."""
    header = {**HEADER, "alg": "HS256"}
    signing_input = f"{b64url_json(header)}.{b64url_json(make_credential())}"
    mac = hmac.new(key.public_key, signing_input.encode("ascii"), hashlib.sha256).digest()

    findings = verify_jws(decode_jws(f"{signing_input}.{b64url(mac)}"), resolve)

    assert codes(findings) == ["signature.alg_rejected"]


@pytest.mark.parametrize("alg", ["RS256", "ES256", "HS512", "EdDSA ", "eddsa", None, 7])
def test_reject_other_algs(
    alg: object, key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    compact = sign_token({**HEADER, "alg": alg}, make_credential(), key)

    assert codes(verify_jws(decode_jws(compact), resolve)) == ["signature.alg_rejected"]


def test_accept_alg_ed25519(key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]) -> None:
    compact = sign_token({**HEADER, "alg": "Ed25519"}, make_credential(), key)

    assert verify_jws(decode_jws(compact), resolve) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"typ": "JWT"}, "$.header.typ"),
        ({"typ": None}, "$.header.typ"),
        ({"cty": "json"}, "$.header.cty"),
        ({"cty": "vp"}, "$.header.cty"),
        ({"kid": ""}, "$.header.kid"),
        ({"crit": ["b64"], "b64": False}, "$.header.crit"),
    ],
)
def test_reject_header_fields(
    change: dict[str, Any],
    path: str,
    key: Ed25519KeyPair,
    resolve: Callable[[str], bytes | None],
) -> None:
    header = {name: value for name, value in {**HEADER, **change}.items() if value is not None}
    compact = sign_token(header, make_credential(), key)

    findings = verify_jws(decode_jws(compact), resolve)

    assert codes(findings) == ["envelope.header_invalid"]
    assert findings[0].path == path
    assert findings[0].severity is Severity.ERROR


def test_reject_missing_kid(key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]) -> None:
    header = {name: value for name, value in HEADER.items() if name != "kid"}
    compact = sign_token(header, make_credential(), key)

    findings = verify_jws(decode_jws(compact), resolve)

    assert codes(findings) == ["envelope.header_invalid"]
    assert findings[0].path == "$.header.kid"


def test_accept_missing_cty(key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]) -> None:
    """cty is optional in VC-JOSE-COSE, and only a cty that is present must be vc."""
    header = {name: value for name, value in HEADER.items() if name != "cty"}

    assert verify_jws(decode_jws(sign_token(header, make_credential(), key)), resolve) == []


def test_accept_media_type_spellings(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    header = {**HEADER, "typ": "application/vc+jwt", "cty": "application/vc"}

    assert verify_jws(decode_jws(sign_token(header, make_credential(), key)), resolve) == []


def test_reject_kid_other_did(key: Ed25519KeyPair) -> None:
    """A token whose kid names another DID is rejected before any key is looked up."""
    header = {**HEADER, "kid": "did:web:attacker.example#key-1"}
    compact = sign_token(header, make_credential(), key)
    looked_up: list[str] = []

    def resolve(kid: str) -> bytes | None:
        looked_up.append(kid)
        return key.public_key

    findings = verify_jws(decode_jws(compact), resolve)

    assert codes(findings) == ["signature.kid_mismatch"]
    assert findings[0].path == "$.header.kid"
    assert looked_up == []


def test_reject_kid_not_did(key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]) -> None:
    compact = sign_token({**HEADER, "kid": "key-1"}, make_credential(), key)

    assert codes(verify_jws(decode_jws(compact), resolve)) == ["signature.kid_mismatch"]


def test_reject_payload_without_issuer(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    credential = make_credential()
    del credential["issuer"]
    compact = sign_token(HEADER, credential, key)

    findings = verify_jws(decode_jws(compact), resolve)

    assert codes(findings) == ["signature.kid_mismatch"]
    assert findings[0].path == "$.issuer"
    assert "no issuer" in findings[0].message


def test_reject_key_not_found(key: Ed25519KeyPair) -> None:
    other_key = Ed25519KeyPair.generate()
    document = build_did_web_document(ISSUER, [("key-2", other_key.public_key)])
    compact = sign_token(HEADER, make_credential(), key)

    findings = verify_jws(decode_jws(compact), resolver_for(document))

    assert codes(findings) == ["signature.key_not_found"]
    assert KID in findings[0].message
    assert "assertionMethod" in findings[0].message


def test_reject_resolver_error(key: Ed25519KeyPair) -> None:
    def resolve(kid: str) -> bytes | None:
        raise DIDError(f"DID document of {kid} could not be fetched")

    findings = verify_jws(decode_jws(sign_token(HEADER, make_credential(), key)), resolve)

    assert codes(findings) == ["signature.key_not_found"]
    assert "could not be fetched" in findings[0].message


def test_reject_tampered_payload(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    compact = sign_token(HEADER, make_credential(), key)
    header, _, signature = compact.split(".")
    changed = make_credential()
    changed["credentialSubject"]["name"] = "Another widget"

    findings = verify_jws(decode_jws(f"{header}.{b64url_json(changed)}.{signature}"), resolve)

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$"
    assert findings[0].credential == "https://issuer.example/credentials/dpp-1"


def test_reject_flipped_signature(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    decoded = decode_jws(sign_token(HEADER, make_credential(), key))
    signature = bytearray(decoded.signature)
    signature[10] ^= 0x01
    flipped = DecodedJWS(
        decoded.header, decoded.payload, decoded.signing_input, bytes(signature), decoded.compact
    )

    assert codes(verify_jws(flipped, resolve)) == ["signature.invalid"]


def test_reject_other_signer(resolve: Callable[[str], bytes | None]) -> None:
    impostor = Ed25519KeyPair.generate()
    compact = sign_token(HEADER, make_credential(), impostor)

    assert codes(verify_jws(decode_jws(compact), resolve)) == ["signature.invalid"]


def test_reject_truncated_signature(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    compact = sign_token(HEADER, make_credential(), key)

    findings = verify_jws(decode_jws(compact[:-6]), resolve)

    assert codes(findings) == ["signature.invalid"]
    assert "truncated" in findings[0].message


def test_findings_credential_ref(key: Ed25519KeyPair) -> None:
    compact = sign_token(HEADER, make_credential(), key)

    findings = verify_jws(decode_jws(compact), lambda kid: None, credential_ref="dpp.json")

    assert [finding.credential for finding in findings] == ["dpp.json"]


def test_header_findings_collected(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    header = {**HEADER, "typ": "JWT", "cty": "json"}
    compact = sign_token(header, make_credential(), key)

    findings = verify_jws(decode_jws(compact), resolve)

    assert codes(findings) == ["envelope.header_invalid", "envelope.header_invalid"]


# Decoding errors -------------------------------------------------------------------------------


@pytest.fixture
def compact(key: Ed25519KeyPair) -> str:
    return sign_token(HEADER, make_credential(), key)


def test_decode_truncated_two_parts(compact: str) -> None:
    truncated = compact[: compact.rindex(".")]

    with pytest.raises(EnvelopeError, match="the JWS has 2 parts, expected 3: the token is trunc"):
        decode_jws(truncated)


def test_decode_one_part(compact: str) -> None:
    with pytest.raises(EnvelopeError, match="the JWS has 1 part, expected 3"):
        decode_jws(compact.split(".")[0])


def test_decode_four_parts(compact: str) -> None:
    with pytest.raises(EnvelopeError, match="has 4 parts, expected 3: the token has extra"):
        decode_jws(compact + ".extra")


def test_decode_jwe() -> None:
    with pytest.raises(EnvelopeError, match="encrypted JWE"):
        decode_jws("a.b.c.d.e")


def test_decode_empty() -> None:
    with pytest.raises(EnvelopeError, match="the JWS is empty"):
        decode_jws("")


def test_decode_not_string() -> None:
    with pytest.raises(EnvelopeError, match="must be a string, got bytes"):
        decode_jws(b"a.b.c")  # type: ignore[arg-type]


def test_decode_whitespace(compact: str) -> None:
    with pytest.raises(EnvelopeError, match="whitespace"):
        decode_jws(compact + "\n")


def test_decode_bad_base64_character(compact: str) -> None:
    header, payload, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match="JWS payload is not valid base64url: invalid char"):
        decode_jws(f"{header}.{payload[:5]}+{payload[6:]}.{signature}")


def test_decode_padding_rejected(compact: str) -> None:
    header, payload, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match="padding '=' is not allowed"):
        decode_jws(f"{header}==.{payload}.{signature}")


def test_decode_impossible_length(compact: str) -> None:
    header, payload, signature = compact.split(".")
    cut = payload[: len(payload) - (len(payload) % 4) - 3]

    with pytest.raises(EnvelopeError, match=r"JWS payload .* probably truncated"):
        decode_jws(f"{header}.{cut}.{signature}")


def test_decode_header_not_json(compact: str) -> None:
    _, payload, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match="the JWS header is not valid JSON"):
        decode_jws(f"{b64url(b'not json')}.{payload}.{signature}")


def test_decode_payload_cut_json(compact: str) -> None:
    header, _, signature = compact.split(".")
    cut = b64url(json.dumps(make_credential()).encode()[:40])

    with pytest.raises(EnvelopeError, match="the JWS payload is not valid JSON"):
        decode_jws(f"{header}.{cut}.{signature}")


@pytest.mark.parametrize(
    ("payload", "kind"),
    [([1, 2], "a JSON array"), ("text", "a JSON string"), (None, "JSON null"), (3, "a JSON int")],
)
def test_decode_payload_not_object(payload: Any, kind: str, compact: str) -> None:
    header, _, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match=f"the JWS payload is {kind}, expected a credential"):
        decode_jws(f"{header}.{b64url_json(payload)}.{signature}")


def test_decode_header_not_object(compact: str) -> None:
    _, payload, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match="the JWS header is a JSON array"):
        decode_jws(f"{b64url_json(['EdDSA'])}.{payload}.{signature}")


def test_decode_duplicate_header_member(compact: str) -> None:
    _, payload, signature = compact.split(".")
    header = b64url(b'{"alg":"EdDSA","alg":"none"}')

    with pytest.raises(EnvelopeError, match="duplicate member name 'alg'"):
        decode_jws(f"{header}.{payload}.{signature}")


def test_decode_payload_not_utf8(compact: str) -> None:
    header, _, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match="the JWS payload is not UTF-8"):
        decode_jws(f"{header}.{b64url(bytes([0x7B, 0x22, 0xFF, 0x22, 0x7D]))}.{signature}")


def test_decode_empty_payload(compact: str) -> None:
    header, _, signature = compact.split(".")

    with pytest.raises(EnvelopeError, match="detached payloads are not supported"):
        decode_jws(f"{header}..{signature}")


def test_decode_keeps_parts(compact: str) -> None:
    decoded = decode_jws(compact)
    header, payload, signature = compact.split(".")

    assert decoded.compact == compact
    assert decoded.signing_input == f"{header}.{payload}".encode("ascii")
    assert decoded.signature == b64url_decode(signature)


# Envelopes -------------------------------------------------------------------------------------


def test_is_enveloped_variants(key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)

    assert is_enveloped(envelope)
    assert is_enveloped({**envelope, "type": [ENVELOPED_TYPE]})
    assert not is_enveloped(make_credential())
    assert not is_enveloped({})


def test_envelope_untp_contexts_accepted(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)
    envelope["@context"] = [
        "https://www.w3.org/ns/credentials/v2",
        UNTP_DPP_CONTEXT,
        UNTP_DPP_CONTEXT,
        "https://test.uncefact.org/vocabulary/untp/core/0.6.1/",
    ]

    assert verify_jws(decode_envelope(envelope), resolve) == []


def test_envelope_wrong_type() -> None:
    with pytest.raises(EnvelopeError, match="not an enveloped credential"):
        decode_envelope(make_credential())


def test_envelope_wrong_context(key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)
    envelope["@context"] = ["https://www.w3.org/2018/credentials/v1"]

    with pytest.raises(EnvelopeError, match="'@context' must start with"):
        decode_envelope(envelope)


def test_envelope_missing_context(key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)
    del envelope["@context"]

    with pytest.raises(EnvelopeError, match="'@context' must start with"):
        decode_envelope(envelope)


@pytest.mark.parametrize(
    "data_url",
    ["data:application/vc+sd-jwt,abc", "https://issuer.example/vc.jwt", None, 42],
)
def test_envelope_wrong_id(data_url: Any, key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)
    envelope["id"] = data_url

    with pytest.raises(EnvelopeError, match="must be a data URL starting with"):
        decode_envelope(envelope)


def test_envelope_truncated_token(key: Ed25519KeyPair) -> None:
    envelope = sign_enveloped(make_credential(), key, KID)
    envelope["id"] = envelope["id"][: envelope["id"].rindex(".")]

    with pytest.raises(EnvelopeError, match="the JWS has 2 parts"):
        decode_envelope(envelope)


# Issuer ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        (ISSUER, ISSUER),
        ({"id": ISSUER, "name": "Issuer"}, ISSUER),
        ({"name": "Issuer"}, None),
        (None, None),
        (["did:web:a.example"], None),
    ],
)
def test_credential_issuer(issuer: Any, expected: str | None) -> None:
    assert credential_issuer({"issuer": issuer}) == expected


def test_credential_issuer_missing() -> None:
    assert credential_issuer({}) is None


# JWT claims with a resolved key ----------------------------------------------------------------


def test_reject_iss_other_issuer(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    payload = {**make_credential(), "iss": "did:web:attacker.example"}

    findings = verify_jws(decode_jws(sign_token(HEADER, payload, key)), resolve)

    assert codes(findings) == ["envelope.claim_mismatch"]
    assert findings[0].path == "$.iss"


def test_reject_vc_claim(key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]) -> None:
    payload = {**make_credential(), "vc": make_credential()}

    findings = verify_jws(decode_jws(sign_token(HEADER, payload, key)), resolve)

    assert codes(findings) == ["envelope.claims_invalid"]
    assert findings[0].path == "$.vc"


def test_reject_payload_without_credential_type(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    payload = {**make_credential(), "type": ["DigitalProductPassport"]}

    findings = verify_jws(decode_jws(sign_token(HEADER, payload, key)), resolve)

    assert codes(findings) == ["envelope.payload_invalid"]
    assert findings[0].path == "$.type"


def test_exp_checked_at_given_time(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    payload = {**make_credential(), "exp": int(expires.timestamp())}
    decoded = decode_jws(sign_token(HEADER, payload, key))

    before = verify_jws(decoded, resolve, now=expires - timedelta(seconds=1))
    at_expiry = verify_jws(decoded, resolve, now=expires)

    assert before == []
    assert codes(at_expiry) == ["envelope.expired"]
    assert "2030-01-01T00:00:00Z" in at_expiry[0].message


def test_nbf_checked_at_given_time(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    not_before = datetime(2030, 1, 1, tzinfo=UTC)
    payload = {**make_credential(), "nbf": not_before.timestamp()}
    decoded = decode_jws(sign_token(HEADER, payload, key))

    early = verify_jws(decoded, resolve, now=not_before - timedelta(seconds=1))
    on_time = verify_jws(decoded, resolve, now=not_before)

    assert codes(early) == ["envelope.not_yet_valid"]
    assert on_time == []


def test_sub_with_several_subjects(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    credential = make_credential()
    credential["credentialSubject"] = [
        {"id": "https://id.gs1.org/01/09520123456788"},
        {"id": "https://id.gs1.org/01/09520123456795"},
    ]
    matching = {**credential, "sub": "https://id.gs1.org/01/09520123456795"}
    other = {**credential, "sub": "https://id.gs1.org/01/00000000000000"}

    assert verify_jws(decode_jws(sign_token(HEADER, matching, key)), resolve) == []
    assert codes(verify_jws(decode_jws(sign_token(HEADER, other, key)), resolve)) == [
        "envelope.claim_mismatch"
    ]


def test_presentation_token_as_credential(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    header = {**HEADER, "typ": "vp+jwt", "cty": "vp"}

    findings = verify_jws(decode_jws(sign_token(header, make_credential(), key)), resolve)

    assert codes(findings) == ["envelope.header_invalid", "envelope.header_invalid"]
    assert "verify it as one" in findings[0].message


# Presentations ---------------------------------------------------------------------------------

HOLDER = "did:web:holder.example"
HOLDER_KID = f"{HOLDER}#key-1"


@pytest.fixture
def holder_key() -> EcKeyPair:
    return EcKeyPair.generate(KeyType.P256)


@pytest.fixture
def resolve_both(key: Ed25519KeyPair, holder_key: EcKeyPair) -> Callable[[str], PublicKey | None]:
    documents = {
        ISSUER: build_did_web_document(ISSUER, [("key-1", key.public_key)]),
        HOLDER: build_did_web_document(HOLDER, [("key-1", holder_key.verification_key)]),
    }

    def resolve(kid: str) -> PublicKey | None:
        document = documents.get(did_of(kid))
        return None if document is None else find_public_key(document, kid)

    return resolve


def make_presentation(*credentials: Any, holder: Any = HOLDER) -> dict[str, Any]:
    presentation: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0b9c2f4e-6d8a-4e0f-9a53-4d2e8c1b7a10",
        "type": ["VerifiablePresentation"],
        "verifiableCredential": list(credentials),
    }
    if holder is not None:
        presentation["holder"] = holder
    return presentation


def test_presentation_round_trip(
    key: Ed25519KeyPair,
    holder_key: EcKeyPair,
    resolve_both: Callable[[str], PublicKey | None],
) -> None:
    credential = sign_enveloped(make_credential(), key, KID)
    envelope = sign_enveloped_presentation(make_presentation(credential), holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(envelope, resolve_both)

    assert result.findings == ()
    assert result.verified
    assert result.presentation == make_presentation(credential)
    assert [item.credential for item in result.credentials] == [make_credential()]
    assert result.credentials[0].envelope == credential
    assert result.credentials[0].verified


def test_presentation_envelope_shape(holder_key: EcKeyPair) -> None:
    envelope = sign_enveloped_presentation(make_presentation(), holder_key, HOLDER_KID)
    header = json.loads(b64url_decode(envelope["id"].split(",", 1)[1].split(".")[0]))

    assert envelope["type"] == ENVELOPED_PRESENTATION_TYPE
    assert envelope["id"].startswith("data:application/vp+jwt,")
    assert is_enveloped_presentation(envelope)
    assert not is_enveloped(envelope)
    assert header == {"alg": "ES256", "kid": HOLDER_KID, "typ": "vp+jwt", "cty": "vp"}


def test_presentation_signed_by_other_did(
    key: Ed25519KeyPair, resolve_both: Callable[[str], PublicKey | None]
) -> None:
    """A presentation whose kid is not the holder's is rejected before any lookup."""
    presentation = make_presentation(sign_enveloped(make_credential(), key, KID))
    header = {**HEADER, "typ": "vp+jwt", "cty": "vp"}
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ENVELOPED_PRESENTATION_TYPE,
        "id": "data:application/vp+jwt," + sign_token(header, presentation, key),
    }

    result = verify_enveloped_presentation(envelope, resolve_both)

    assert codes(list(result.findings)) == ["signature.kid_mismatch"]
    assert result.findings[0].path == "$.header.kid"


def test_sign_presentation_other_did(key: Ed25519KeyPair) -> None:
    with pytest.raises(ValueError, match="holder's DID document"):
        sign_enveloped_presentation(make_presentation(), key, KID)


def test_presentation_without_holder(
    key: Ed25519KeyPair, resolve_both: Callable[[str], PublicKey | None]
) -> None:
    presentation = make_presentation(holder=None)
    envelope = sign_enveloped_presentation(presentation, key, KID)

    assert verify_enveloped_presentation(envelope, resolve_both).findings == ()


def test_presentation_holder_key_not_found(key: Ed25519KeyPair, holder_key: EcKeyPair) -> None:
    envelope = sign_enveloped_presentation(make_presentation(), holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(envelope, lambda kid: None)

    assert codes(list(result.findings)) == ["signature.key_not_found"]
    assert "authentication" in result.findings[0].message


def test_presentation_tampered_credential(
    key: Ed25519KeyPair,
    holder_key: EcKeyPair,
    resolve_both: Callable[[str], PublicKey | None],
) -> None:
    credential = sign_enveloped(make_credential(), key, KID)
    header, _, signature = credential["id"].split(",", 1)[1].split(".")
    changed = {**make_credential(), "validFrom": "2020-01-01T00:00:00Z"}
    credential["id"] = f"{DATA_URL_PREFIX}{header}.{b64url_json(changed)}.{signature}"
    envelope = sign_enveloped_presentation(make_presentation(credential), holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(envelope, resolve_both)

    assert not result.verified
    assert codes(list(result.findings)) == ["signature.invalid"]
    assert result.findings[0].credential == "https://issuer.example/credentials/dpp-1"
    assert not result.credentials[0].verified


def test_presentation_skip_credentials(
    key: Ed25519KeyPair,
    holder_key: EcKeyPair,
    resolve_both: Callable[[str], PublicKey | None],
) -> None:
    credential = sign_enveloped(make_credential(), key, KID)
    credential["id"] = credential["id"][:-4] + "AAAA"
    envelope = sign_enveloped_presentation(make_presentation(credential), holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(envelope, resolve_both, verify_credentials=False)

    assert result.findings == ()
    assert result.credentials[0].credential == make_credential()


def test_presentation_single_credential_object(
    key: Ed25519KeyPair,
    holder_key: EcKeyPair,
    resolve_both: Callable[[str], PublicKey | None],
) -> None:
    presentation = make_presentation()
    presentation["verifiableCredential"] = sign_enveloped(make_credential(), key, KID)
    envelope = sign_enveloped_presentation(presentation, holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(envelope, resolve_both)

    assert result.verified
    assert len(result.credentials) == 1


def test_presentation_plain_credential(
    holder_key: EcKeyPair, resolve_both: Callable[[str], PublicKey | None]
) -> None:
    envelope = sign_enveloped_presentation(
        make_presentation(make_credential(), "not a credential"), holder_key, HOLDER_KID
    )

    result = verify_enveloped_presentation(envelope, resolve_both)

    assert codes(list(result.findings)) == [
        "presentation.credential_invalid",
        "presentation.credential_invalid",
    ]
    assert [finding.path for finding in result.findings] == [
        "$.verifiableCredential[0]",
        "$.verifiableCredential[1]",
    ]
    assert [item.credential for item in result.credentials] == [None, None]


@pytest.mark.parametrize(
    ("challenge", "domain", "expected"),
    [
        ("c-123", "verifier.example", []),
        ("c-999", "verifier.example", ["presentation.challenge_mismatch"]),
        ("c-123", "other.example", ["presentation.domain_mismatch"]),
        (None, None, []),
    ],
)
def test_presentation_challenge_domain(
    challenge: str | None,
    domain: str | None,
    expected: list[str],
    holder_key: EcKeyPair,
    resolve_both: Callable[[str], PublicKey | None],
) -> None:
    presentation = {**make_presentation(), "nonce": "c-123", "aud": ["verifier.example"]}
    envelope = sign_enveloped_presentation(presentation, holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(
        envelope, resolve_both, challenge=challenge, domain=domain
    )

    assert codes(list(result.findings)) == expected


def test_presentation_expired(
    holder_key: EcKeyPair, resolve_both: Callable[[str], PublicKey | None]
) -> None:
    presentation = {**make_presentation(), "exp": 1735689600}
    envelope = sign_enveloped_presentation(presentation, holder_key, HOLDER_KID)

    result = verify_enveloped_presentation(
        envelope, resolve_both, now=datetime(2025, 6, 1, tzinfo=UTC)
    )

    assert codes(list(result.findings)) == ["envelope.expired"]


def test_presentation_malformed_envelope(key: Ed25519KeyPair) -> None:
    credential_envelope = sign_enveloped(make_credential(), key, KID)

    result = verify_enveloped_presentation(credential_envelope, lambda kid: None)

    assert codes(list(result.findings)) == ["envelope.malformed"]
    assert result.presentation is None
    with pytest.raises(EnvelopeError, match="not an enveloped presentation"):
        decode_enveloped_presentation(credential_envelope)


def test_presentation_needs_key_source(holder_key: EcKeyPair) -> None:
    envelope = sign_enveloped_presentation(make_presentation(), holder_key, HOLDER_KID)

    with pytest.raises(TypeError, match="resolve_key or presentation_key"):
        verify_enveloped_presentation(envelope, None)


def test_credential_verified_as_presentation(
    key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    decoded = decode_envelope(sign_enveloped(make_credential(), key, KID))

    findings = verify_jws(decoded, resolve, kind="presentation")

    assert codes(findings) == [
        "envelope.header_invalid",
        "envelope.header_invalid",
        "envelope.payload_invalid",
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"alg": ["EdDSA"]}, "signature.alg_rejected"),
        ({"alg": {"name": "EdDSA"}}, "signature.alg_rejected"),
        ({"typ": ["vc+jwt"]}, "envelope.header_invalid"),
        ({"cty": {"type": "vc"}}, "envelope.header_invalid"),
    ],
)
def test_reject_header_values_not_strings(
    change: dict[str, Any], code: str, key: Ed25519KeyPair, resolve: Callable[[str], bytes | None]
) -> None:
    compact = sign_token({**HEADER, **change}, make_credential(), key)

    assert codes(verify_jws(decode_jws(compact), resolve)) == [code]

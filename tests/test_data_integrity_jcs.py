"""eddsa-jcs-2022 Data Integrity proofs: the W3C test vectors, round trips and failures."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from valuetrace.did import (
    Ed25519KeyPair,
    PublicKey,
    did_key_from_public_key,
    verification_key_from_did_key,
)
from valuetrace.did._didkey import base58btc_decode
from valuetrace.errors import DIDError
from valuetrace.findings import Finding, Severity
from valuetrace.vc._dataintegrity import add_proof_eddsa_jcs, verify_data_integrity
from valuetrace.vc._jcs import canonicalize

VECTORS = Path(__file__).parent / "data" / "vc-di" / "vc-di-eddsa"
JCS = VECTORS / "eddsa-jcs-2022"
# Multicodec prefix of an ed25519-priv key (0x1300 as an unsigned varint).
ED25519_PRIVATE_PREFIX = b"\x80\x26"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def vector_key() -> Ed25519KeyPair:
    pair = read_json(VECTORS / "keyPair.json")
    raw = base58btc_decode(pair["privateKeyMultibase"].removeprefix("z"))
    assert raw.startswith(ED25519_PRIVATE_PREFIX)
    key = Ed25519KeyPair.from_private_bytes(raw[len(ED25519_PRIVATE_PREFIX) :])
    assert key.public_multibase == pair["publicKeyMultibase"]
    return key


def did_key_resolver(verification_method: str) -> PublicKey | None:
    """Resolve a did:key verification method offline, as a chain walk would."""
    did, _, fragment = verification_method.partition("#")
    public_key = verification_key_from_did_key(did)
    if fragment != did.removeprefix("did:key:"):
        return None
    return public_key


def fixed_resolver(key: Ed25519KeyPair) -> Callable[[str], PublicKey | None]:
    return lambda verification_method: key.verification_key


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def signed_vector() -> dict[str, Any]:
    document: dict[str, Any] = read_json(JCS / "signedJCS.json")
    return document


CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


# --- official test vectors --------------------------------------------------------------------


def test_vector_canonical_document() -> None:
    unsigned = read_json(VECTORS / "unsigned.json")

    assert canonicalize(unsigned).decode("utf-8") == read_text(JCS / "canonDocJCS.txt")


def test_vector_canonical_proof_config() -> None:
    config = read_json(JCS / "proofConfigJCS.json")

    assert canonicalize(config).decode("utf-8") == read_text(JCS / "proofCanonJCS.txt")


def test_vector_hashes() -> None:
    document_hash = hashlib.sha256(canonicalize(read_json(VECTORS / "unsigned.json"))).digest()
    proof_hash = hashlib.sha256(canonicalize(read_json(JCS / "proofConfigJCS.json"))).digest()

    assert document_hash.hex() == read_text(JCS / "docHashJCS.txt")
    assert proof_hash.hex() == read_text(JCS / "proofHashJCS.txt")
    assert (proof_hash + document_hash).hex() == read_text(JCS / "combinedHashJCS.txt")


def test_vector_proof_value(vector_key: Ed25519KeyPair) -> None:
    unsigned = read_json(VECTORS / "unsigned.json")
    method = read_json(JCS / "proofConfigJCS.json")["verificationMethod"]

    signed = add_proof_eddsa_jcs(unsigned, vector_key, method, created=CREATED)

    proof_value = signed["proof"]["proofValue"]
    assert proof_value == read_text(JCS / "sigBTC58JCS.txt")
    assert base58btc_decode(proof_value[1:]).hex() == read_text(JCS / "sigHexJCS.txt")


def test_vector_signed_document(vector_key: Ed25519KeyPair) -> None:
    unsigned = read_json(VECTORS / "unsigned.json")
    method = read_json(JCS / "proofConfigJCS.json")["verificationMethod"]

    signed = add_proof_eddsa_jcs(unsigned, vector_key, method, created=CREATED)

    assert signed == signed_vector()
    assert "proof" not in unsigned


def test_vector_verifies() -> None:
    assert verify_data_integrity(signed_vector(), did_key_resolver) == []


def test_ed25519_signature_2020_unsupported() -> None:
    document = read_json(VECTORS / "Ed25519Signature2020" / "signedEdSig.json")

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.unsupported"]
    assert findings[0].path == "$.proof.type"
    assert findings[0].severity is Severity.ERROR


# --- round trip ---------------------------------------------------------------------------------


def sample_credential() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/",
        ],
        "id": "urn:uuid:7c1a6a52-6a1d-4f0e-9b1c-1e3f0d5f2a11",
        "type": ["VerifiableCredential", "DigitalProductPassport"],
        "issuer": {"id": "did:example:issuer", "name": "Example Batteries AG, Zürich"},
        "validFrom": "2024-03-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://id.example/01/09520123456788",
            "mass": 12.5,
            "count": 3,
        },
    }


def test_round_trip_did_key() -> None:
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    method = f"{did}#{did.removeprefix('did:key:')}"

    signed = add_proof_eddsa_jcs(sample_credential(), key, method, created=datetime.now(UTC))

    assert verify_data_integrity(signed, did_key_resolver) == []
    assert signed["proof"]["proofValue"].startswith("z")
    assert signed["proof"]["@context"] == sample_credential()["@context"]


def test_round_trip_via_json_text() -> None:
    key = Ed25519KeyPair.generate()
    signed = add_proof_eddsa_jcs(
        sample_credential(), key, "did:example:issuer#key-1", created=CREATED
    )

    reparsed = json.loads(json.dumps(signed, indent=3, ensure_ascii=True))

    assert verify_data_integrity(reparsed, fixed_resolver(key)) == []


def test_created_converted_to_utc() -> None:
    key = Ed25519KeyPair.generate()
    created = datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=2)))

    signed = add_proof_eddsa_jcs(
        sample_credential(), key, "did:example:issuer#key-1", created=created
    )

    assert signed["proof"]["created"] == "2024-01-02T01:04:05.600000Z"
    assert verify_data_integrity(signed, fixed_resolver(key)) == []


def test_proof_set_round_trip() -> None:
    first, second = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    keys = {"did:example:a#1": first.verification_key, "did:example:b#1": second.verification_key}

    once = add_proof_eddsa_jcs(sample_credential(), first, "did:example:a#1", created=CREATED)
    twice = add_proof_eddsa_jcs(once, second, "did:example:b#1", created=CREATED)

    assert isinstance(twice["proof"], list)
    assert len(twice["proof"]) == 2
    assert verify_data_integrity(twice, keys.get) == []


def test_proof_set_one_bad() -> None:
    first, second = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    keys = {"did:example:a#1": first.verification_key, "did:example:b#1": first.verification_key}
    once = add_proof_eddsa_jcs(sample_credential(), first, "did:example:a#1", created=CREATED)
    twice = add_proof_eddsa_jcs(once, second, "did:example:b#1", created=CREATED)

    findings = verify_data_integrity(twice, keys.get)

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$.proof[1].proofValue"


def test_document_without_context() -> None:
    key = Ed25519KeyPair.generate()
    document = {"id": "urn:example:1", "value": [1, 2.5, "three"]}

    signed = add_proof_eddsa_jcs(document, key, "did:example:issuer#key-1", created=CREATED)

    assert "@context" not in signed["proof"]
    assert verify_data_integrity(signed, fixed_resolver(key)) == []


# --- failures -------------------------------------------------------------------------------------


def test_changed_document() -> None:
    document = signed_vector()
    document["credentialSubject"]["alumniOf"] = "Another School"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].credential == "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"
    assert findings[0].path == "$.proof.proofValue"


def test_added_member() -> None:
    document = signed_vector()
    document["validUntil"] = "2030-01-01T00:00:00Z"

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["signature.invalid"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("created", "2023-02-24T23:36:39Z"),
        ("id", "urn:uuid:00000000-0000-0000-0000-000000000000"),
        ("nonce", "abc"),
    ],
)
def test_changed_proof_options(name: str, value: str) -> None:
    document = signed_vector()
    document["proof"][name] = value

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["signature.invalid"]


def test_changed_verification_method() -> None:
    other = Ed25519KeyPair.generate()
    did = did_key_from_public_key(other.public_key)
    document = signed_vector()
    document["proof"]["verificationMethod"] = f"{did}#{did.removeprefix('did:key:')}"

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["signature.invalid"]


def test_wrong_key() -> None:
    findings = verify_data_integrity(signed_vector(), fixed_resolver(Ed25519KeyPair.generate()))

    assert codes(findings) == ["signature.invalid"]
    assert "signed with another key" in findings[0].message


def test_key_not_found() -> None:
    findings = verify_data_integrity(signed_vector(), lambda method: None)

    assert codes(findings) == ["signature.key_not_found"]
    assert findings[0].path == "$.proof.verificationMethod"


def test_resolver_error_is_finding() -> None:
    def failing(method: str) -> bytes | None:
        raise DIDError(f"cannot resolve {method}")

    findings = verify_data_integrity(signed_vector(), failing, credential_ref="alumni.json")

    assert codes(findings) == ["signature.key_not_found"]
    assert "cannot resolve did:key:" in findings[0].message
    assert findings[0].credential == "alumni.json"


def test_context_mismatch() -> None:
    document = signed_vector()
    document["@context"] = [document["@context"][0], "https://example.org/other/v1"]

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.invalid"]
    assert findings[0].path == "$.proof['@context']"


def test_context_order_matters() -> None:
    document = signed_vector()
    document["@context"] = list(reversed(document["@context"]))

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["proof.invalid"]


def test_context_extended_by_document() -> None:
    # The spec lets the document's @context add entries after the proof's, and then verifies
    # over the proof's @context, so the signature still holds.
    document = signed_vector()
    document["@context"] = [*document["@context"], "https://example.org/extra/v1"]

    assert verify_data_integrity(document, did_key_resolver) == []


def test_proof_context_changed() -> None:
    document = signed_vector()
    document["proof"]["@context"] = document["proof"]["@context"][:1]

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["signature.invalid"]


def test_unknown_cryptosuite() -> None:
    document = signed_vector()
    document["proof"]["cryptosuite"] = "ecdsa-jcs-2019"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.unsupported"]
    assert "'ecdsa-jcs-2019'" in findings[0].message


def test_unknown_proof_type() -> None:
    document = signed_vector()
    document["proof"]["type"] = "Ed25519Signature2018"

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["proof.unsupported"]


def test_previous_proof_not_in_set() -> None:
    document = signed_vector()
    document["proof"]["previousProof"] = "urn:uuid:1"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.invalid"]
    assert findings[0].path == "$.proof.previousProof"


def test_missing_proof() -> None:
    findings = verify_data_integrity(read_json(VECTORS / "unsigned.json"), did_key_resolver)

    assert codes(findings) == ["proof.missing"]


@pytest.mark.parametrize("proof", ["z123", 7, []])
def test_malformed_proof(proof: object) -> None:
    document = signed_vector()
    document["proof"] = proof

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["proof.invalid"]


@pytest.mark.parametrize("name", ["verificationMethod", "proofPurpose", "proofValue"])
def test_missing_proof_member(name: str) -> None:
    document = signed_vector()
    del document["proof"][name]

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.invalid"]
    assert findings[0].path == f"$.proof.{name}"


def test_other_proof_purpose() -> None:
    document = signed_vector()

    findings = verify_data_integrity(document, did_key_resolver, proof_purpose="authentication")

    assert codes(findings) == ["proof.invalid"]
    assert findings[0].path == "$.proof.proofPurpose"


@pytest.mark.parametrize(
    ("proof_value", "code"),
    [
        ("u" + "A" * 86, "proof.invalid"),
        ("z0OIl", "proof.invalid"),
        ("z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJD", "signature.invalid"),
    ],
)
def test_bad_proof_value(proof_value: str, code: str) -> None:
    document = signed_vector()
    document["proof"]["proofValue"] = proof_value

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == [code]
    assert findings[0].path == "$.proof.proofValue"


@pytest.mark.parametrize("created", ["yesterday", "2023-02-24T23:36:38", "2023-02-24"])
def test_invalid_created(created: str) -> None:
    document = signed_vector()
    document["proof"]["created"] = created

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.invalid"]
    assert findings[0].path == "$.proof.created"


def test_expired_proof() -> None:
    key = Ed25519KeyPair.generate()
    signed = add_proof_eddsa_jcs(
        sample_credential(), key, "did:example:issuer#key-1", created=CREATED
    )
    now = datetime.now(UTC)
    # Expiry is checked before the signature, so setting it after signing is enough here.
    document = copy.deepcopy(signed)
    document["proof"]["expires"] = (now - timedelta(seconds=1)).isoformat()

    findings = verify_data_integrity(document, fixed_resolver(key), now=now)

    assert codes(findings) == ["proof.expired"]


def test_expires_in_future_checked_by_signature() -> None:
    document = signed_vector()
    document["proof"]["expires"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    # The expiry was not part of the signed options, so the signature fails.
    assert codes(verify_data_integrity(document, did_key_resolver)) == ["signature.invalid"]


def test_nan_in_document() -> None:
    document = signed_vector()
    document["credentialSubject"]["score"] = float("nan")

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.invalid"]
    assert "RFC 8785" in findings[0].message


# --- misuse ---------------------------------------------------------------------------------------


def test_naive_created_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_proof_eddsa_jcs(
            sample_credential(),
            Ed25519KeyPair.generate(),
            "did:example:a#1",
            created=datetime(2024, 1, 1),
        )


def test_empty_method_rejected() -> None:
    with pytest.raises(ValueError, match="verification_method"):
        add_proof_eddsa_jcs(sample_credential(), Ed25519KeyPair.generate(), "", created=CREATED)


def test_verify_non_mapping_rejected() -> None:
    with pytest.raises(TypeError, match="JSON object"):
        verify_data_integrity([], did_key_resolver)  # type: ignore[arg-type]

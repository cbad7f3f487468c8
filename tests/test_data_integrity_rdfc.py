"""eddsa-rdfc-2022 and ecdsa-rdfc-2019 Data Integrity proofs: W3C vectors, round trips, failures."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from valuetrace.did import (
    EcKeyPair,
    Ed25519KeyPair,
    KeyType,
    PublicKey,
    verification_key_from_did_key,
)
from valuetrace.did._didkey import base58btc_decode
from valuetrace.findings import Finding, Severity
from valuetrace.jsonld import (
    CanonicalizationError,
    JsonLdError,
    canonicalize_jsonld,
    register_context,
)
from valuetrace.vc._cryptosuites import CRYPTOSUITES, hash_data
from valuetrace.vc._dataintegrity import add_proof, verify_data_integrity

VC_DI = Path(__file__).parent / "data" / "vc-di"
EDDSA = VC_DI / "vc-di-eddsa"
ECDSA = VC_DI / "vc-di-ecdsa"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
CITIZENSHIP_CONTEXT = "https://w3id.org/citizenship/v4rc1"
UNTP_DPP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/"
# Multicodec prefix of an ed25519-priv key (0x1300 as an unsigned varint).
ED25519_PRIVATE_PREFIX = b"\x80\x26"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


register_context(
    CITIZENSHIP_CONTEXT, read_json(VC_DI / "contexts" / "w3id.org_citizenship_v4rc1.jsonld")
)


@dataclass(frozen=True)
class Vector:
    """One W3C test vector set: where its files are and how they are named."""

    folder: Path
    suffix: str
    unsigned: Path
    key_type: KeyType

    def file(self, stem: str) -> Path:
        extension = ".json" if stem in ("proofConfig", "signed") else ".txt"
        return self.folder / f"{stem}{self.suffix}{extension}"

    @property
    def hash_algorithm(self) -> str:
        return "sha384" if self.key_type is KeyType.P384 else "sha256"


VECTORS = {
    "eddsa-rdfc-2022": Vector(
        EDDSA / "eddsa-rdfc-2022", "DataInt", EDDSA / "unsigned.json", KeyType.ED25519
    ),
    "eddsa-rdfc-2022-employ": Vector(
        EDDSA / "eddsa-rdfc-2022" / "employ",
        "DataInt",
        EDDSA / "employmentAuth.json",
        KeyType.ED25519,
    ),
    "ecdsa-rdfc-2019-p256": Vector(
        ECDSA / "ecdsa-rdfc-2019-p256", "ECDSAP256", ECDSA / "unsigned.json", KeyType.P256
    ),
    "ecdsa-rdfc-2019-p256-employ": Vector(
        ECDSA / "ecdsa-rdfc-2019-p256" / "employ",
        "ECDSAP256",
        ECDSA / "employmentAuth.json",
        KeyType.P256,
    ),
    "ecdsa-rdfc-2019-p384": Vector(
        ECDSA / "ecdsa-rdfc-2019-p384", "ECDSAP384", ECDSA / "unsigned.json", KeyType.P384
    ),
    "ecdsa-rdfc-2019-p384-employ": Vector(
        ECDSA / "ecdsa-rdfc-2019-p384" / "employ",
        "ECDSAP384",
        ECDSA / "employmentAuth.json",
        KeyType.P384,
    ),
}
EDDSA_VECTORS = [name for name in VECTORS if name.startswith("eddsa")]
ECDSA_VECTORS = [name for name in VECTORS if name.startswith("ecdsa")]


def did_key_resolver(verification_method: str) -> PublicKey | None:
    """Resolve a did:key verification method offline, as a chain walk would."""
    did, _, fragment = verification_method.partition("#")
    if fragment != did.removeprefix("did:key:"):
        return None
    return verification_key_from_did_key(did)


def fixed_resolver(key: PublicKey) -> Callable[[str], PublicKey | None]:
    return lambda verification_method: key


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def eddsa_vector_key() -> Ed25519KeyPair:
    pair = read_json(EDDSA / "keyPair.json")
    raw = base58btc_decode(pair["privateKeyMultibase"].removeprefix("z"))
    assert raw.startswith(ED25519_PRIVATE_PREFIX)
    key = Ed25519KeyPair.from_private_bytes(raw[len(ED25519_PRIVATE_PREFIX) :])
    assert key.public_multibase == pair["publicKeyMultibase"]
    return key


def ecdsa_vector_key(key_type: KeyType) -> EcKeyPair:
    name = "p256KeyPair.json" if key_type is KeyType.P256 else "p384KeyPair.json"
    pair = read_json(ECDSA / name)
    key = EcKeyPair.from_private_multibase(pair["secretKeyMultibase"])
    assert key.public_multibase == pair["publicKeyMultibase"]
    return key


# --- official test vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("name", VECTORS)
def test_vector_canonical_document(name: str) -> None:
    vector = VECTORS[name]

    canonical = canonicalize_jsonld(
        read_json(vector.unsigned),
        hash_algorithm=vector.hash_algorithm,  # type: ignore[arg-type]
    )

    assert canonical == read_text(vector.file("canonDoc"))


@pytest.mark.parametrize("name", VECTORS)
def test_vector_canonical_proof_config(name: str) -> None:
    vector = VECTORS[name]

    canonical = canonicalize_jsonld(
        read_json(vector.file("proofConfig")),
        hash_algorithm=vector.hash_algorithm,  # type: ignore[arg-type]
    )

    assert canonical == read_text(vector.file("proofCanon"))


@pytest.mark.parametrize("name", VECTORS)
def test_vector_hashes(name: str) -> None:
    vector = VECTORS[name]
    digest = hashlib.sha384 if vector.key_type is KeyType.P384 else hashlib.sha256
    config = read_json(vector.file("proofConfig"))
    suite = CRYPTOSUITES[config["cryptosuite"]]

    combined = hash_data(suite, read_json(vector.unsigned), config, vector.key_type)

    document_hash = digest(read_text(vector.file("canonDoc")).encode()).hexdigest()
    proof_hash = digest(read_text(vector.file("proofCanon")).encode()).hexdigest()
    assert document_hash == read_text(vector.file("docHash")).strip()
    assert proof_hash == read_text(vector.file("proofHash")).strip()
    assert combined.hex() == read_text(vector.file("combinedHash")).strip()


@pytest.mark.parametrize("name", VECTORS)
def test_vector_signed_document_verifies(name: str) -> None:
    signed = read_json(VECTORS[name].file("signed"))

    assert verify_data_integrity(signed, did_key_resolver) == []


@pytest.mark.parametrize("name", VECTORS)
def test_vector_signature_is_proof_value(name: str) -> None:
    vector = VECTORS[name]
    proof_value = read_json(vector.file("signed"))["proof"]["proofValue"]

    assert proof_value == read_text(vector.file("sigBTC58")).strip()
    assert base58btc_decode(proof_value[1:]).hex() == read_text(vector.file("sigHex")).strip()


@pytest.mark.parametrize("name", EDDSA_VECTORS)
def test_eddsa_vector_proof_value_reproduced(name: str) -> None:
    vector = VECTORS[name]
    config = read_json(vector.file("proofConfig"))

    signed = add_proof(
        read_json(vector.unsigned),
        eddsa_vector_key(),
        config["verificationMethod"],
        cryptosuite="eddsa-rdfc-2022",
        created=CREATED,
    )

    assert signed["proof"]["proofValue"] == read_text(vector.file("sigBTC58")).strip()
    assert signed == read_json(vector.file("signed"))


@pytest.mark.parametrize("name", ECDSA_VECTORS)
def test_ecdsa_own_signature_verifies(name: str) -> None:
    # ECDSA signatures are randomized, so the vector's proofValue cannot be reproduced.
    vector = VECTORS[name]
    config = read_json(vector.file("proofConfig"))
    key = ecdsa_vector_key(vector.key_type)

    signed = add_proof(
        read_json(vector.unsigned),
        key,
        config["verificationMethod"],
        cryptosuite="ecdsa-rdfc-2019",
        created=CREATED,
    )

    expected = read_json(vector.file("signed"))
    assert signed["proof"]["proofValue"] != expected["proof"]["proofValue"]
    assert {**signed["proof"], "proofValue": ""} == {**expected["proof"], "proofValue": ""}
    signature = base58btc_decode(signed["proof"]["proofValue"][1:])
    assert len(signature) == key.verification_key.signature_length
    combined = bytes.fromhex(read_text(vector.file("combinedHash")).strip())
    assert key.verification_key.verify(signature, combined)
    assert verify_data_integrity(signed, did_key_resolver) == []


@pytest.mark.parametrize("name", ["signedProofSet1.json", "signedProofSet2.json"])
def test_vector_proof_set_verifies(name: str) -> None:
    document = read_json(EDDSA / "proof-set-chain" / name)

    assert verify_data_integrity(document, did_key_resolver) == []


@pytest.mark.parametrize("name", ["signedProofChain1.json", "signedProofChain2.json"])
def test_vector_proof_chain_verifies(name: str) -> None:
    document = read_json(EDDSA / "proof-set-chain" / name)

    assert verify_data_integrity(document, did_key_resolver) == []


def test_vector_proof_chain_previous_tampered() -> None:
    """Changing a proof that a chained proof follows breaks both of them."""
    document = read_json(EDDSA / "proof-set-chain" / "signedProofChain1.json")
    chained = [i for i, proof in enumerate(document["proof"]) if "previousProof" in proof]
    assert chained
    followed = document["proof"][chained[0]]["previousProof"]
    first_followed = followed if isinstance(followed, str) else followed[0]
    target = next(
        i for i, proof in enumerate(document["proof"]) if proof.get("id") == first_followed
    )
    document["proof"][target]["created"] = "2024-01-01T00:00:00Z"

    findings = verify_data_integrity(document, did_key_resolver)

    assert {f.path for f in findings if f.code == "signature.invalid"} == {
        f"$.proof[{target}].proofValue",
        f"$.proof[{chained[0]}].proofValue",
    }


def test_vector_proof_chain_missing_previous() -> None:
    document = read_json(EDDSA / "proof-set-chain" / "signedProofChain1.json")
    chained = next(i for i, proof in enumerate(document["proof"]) if "previousProof" in proof)
    document["proof"][chained]["previousProof"] = "urn:uuid:not-in-the-set"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.invalid"]
    assert findings[0].path == f"$.proof[{chained}].previousProof"


def test_vector_proof_set_one_proof_tampered() -> None:
    document = read_json(EDDSA / "proof-set-chain" / "signedProofSet2.json")
    document["proof"][1]["created"] = "2024-01-01T00:00:00Z"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$.proof[1].proofValue"


def test_p384_canonicalizes_with_sha384() -> None:
    # The employ document has blank nodes, so RDFC-1.0 labels them by hash: the SHA-384 and
    # SHA-256 forms differ, and only the SHA-384 form matches the P-384 vector.
    vector = VECTORS["ecdsa-rdfc-2019-p384-employ"]
    document = read_json(vector.unsigned)

    assert canonicalize_jsonld(document, hash_algorithm="sha384") == read_text(
        vector.file("canonDoc")
    )
    assert canonicalize_jsonld(document, hash_algorithm="sha256") != read_text(
        vector.file("canonDoc")
    )


# --- round trips ---------------------------------------------------------------------------------


def untp_credential() -> dict[str, Any]:
    return {
        "@context": [VC_V2, UNTP_DPP_CONTEXT],
        "id": "urn:uuid:7c1a6a52-6a1d-4f0e-9b1c-1e3f0d5f2a11",
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": "did:web:issuer.example",
            "name": "Example Batteries AG, Zürich",
        },
        "validFrom": "2024-03-01T00:00:00Z",
        "credentialSubject": {
            "type": ["ProductPassport"],
            "id": "https://id.example/01/09520123456788",
            "product": {
                "type": ["Product"],
                "id": "https://id.example/01/09520123456788/10/LOT-1",
                "name": 'Battery "Model" 12\\V',
                "batchNumber": "LOT-1",
            },
        },
    }


SIGNERS: dict[str, Callable[[], Ed25519KeyPair | EcKeyPair]] = {
    "eddsa-rdfc-2022": Ed25519KeyPair.generate,
    "ecdsa-rdfc-2019-p256": lambda: EcKeyPair.generate(KeyType.P256),
    "ecdsa-rdfc-2019-p384": lambda: EcKeyPair.generate(KeyType.P384),
}


def suite_of(signer: str) -> str:
    return signer.rsplit("-", 1)[0] if signer.startswith("ecdsa") else signer


@pytest.mark.parametrize("signer", SIGNERS)
def test_round_trip_untp_credential(signer: str) -> None:
    key = SIGNERS[signer]()

    signed = add_proof(
        untp_credential(),
        key,
        "did:web:issuer.example#key-1",
        cryptosuite=suite_of(signer),
        created=CREATED,
    )

    assert "@context" not in signed["proof"]
    assert verify_data_integrity(signed, fixed_resolver(key.verification_key)) == []


@pytest.mark.parametrize("signer", SIGNERS)
def test_round_trip_via_json_text(signer: str) -> None:
    key = SIGNERS[signer]()
    signed = add_proof(
        untp_credential(), key, "did:example:a#1", cryptosuite=suite_of(signer), created=CREATED
    )

    reparsed = json.loads(json.dumps(signed, indent=1, ensure_ascii=True))

    assert verify_data_integrity(reparsed, fixed_resolver(key.verification_key)) == []


def test_round_trip_key_order_irrelevant() -> None:
    key = Ed25519KeyPair.generate()
    signed = add_proof(
        untp_credential(), key, "did:example:a#1", cryptosuite="eddsa-rdfc-2022", created=CREATED
    )

    reordered = dict(reversed(list(signed.items())))
    reordered["credentialSubject"] = dict(reversed(list(signed["credentialSubject"].items())))

    assert verify_data_integrity(reordered, fixed_resolver(key.verification_key)) == []


def test_mixed_proof_set() -> None:
    ed_key, p256_key = Ed25519KeyPair.generate(), EcKeyPair.generate(KeyType.P256)
    keys = {
        "did:example:a#1": ed_key.verification_key,
        "did:example:b#1": p256_key.verification_key,
    }

    once = add_proof(
        untp_credential(), ed_key, "did:example:a#1", cryptosuite="eddsa-jcs-2022", created=CREATED
    )
    twice = add_proof(
        once, p256_key, "did:example:b#1", cryptosuite="ecdsa-rdfc-2019", created=CREATED
    )
    thrice = add_proof(
        twice, ed_key, "did:example:a#1", cryptosuite="eddsa-rdfc-2022", created=CREATED
    )

    assert [proof["cryptosuite"] for proof in thrice["proof"]] == [
        "eddsa-jcs-2022",
        "ecdsa-rdfc-2019",
        "eddsa-rdfc-2022",
    ]
    assert verify_data_integrity(thrice, keys.get) == []


# --- failures -------------------------------------------------------------------------------------


def signed_eddsa() -> dict[str, Any]:
    document: dict[str, Any] = read_json(VECTORS["eddsa-rdfc-2022"].file("signed"))
    return document


def signed_p256() -> dict[str, Any]:
    document: dict[str, Any] = read_json(VECTORS["ecdsa-rdfc-2019-p256-employ"].file("signed"))
    return document


SIGNED = {"eddsa": signed_eddsa, "ecdsa": signed_p256}


@pytest.mark.parametrize("kind", SIGNED)
def test_tampered_document(kind: str) -> None:
    document = SIGNED[kind]()
    document["validFrom"] = "2020-01-01T00:00:00Z"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$.proof.proofValue"
    assert "changed after signing" in findings[0].message


@pytest.mark.parametrize("kind", SIGNED)
def test_tampered_nested_value(kind: str) -> None:
    document = SIGNED[kind]()
    subject = document["credentialSubject"]
    key = "alumniOf" if "alumniOf" in subject else "givenName"
    subject[key] = subject[key] + "."

    assert codes(verify_data_integrity(document, did_key_resolver)) == ["signature.invalid"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("created", "2023-02-24T23:36:39Z"),
        ("id", "urn:uuid:00000000-0000-0000-0000-000000000000"),
        ("nonce", "abc"),
        ("domain", "verifier.example"),
    ],
)
@pytest.mark.parametrize("kind", SIGNED)
def test_tampered_proof_options(kind: str, name: str, value: str) -> None:
    document = SIGNED[kind]()
    document["proof"][name] = value

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$.proof.proofValue"


@pytest.mark.parametrize("kind", SIGNED)
def test_tampered_proof_purpose(kind: str) -> None:
    document = SIGNED[kind]()
    document["proof"]["proofPurpose"] = "authentication"

    findings = verify_data_integrity(document, did_key_resolver, proof_purpose="authentication")

    assert codes(findings) == ["signature.invalid"]


@pytest.mark.parametrize(
    ("kind", "other"),
    [
        ("eddsa", Ed25519KeyPair.generate),
        ("ecdsa", lambda: EcKeyPair.generate(KeyType.P256)),
    ],
)
def test_wrong_key(kind: str, other: Callable[[], Ed25519KeyPair | EcKeyPair]) -> None:
    findings = verify_data_integrity(SIGNED[kind](), fixed_resolver(other().verification_key))

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$.proof.proofValue"


@pytest.mark.parametrize(
    ("kind", "other"),
    [
        ("eddsa", lambda: EcKeyPair.generate(KeyType.P256)),
        ("ecdsa", Ed25519KeyPair.generate),
    ],
)
def test_wrong_key_type(kind: str, other: Callable[[], Ed25519KeyPair | EcKeyPair]) -> None:
    findings = verify_data_integrity(SIGNED[kind](), fixed_resolver(other().verification_key))

    assert codes(findings) == ["signature.invalid"]
    assert findings[0].path == "$.proof.verificationMethod"
    assert "keys" in findings[0].message


def test_p384_key_for_p256_proof() -> None:
    key = EcKeyPair.generate(KeyType.P384)

    findings = verify_data_integrity(signed_p256(), fixed_resolver(key.verification_key))

    assert codes(findings) == ["signature.invalid"]
    assert "96 bytes" in findings[0].message


@pytest.mark.parametrize(
    ("kind", "cryptosuite"),
    [("eddsa", "ecdsa-rdfc-2019"), ("ecdsa", "eddsa-rdfc-2022"), ("eddsa", "eddsa-jcs-2022")],
)
def test_wrong_cryptosuite(kind: str, cryptosuite: str) -> None:
    document = SIGNED[kind]()
    document["proof"]["cryptosuite"] = cryptosuite

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["signature.invalid"]


def test_unknown_cryptosuite() -> None:
    document = signed_eddsa()
    document["proof"]["cryptosuite"] = "bbs-2023"

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["proof.unsupported"]
    assert findings[0].path == "$.proof.cryptosuite"


@pytest.mark.parametrize("kind", SIGNED)
def test_undefined_term_fails_verification(kind: str) -> None:
    # The example context maps every term with @vocab, so drop it to make terms undefined.
    document = SIGNED[kind]()
    document["@context"] = [VC_V2]
    document["credentialSubject"]["undefinedClaim"] = "added after signing"

    findings = verify_data_integrity(document, did_key_resolver)

    assert "jsonld.undefined_term" in codes(findings)
    assert all(finding.severity is Severity.ERROR for finding in findings)
    assert "$.credentialSubject.undefinedClaim" in [finding.path for finding in findings]


def test_undefined_term_not_in_signed_rdf() -> None:
    # Without the safe-mode check the proof would hold, because JSON-LD drops the term.
    key = Ed25519KeyPair.generate()
    document = untp_credential()
    signed = add_proof(
        document, key, "did:example:a#1", cryptosuite="eddsa-rdfc-2022", created=CREATED
    )
    changed = copy.deepcopy(signed)
    changed["credentialSubject"]["product"]["inventedTerm"] = "not signed"

    from pyld import jsonld

    from valuetrace.jsonld import pyld_document_loader

    options = {"documentLoader": pyld_document_loader, "format": "application/n-quads"}
    unsecured = {name: value for name, value in changed.items() if name != "proof"}
    assert jsonld.to_rdf(copy.deepcopy(unsecured), options) == jsonld.to_rdf(
        copy.deepcopy(document), options
    )

    findings = verify_data_integrity(changed, fixed_resolver(key.verification_key))

    assert codes(findings) == ["jsonld.undefined_term"]
    assert findings[0].path == "$.credentialSubject.product.inventedTerm"
    assert findings[0].message.startswith("the proof cannot be verified")


def test_undefined_proof_option_fails_verification() -> None:
    key = Ed25519KeyPair.generate()
    document = add_proof(
        untp_credential(), key, "did:example:a#1", cryptosuite="eddsa-rdfc-2022", created=CREATED
    )
    document["proof"]["inventedOption"] = "x"

    findings = verify_data_integrity(document, fixed_resolver(key.verification_key))

    assert codes(findings) == ["jsonld.undefined_term"]
    assert findings[0].path == "$.proof.inventedOption"


def test_unknown_context_fails_verification() -> None:
    document = signed_eddsa()
    document["@context"] = [VC_V2, "https://contexts.example/unregistered/v1"]

    findings = verify_data_integrity(document, did_key_resolver)

    assert codes(findings) == ["jsonld.context_unavailable"]
    assert "https://contexts.example/unregistered/v1" in findings[0].message


def test_relative_identifier_fails_verification() -> None:
    key = Ed25519KeyPair.generate()
    document = untp_credential()
    signed = add_proof(
        document, key, "did:example:a#1", cryptosuite="eddsa-rdfc-2022", created=CREATED
    )
    signed["credentialSubject"]["product"]["id"] = "products/1"

    findings = verify_data_integrity(signed, fixed_resolver(key.verification_key))

    assert codes(findings) == ["jsonld.relative_iri"]
    assert findings[0].path == "$.credentialSubject.product.id"


def test_poison_document_stopped_at_time_limit() -> None:
    # Ten blank nodes that all link to each other, like the rdf-canon "clique" test.
    members = [
        {"id": f"_:n{index}", "knows": [{"id": f"_:n{other}"} for other in range(10)]}
        for index in range(10)
    ]
    document = {
        "@context": [VC_V2, {"knows": "urn:example:knows"}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": members,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": "did:example:issuer#1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "1" * 64,
        },
    }
    key = Ed25519KeyPair.generate()

    findings = verify_data_integrity(
        document, fixed_resolver(key.verification_key), canonicalization_time_limit=0.5
    )

    assert codes(findings) == ["rdfc.time_limit"]
    assert "time limit of 0.5 s" in findings[0].message


def test_poison_document_not_signed() -> None:
    members = [
        {"id": f"_:n{index}", "knows": [{"id": f"_:n{other}"} for other in range(10)]}
        for index in range(10)
    ]
    document = {
        "@context": [VC_V2, {"knows": "urn:example:knows"}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": members,
    }

    with pytest.raises(CanonicalizationError) as raised:
        add_proof(
            document,
            Ed25519KeyPair.generate(),
            "did:example:issuer#1",
            cryptosuite="eddsa-rdfc-2022",
            created=CREATED,
            canonicalization_time_limit=0.5,
        )

    assert raised.value.code == "rdfc.time_limit"


# --- misuse ---------------------------------------------------------------------------------------


def test_sign_undefined_term_rejected() -> None:
    document = untp_credential()
    document["credentialSubject"]["inventedTerm"] = "x"

    with pytest.raises(JsonLdError) as raised:
        add_proof(
            document,
            Ed25519KeyPair.generate(),
            "did:example:a#1",
            cryptosuite="eddsa-rdfc-2022",
            created=CREATED,
        )

    assert raised.value.code == "jsonld.undefined_term"
    assert raised.value.path == "$.credentialSubject.inventedTerm"


@pytest.mark.parametrize(
    ("cryptosuite", "key"),
    [
        ("eddsa-rdfc-2022", lambda: EcKeyPair.generate(KeyType.P256)),
        ("ecdsa-rdfc-2019", Ed25519KeyPair.generate),
        ("eddsa-jcs-2022", lambda: EcKeyPair.generate(KeyType.P384)),
    ],
)
def test_sign_wrong_key_type_rejected(
    cryptosuite: str, key: Callable[[], Ed25519KeyPair | EcKeyPair]
) -> None:
    with pytest.raises(ValueError, match="keys, and the given key is"):
        add_proof(
            untp_credential(), key(), "did:example:a#1", cryptosuite=cryptosuite, created=CREATED
        )


def test_sign_unknown_cryptosuite_rejected() -> None:
    with pytest.raises(ValueError, match="not supported"):
        add_proof(
            untp_credential(),
            Ed25519KeyPair.generate(),
            "did:example:a#1",
            cryptosuite="ed25519-2020",
            created=CREATED,
        )


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_issued_proof_chain_round_trip(cryptosuite: str) -> None:
    first_key, second_key = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    keys = {"did:example:a#1": first_key, "did:example:b#1": second_key}
    first = add_proof(
        untp_credential(),
        first_key,
        "did:example:a#1",
        cryptosuite=cryptosuite,
        created=CREATED,
        proof_id="urn:uuid:first",
    )
    chained = add_proof(
        first,
        second_key,
        "did:example:b#1",
        cryptosuite=cryptosuite,
        created=CREATED,
        previous_proof="urn:uuid:first",
    )

    def resolve(method: str) -> PublicKey | None:
        return keys[method].verification_key

    assert chained["proof"][1]["previousProof"] == "urn:uuid:first"
    assert verify_data_integrity(chained, resolve) == []
    chained["proof"][0]["created"] = "2024-01-01T00:00:00Z"
    paths = [f.path for f in verify_data_integrity(chained, resolve)]
    assert paths == ["$.proof[0].proofValue", "$.proof[1].proofValue"]


def test_chain_with_unknown_previous_proof() -> None:
    key = Ed25519KeyPair.generate()

    with pytest.raises(ValueError, match="no proof with that id"):
        add_proof(
            untp_credential(),
            key,
            "did:example:a#1",
            cryptosuite="eddsa-rdfc-2022",
            created=CREATED,
            previous_proof="urn:uuid:absent",
        )

"""Tests of did:key, did:web and DID documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from valuetrace.did import (
    Ed25519KeyPair,
    build_did_web_document,
    did_key_document,
    did_key_from_public_key,
    did_of,
    did_web_to_url,
    find_dia_urls,
    find_public_key,
    public_key_from_did_key,
)
from valuetrace.did._didkey import base58btc_decode, base58btc_encode
from valuetrace.errors import DIDError

DATA = Path(__file__).parent / "data" / "did-key"
DIA_IRI = "https://test.uncefact.org/vocabulary/linkTypes/dia"


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


SPEC_VECTORS = load_json("did-key-spec-test-vectors.json")["vectors"]
METHOD_VECTORS: dict[str, Any] = load_json("did-method-key-ed25519-x25519.json")
ED25519_SPEC_DIDS = SPEC_VECTORS["Ed25519"]["dids"] + SPEC_VECTORS["Ed25519 with X25519"]["dids"]
OTHER_KEY_DIDS = [
    did
    for name in ("Secp256k1", "BLS 12-381", "P-256", "P-384")
    for did in SPEC_VECTORS[name]["dids"]
]


# base58btc ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"", ""),
        (b"\x00", "1"),
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    ],
)
def test_base58btc_known_values(raw: bytes, encoded: str) -> None:
    assert base58btc_encode(raw) == encoded
    assert base58btc_decode(encoded) == raw


def test_base58btc_rejects_zero_letter() -> None:
    with pytest.raises(ValueError, match="invalid base58btc character '0' at position 2"):
        base58btc_decode("120")


# did:key ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("did", list(METHOD_VECTORS))
def test_did_key_from_seed(did: str) -> None:
    seed = bytes.fromhex(METHOD_VECTORS[did]["seed"])

    key = Ed25519KeyPair.from_private_bytes(seed)

    assert did_key_from_public_key(key.public_key) == did
    assert public_key_from_did_key(did) == key.public_key


@pytest.mark.parametrize("did", list(METHOD_VECTORS))
def test_did_key_vector_public_key(did: str) -> None:
    """Each vector's document has the key as base58 or as a JWK, and both must match."""
    vector = METHOD_VECTORS[did]
    method = vector["didDocument"]["verificationMethod"][0]

    found = find_public_key(vector["didDocument"], method["id"])

    assert found is not None
    assert found.raw == public_key_from_did_key(did)
    if "publicKeyBase58" in method:
        assert base58btc_decode(method["publicKeyBase58"]) == found.raw


@pytest.mark.parametrize("did", list(METHOD_VECTORS))
def test_did_key_vector_key_agreement(did: str) -> None:
    vector = METHOD_VECTORS[did]
    expected_id = vector["didDocument"]["keyAgreement"][0]

    document = did_key_document(did)

    assert document["keyAgreement"][0]["id"] == expected_id


@pytest.mark.parametrize("did", ED25519_SPEC_DIDS)
def test_did_key_spec_round_trip(did: str) -> None:
    assert did_key_from_public_key(public_key_from_did_key(did)) == did


def test_did_key_spec_document() -> None:
    expected = SPEC_VECTORS["Ed25519 with X25519"]["didDocument"]

    document = did_key_document(expected["id"])

    for field in (
        "id",
        "verificationMethod",
        "authentication",
        "assertionMethod",
        "capabilityDelegation",
        "capabilityInvocation",
        "keyAgreement",
    ):
        assert document[field] == expected[field], field
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]


def test_did_key_document_key_lookup() -> None:
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    document = did_key_document(did)

    assert find_public_key(document, f"{did}#{key.public_multibase}") == key.verification_key


@pytest.mark.parametrize("did", OTHER_KEY_DIDS)
def test_did_key_other_curves_rejected(did: str) -> None:
    with pytest.raises(DIDError, match="Ed25519 did:key DIDs only"):
        public_key_from_did_key(did)


def test_did_key_secp256k1_named() -> None:
    did = SPEC_VECTORS["Secp256k1"]["dids"][0]

    with pytest.raises(DIDError, match=r"contains a secp256k1-pub \(multicodec 0xe7\)"):
        public_key_from_did_key(did)


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:web:example.com", "must start with 'did:key:'"),
        ("did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "does not start with 'z'"),
        ("did:key:z" + base58btc_encode(b"\xed\x01" + bytes(31)), "contains 31 key bytes"),
        ("did:key:z" + base58btc_encode(b"\xed\x01" + bytes(33)), "contains 33 key bytes"),
        ("did:key:z" + base58btc_encode(b"\x99\x99\x01" + bytes(32)), "key of unknown type"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDo0Wp", "character '0'"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#x", "is a DID URL"),
    ],
)
def test_did_key_malformed(did: str, reason: str) -> None:
    with pytest.raises(DIDError, match=reason):
        public_key_from_did_key(did)


def test_did_key_wrong_length_key() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        did_key_from_public_key(bytes(31))


# did:web ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:org", "https://example.com/org/did.json"),
        ("did:web:example.com:user:alice", "https://example.com/user/alice/did.json"),
        ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
        ("did:web:localhost%3a8443:issuers:a", "https://localhost:8443/issuers/a/did.json"),
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        (
            "did:web:identifiers.example-company.com:12345",
            "https://identifiers.example-company.com/12345/did.json",
        ),
        ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ],
)
def test_did_web_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:key:z6Mk", "must start with 'did:web:'"),
        ("did:web:", "has no domain name"),
        ("did:web::org", "has no domain name"),
        ("did:web:example.com#key-1", "is a DID URL"),
        ("did:web:example.com/path", "is a DID URL"),
        ("did:web:exa_mple.com", "invalid domain name 'exa_mple.com'"),
        ("did:web:-example.com", "invalid domain name"),
        ("did:web:example..com", "invalid domain name"),
        ("did:web:example.com%2Fevil", "invalid domain name"),
        ("did:web:localhost%3A", "invalid port ''"),
        ("did:web:localhost%3A99999", "invalid port '99999'"),
        ("did:web:localhost%3Aabc", "invalid port 'abc'"),
        ("did:web:example.com::org", "invalid path segment ''"),
        ("did:web:example.com:org:", "invalid path segment ''"),
        ("did:web:example.com:..", r"invalid path segment '\.\.'"),
        ("did:web:example.com:%2e%2e", "invalid path segment"),
        ("did:web:example.com:a b", "invalid path segment 'a b'"),
    ],
)
def test_did_web_malformed(did: str, reason: str) -> None:
    with pytest.raises(DIDError, match=reason):
        did_web_to_url(did)


def test_did_web_error_names_value() -> None:
    with pytest.raises(DIDError, match=r"'did:web:bad_host'"):
        did_web_to_url("did:web:bad_host")


# did_of ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "did"),
    [
        ("did:web:a.example#key-1", "did:web:a.example"),
        ("did:web:a.example", "did:web:a.example"),
        ("did:web:localhost%3A8443:org#key-1", "did:web:localhost%3A8443:org"),
        ("did:key:z6MkA#z6MkA", "did:key:z6MkA"),
        ("did:web:a.example?versionId=1", "did:web:a.example"),
        ("did:web:a.example/path#frag", "did:web:a.example"),
    ],
)
def test_did_of(value: str, did: str) -> None:
    assert did_of(value) == did


@pytest.mark.parametrize(
    "value", ["", "#key-1", "https://a.example#key-1", "did:web:", "did:WEB:a.example", "did::x"]
)
def test_did_of_malformed(value: str) -> None:
    with pytest.raises(DIDError, match="is not a DID URL"):
        did_of(value)


# DID documents ---------------------------------------------------------------------------------

ISSUER_DID = "did:web:issuer.example:org"


def test_build_document_without_dia() -> None:
    key = Ed25519KeyPair.generate()

    document = build_did_web_document(ISSUER_DID, [("key-1", key.public_key)])

    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ISSUER_DID,
        "verificationMethod": [
            {
                "id": f"{ISSUER_DID}#key-1",
                "type": "Multikey",
                "controller": ISSUER_DID,
                "publicKeyMultibase": key.public_multibase,
            }
        ],
        "assertionMethod": [f"{ISSUER_DID}#key-1"],
        "authentication": [f"{ISSUER_DID}#key-1"],
    }
    assert find_dia_urls(document) == []


def test_build_document_with_dia() -> None:
    key = Ed25519KeyPair.generate()
    dia_url = "https://issuer.example/credentials/dia.json"

    document = build_did_web_document(ISSUER_DID, [("key-1", key.public_key)], dia_url=dia_url)

    assert document["service"] == [
        {"id": f"{ISSUER_DID}#dia", "type": "untp:dia", "serviceEndpoint": dia_url}
    ]
    assert find_dia_urls(document) == [dia_url]


def test_build_document_two_keys() -> None:
    first = Ed25519KeyPair.generate()
    second = Ed25519KeyPair.generate()

    document = build_did_web_document(
        ISSUER_DID, [("key-1", first.public_key), ("key-2", second.public_key)]
    )

    assert document["assertionMethod"] == [f"{ISSUER_DID}#key-1", f"{ISSUER_DID}#key-2"]
    assert find_public_key(document, f"{ISSUER_DID}#key-1") == first.verification_key
    assert find_public_key(document, f"{ISSUER_DID}#key-2") == second.verification_key


@pytest.mark.parametrize(
    ("did", "keys", "error", "reason"),
    [
        ("did:key:z6Mk", [("key-1", bytes(32))], DIDError, "not a did:web DID"),
        (ISSUER_DID, [], ValueError, "at least one key"),
        (ISSUER_DID, [("#key-1", bytes(32))], ValueError, "invalid key fragment"),
        (ISSUER_DID, [("key 1", bytes(32))], ValueError, "invalid key fragment"),
        (ISSUER_DID, [("k", bytes(32)), ("k", bytes(32))], ValueError, "used twice"),
        (ISSUER_DID, [("key-1", bytes(31))], ValueError, "'key-1': an Ed25519 public key"),
    ],
)
def test_build_document_rejects(
    did: str, keys: list[tuple[str, bytes]], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        build_did_web_document(did, keys)


@pytest.fixture
def document_and_key() -> tuple[dict[str, Any], Ed25519KeyPair]:
    key = Ed25519KeyPair.generate()
    return build_did_web_document(ISSUER_DID, [("key-1", key.public_key)]), key


def test_find_key_relative_id(document_and_key: tuple[dict[str, Any], Ed25519KeyPair]) -> None:
    document, key = document_and_key

    assert find_public_key(document, "#key-1") == key.verification_key


def test_find_key_relative_in_document() -> None:
    key = Ed25519KeyPair.generate()
    document = {
        "id": ISSUER_DID,
        "verificationMethod": [
            {"id": "#key-1", "type": "Multikey", "publicKeyMultibase": key.public_multibase}
        ],
        "assertionMethod": ["#key-1"],
    }

    assert find_public_key(document, f"{ISSUER_DID}#key-1") == key.verification_key


def test_find_key_absent(document_and_key: tuple[dict[str, Any], Ed25519KeyPair]) -> None:
    document, _ = document_and_key

    assert find_public_key(document, f"{ISSUER_DID}#key-2") is None


def test_find_key_other_did(document_and_key: tuple[dict[str, Any], Ed25519KeyPair]) -> None:
    document, _ = document_and_key

    assert find_public_key(document, "did:web:other.example#key-1") is None


def test_find_key_needs_assertion_method(
    document_and_key: tuple[dict[str, Any], Ed25519KeyPair],
) -> None:
    document, _ = document_and_key
    authentication_only = copy.deepcopy(document)
    authentication_only["assertionMethod"] = []
    no_relationship = copy.deepcopy(document)
    del no_relationship["assertionMethod"]

    assert find_public_key(authentication_only, f"{ISSUER_DID}#key-1") is None
    assert find_public_key(no_relationship, f"{ISSUER_DID}#key-1") is None


def test_find_key_for_authentication(
    document_and_key: tuple[dict[str, Any], Ed25519KeyPair],
) -> None:
    document, key = document_and_key
    authentication_only = copy.deepcopy(document)
    authentication_only["assertionMethod"] = []
    assertion_only = copy.deepcopy(document)
    assertion_only["authentication"] = []

    found = find_public_key(authentication_only, f"{ISSUER_DID}#key-1", "authentication")

    assert found == key.verification_key
    assert find_public_key(assertion_only, f"{ISSUER_DID}#key-1", "authentication") is None


def test_find_key_embedded_jwk() -> None:
    key = Ed25519KeyPair.generate()
    for method_type in ("JsonWebKey", "JsonWebKey2020"):
        document = {
            "id": ISSUER_DID,
            "assertionMethod": [
                {
                    "id": f"{ISSUER_DID}#jwk",
                    "type": method_type,
                    "controller": ISSUER_DID,
                    "publicKeyJwk": key.public_jwk,
                }
            ],
        }

        assert find_public_key(document, "#jwk") == key.verification_key, method_type


def test_find_key_ed25519_2020() -> None:
    key = Ed25519KeyPair.generate()
    document = {
        "id": ISSUER_DID,
        "verificationMethod": [
            {
                "id": f"{ISSUER_DID}#key-1",
                "type": "Ed25519VerificationKey2020",
                "controller": ISSUER_DID,
                "publicKeyMultibase": key.public_multibase,
            }
        ],
        "assertionMethod": [f"{ISSUER_DID}#key-1"],
    }

    assert find_public_key(document, f"{ISSUER_DID}#key-1") == key.verification_key


@pytest.mark.parametrize(
    "method",
    [
        {"type": "JsonWebKey", "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}},
        {"type": "JsonWebKey", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}},
        {"type": "JsonWebKey", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "a+b/"}},
        {
            "type": "Multikey",
            "publicKeyMultibase": "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        },
        {"type": "Multikey"},
        {"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyMultibase": "z6Mk"},
    ],
)
def test_find_key_unusable_method(method: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    document = {
        "id": ISSUER_DID,
        "verificationMethod": [{"id": f"{ISSUER_DID}#key-1", "controller": ISSUER_DID, **method}],
        "assertionMethod": [f"{ISSUER_DID}#key-1"],
    }

    assert find_public_key(document, f"{ISSUER_DID}#key-1") is None
    assert "no usable public key" in caplog.text


# DIA services ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "urls"),
    [
        (
            {"type": "untp:dia", "serviceEndpoint": "https://a.example/dia"},
            ["https://a.example/dia"],
        ),
        ({"type": DIA_IRI, "serviceEndpoint": "https://a.example/dia"}, ["https://a.example/dia"]),
        (
            {"type": ["LinkedDomains", DIA_IRI], "serviceEndpoint": "https://a.example/dia"},
            ["https://a.example/dia"],
        ),
        (
            {"type": "untp:dia", "serviceEndpoint": ["https://a.example/1", "https://a.example/2"]},
            ["https://a.example/1", "https://a.example/2"],
        ),
        (
            {"type": "untp:dia", "serviceEndpoint": {"uri": "https://a.example/dia"}},
            ["https://a.example/dia"],
        ),
        (
            {"type": "untp:dia", "serviceEndpoint": [{"url": "https://a.example/dia"}]},
            ["https://a.example/dia"],
        ),
        ({"type": "LinkedDomains", "serviceEndpoint": "https://a.example"}, []),
        ({"type": "untp:dia", "serviceEndpoint": {"origins": ["https://a.example"]}}, []),
        ({"type": "untp:dia"}, []),
    ],
)
def test_find_dia_urls(service: dict[str, Any], urls: list[str]) -> None:
    document = {"id": ISSUER_DID, "service": [{"id": f"{ISSUER_DID}#s", **service}]}

    assert find_dia_urls(document) == urls


def test_find_dia_urls_deduplicated() -> None:
    document = {
        "id": ISSUER_DID,
        "service": [
            {"id": "#a", "type": "untp:dia", "serviceEndpoint": "https://a.example/dia"},
            {"id": "#b", "type": DIA_IRI, "serviceEndpoint": "https://a.example/dia"},
            {"id": "#c", "type": DIA_IRI, "serviceEndpoint": "https://b.example/dia"},
        ],
    }

    assert find_dia_urls(document) == ["https://a.example/dia", "https://b.example/dia"]


def test_find_dia_urls_no_service() -> None:
    assert find_dia_urls({"id": ISSUER_DID}) == []
    assert find_dia_urls({"id": ISSUER_DID, "service": "not a list"}) == []

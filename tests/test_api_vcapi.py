"""The VC-API endpoints (issue, verify credential, verify presentation) through TestClient.

The W3C VC Data Model 2.0 test suite calls an implementation with the fixtures in
tests/data/vc-data-model-2.0-test-suite/input. The tables below record for each fixture what
the endpoints do with it, and the tests hold them to that. Requests are built as the suite
builds them: the issue request gets the node's issuer DID in ``issuer`` when the fixture has
none, and presentations are signed by their holder before they are verified.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from valuetrace.api import create_app
from valuetrace.api._cli import _issuer
from valuetrace.api._datamodel import is_url
from valuetrace.api._issuing import IssuerKey, load_issuer_key
from valuetrace.did import Ed25519KeyPair, KeyType, build_did_web_document, encrypt_private_key
from valuetrace.did._didkey import base58btc_encode
from valuetrace.errors import SigningKeyError
from valuetrace.store import Store
from valuetrace.vc import decode_envelope, sign_enveloped
from valuetrace.vc._dataintegrity import add_proof, add_proof_eddsa_jcs
from valuetrace.vc._jcs import canonicalize
from valuetrace.vc._statuslist import StatusList, status_entry, status_list_credential

FIXTURES = Path(__file__).parent / "data" / "vc-data-model-2.0-test-suite" / "input"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
# The holder DID in the suite's presentation fixtures; the tests replace it with their holder.
SUITE_HOLDER = "did:key:z6MkpJySvETLnxhQG9DzEdmKJtysBDjuuTeDfUj1uNNCUqcj"
CHALLENGE = "u7Y9cL2vKQy1b3mN0pR5sTw"
DOMAIN = "github.com/w3c/vc-data-model-2.0-test-suite"
PARSING_ERROR = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR"
DI = "eddsa-jcs-2022"
SUITES = ["jose", DI]
DI_OPTIONS = {"type": "DataIntegrityProof", "cryptosuite": DI}

ACCEPT = "accept"  # issued (201) and then verified (200)
REJECT = "reject"  # the issue endpoint rejects it (400)
ISSUE_ONLY = "issue only"  # issued, but verification fails at the current time

# What the endpoints do with each credential fixture, and why when that is not the fixture's
# own verdict. Every fixture file is listed, so a new upstream fixture fails the table test.
CREDENTIAL_FIXTURES: dict[str, tuple[str, str]] = {
    "credential-context-combo1-ok.json": (ACCEPT, ""),
    "credential-context-combo2-ok.json": (ACCEPT, ""),
    "credential-context-combo3-fail.json": (REJECT, "a later @context entry is not a URL"),
    "credential-context-combo4-fail.json": (REJECT, "a later @context entry is a number"),
    "credential-evidence-missing-type-fail.json": (REJECT, "evidence without type"),
    "credential-evidence-ok.json": (ACCEPT, ""),
    "credential-evidences-ok.json": (ACCEPT, ""),
    "credential-id-multi-fail.json": (REJECT, "id is an array"),
    "credential-id-nonidentifier-fail.json": (REJECT, "id is null"),
    "credential-id-not-url-fail.json": (REJECT, "id is not a URL"),
    "credential-id-other-ok.json": (ACCEPT, ""),
    "credential-id-single-ok.json": (ACCEPT, ""),
    "credential-id-subject-multi-fail.json": (REJECT, "credentialSubject.id is an array"),
    "credential-id-subject-single-ok.json": (ACCEPT, ""),
    "credential-issuer-no-url-fail.json": (REJECT, "issuer is not a URL"),
    "credential-issuer-null-fail.json": (REJECT, "issuer is null"),
    "credential-issuer-object-id-no-url-fail.json": (REJECT, "issuer.id is not a URL"),
    "credential-issuer-object-id-null-fail.json": (REJECT, "issuer.id is null"),
    "credential-issuer-object-ok.json": (ACCEPT, ""),
    "credential-missing-base-context-fail-or-inject.json": (REJECT, "no VC 2.0 context first"),
    "credential-missing-required-type-fail.json": (REJECT, "no VerifiableCredential type"),
    "credential-no-context-fail-or-inject.json": (REJECT, "no @context"),
    "credential-no-issuer-fail.json": (REJECT, "empty credentialSubject"),
    "credential-no-subject-fail.json": (REJECT, "no credentialSubject"),
    "credential-no-type-fail.json": (REJECT, "no type"),
    "credential-ok.json": (ACCEPT, ""),
    "credential-optional-type-ok.json": (ACCEPT, ""),
    "credential-proof-missing-type-fail.json": (REJECT, "proof without type"),
    # Not used by the suite's tests: the bundled VC 2.0 JSON schema requires
    # proof.verificationMethod, which this fixture's Ed25519Signature2020 proof lacks.
    "credential-proof-ok.json": (REJECT, "the VC 2.0 JSON schema requires verificationMethod"),
    "credential-redef-type-fail.json": (REJECT, "redefines a protected term"),
    "credential-redef-type2-fail.json": (REJECT, "redefines a protected term"),
    "credential-refresh-no-type-fail.json": (REJECT, "refreshService without type"),
    "credential-refresh-ok.json": (ACCEPT, ""),
    "credential-refresh-type-ok.json": (ACCEPT, ""),
    "credential-refreshs-ok.json": (ACCEPT, ""),
    "credential-schema-no-id-fail.json": (REJECT, "credentialSchema without id"),
    "credential-schema-no-type-fail.json": (REJECT, "credentialSchema without type"),
    "credential-schema-non-url-id-fail.json": (REJECT, "credentialSchema.id is not a URL"),
    "credential-schema-ok.json": (ACCEPT, ""),
    "credential-schema-type-ok.json": (ACCEPT, ""),
    "credential-schemas-ok.json": (ACCEPT, ""),
    "credential-status-missing-id-ok.json": (ACCEPT, ""),
    "credential-status-missing-type-fail.json": (REJECT, "credentialStatus without type"),
    "credential-status-multiple-id-fail.json": (REJECT, "credentialStatus.id is an array"),
    "credential-status-nonurl-id-fail.json": (REJECT, "credentialStatus.id is not a URL"),
    "credential-status-ok.json": (ACCEPT, ""),
    "credential-status-type-nonurl-fail.json": (REJECT, "credentialStatus.type is a number"),
    "credential-subject-multiple-empty-fail.json": (REJECT, "an empty credentialSubject"),
    "credential-subject-multiple-ok.json": (ACCEPT, ""),
    "credential-subject-no-claims-fail.json": (REJECT, "an empty credentialSubject"),
    "credential-termsofuse-id-ok.json": (ACCEPT, ""),
    "credential-termsofuse-missing-type-fail.json": (REJECT, "termsOfUse without type"),
    "credential-termsofuse-no-type-fail.json": (REJECT, "termsOfUse without type"),
    "credential-termsofuse-ok.json": (ACCEPT, ""),
    "credential-termsofuses-ok.json": (ACCEPT, ""),
    "credential-type-mapped-nonurl-fail.json": (REJECT, "a type maps to a non-URL"),
    "credential-type-mapped-url-ok.json": (ACCEPT, ""),
    "credential-type-unmapped-fail.json": (REJECT, "a type no context defines"),
    "credential-type-url-ok.json": (ACCEPT, ""),
    "credential-type-urls-order-1-ok.json": (ACCEPT, ""),
    "credential-type-urls-order-2-ok.json": (ACCEPT, ""),
    "credential-validUntil-validFrom-fail.json": (REJECT, "validUntil before validFrom"),
    "credential-validUntil-validFrom-ok.json": (ACCEPT, ""),
    # The suite only issues these; they are outside their validity period today.
    "credential-validfrom-far-future-ok.json": (ISSUE_ONLY, "validFrom is in the year 4023"),
    "credential-validfrom-invalid-fail.json": (REJECT, "validFrom is no dateTimeStamp"),
    "credential-validfrom-ms-ok.json": (ACCEPT, ""),
    "credential-validfrom-tz-ok.json": (ACCEPT, ""),
    "credential-validuntil-invalid-fail.json": (REJECT, "validUntil is no dateTimeStamp"),
    "credential-validuntil-ms-ok.json": (ISSUE_ONLY, "validUntil is in 2023"),
    "credential-validuntil-ok.json": (ISSUE_ONLY, "validUntil is in 2023"),
    "credential-validuntil-tz-ok.json": (ISSUE_ONLY, "validUntil is in 2023"),
    "names-and-descriptions/credential-description-extra-prop-en-fail.json": (
        REJECT,
        "a value object with an undefined member",
    ),
    "names-and-descriptions/credential-description-language-direction-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-description-language-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-description-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-description-optional-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-multi-language-description-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-multi-language-name-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-name-extra-prop-en-fail.json": (
        REJECT,
        "a value object with an undefined member",
    ),
    "names-and-descriptions/credential-name-language-direction-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-name-language-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-name-ok.json": (ACCEPT, ""),
    "names-and-descriptions/credential-name-optional-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-description-extra-prop-en-fail.json": (
        REJECT,
        "a value object with an undefined member",
    ),
    "names-and-descriptions/issuer-description-language-direction-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-description-language-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-description-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-description-optional-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-multi-language-description-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-multi-language-name-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-name-extra-prop-en-fail.json": (
        REJECT,
        "a value object with an undefined member",
    ),
    "names-and-descriptions/issuer-name-language-direction-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-name-language-en-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-name-ok.json": (ACCEPT, ""),
    "names-and-descriptions/issuer-name-optional-ok.json": (ACCEPT, ""),
}

SIGNED = "signed"  # the holder signs the embedded credentials and the presentation
HOLDER_CLAIMS = "holder claims"  # only the presentation is signed

# What the presentation endpoint does with each presentation fixture, signed as described.
PRESENTATION_FIXTURES: dict[str, tuple[str, str, str]] = {
    "presentation-context-combo1-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-context-combo2-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-context-order-fail.json": (SIGNED, REJECT, "VC 2.0 context not first"),
    "presentation-enveloped-vc-missing-type-fail.json": (SIGNED, REJECT, "credential lacks type"),
    # The enveloped credential is a VC-JWT 1.1 token (media type application/vc-ld+jwt, a "vc"
    # claim, ES256) by an https issuer whose key is never fetched, so it cannot be verified.
    "presentation-enveloped-vc-ok.json": (SIGNED, REJECT, "credential cannot be verified"),
    "presentation-holder-fail.json": (SIGNED, REJECT, "holder is not a URL"),
    "presentation-holder-name-fail.json": (SIGNED, REJECT, "holder object without id"),
    "presentation-holder-object-fail.json": (SIGNED, REJECT, "holder.id is not a URL"),
    "presentation-holder-object-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-holder-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-id-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-missing-base-context-fail.json": (SIGNED, REJECT, "no VC 2.0 context"),
    "presentation-missing-required-type-fail.json": (SIGNED, REJECT, "no presentation type"),
    "presentation-multiple-vc-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-no-context-fail-or-inject.json": (SIGNED, REJECT, "no @context"),
    "presentation-no-type-fail.json": (SIGNED, REJECT, "no type"),
    "presentation-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-optional-type-ok.json": (SIGNED, ACCEPT, ""),
    "presentation-self-asserted-vc-holder-mismatch.json": (
        HOLDER_CLAIMS,
        REJECT,
        "credential issuer is not the holder",
    ),
    "presentation-self-asserted-vc-issuer-mismatch.json": (
        HOLDER_CLAIMS,
        REJECT,
        "credential issuer is not the holder",
    ),
    "presentation-self-asserted-vc-no-holder.json": (HOLDER_CLAIMS, REJECT, "no holder"),
    "presentation-self-asserted-vc-ok.json": (HOLDER_CLAIMS, ACCEPT, ""),
    "presentation-vc-as-string-fail.json": (SIGNED, REJECT, "credential is a string"),
    "presentation-vc-missing-required-type-fail.json": (SIGNED, REJECT, "credential lacks type"),
    "presentation-vc-ok.json": (SIGNED, ACCEPT, ""),
}


# -- helpers -----------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _suite_credential(name: str, issuer_did: str) -> dict[str, Any]:
    """Build the credential of an issue request as the test suite does."""
    credential: dict[str, Any] = _load_fixture(name)
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        if not ("id" in issuer and issuer["id"] is None):
            issuer["id"] = issuer.get("id") or issuer_did
    elif not ("issuer" in credential and credential["issuer"] is None):
        credential["issuer"] = issuer or issuer_did
    # The suite puts real dates in place of these placeholders.
    now = datetime.now(UTC)
    if credential.get("validFrom") == "PAST DATE":
        credential["validFrom"] = _timestamp(now - timedelta(days=365))
    if credential.get("validUntil") == "FUTURE DATE":
        credential["validUntil"] = _timestamp(now + timedelta(days=365))
    if credential.get("validFrom") == "FUTURE DATE":
        credential["validFrom"] = _timestamp(now + timedelta(days=365))
    if credential.get("validUntil") == "PAST DATE":
        credential["validUntil"] = _timestamp(now - timedelta(days=365))
    return credential


def _sign_presentation(
    presentation: dict[str, Any],
    signer: IssuerKey,
    *,
    challenge: str | None = CHALLENGE,
    domain: str | None = DOMAIN,
) -> dict[str, Any]:
    """Add an eddsa-jcs-2022 authentication proof with a challenge and domain."""
    unsecured = {name: value for name, value in presentation.items() if name != "proof"}
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": _timestamp(datetime.now(UTC)),
        "verificationMethod": signer.verification_method,
        "proofPurpose": "authentication",
    }
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    # eddsa-jcs-2022: SHA-256 of the canonical proof options, then of the canonical document.
    signed = hashlib.sha256(canonicalize(proof)).digest()
    signed += hashlib.sha256(canonicalize(unsecured)).digest()
    proof["proofValue"] = "z" + base58btc_encode(signer.key.sign(signed))
    return {**unsecured, "proof": proof}


def _envelop_presentation(
    presentation: dict[str, Any], signer: IssuerKey, claims: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Secure a presentation as a compact JWS (vp+jwt) in an EnvelopedVerifiablePresentation."""
    header = {"alg": "EdDSA", "kid": signer.verification_method, "typ": "vp+jwt", "cty": "vp"}
    payload = {**presentation, **(claims or {})}
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    signature = signer.key.sign(signing_input.encode("ascii"))
    return {
        "@context": [VC_V2],
        "type": "EnvelopedVerifiablePresentation",
        "id": f"data:application/vp+jwt,{signing_input}.{_b64url(signature)}",
    }


def _credential(issuer_did: str, **members: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer_did,
        "credentialSubject": {"id": "did:example:subject", "name": "Subject"},
        **members,
    }


def _ed25519(issuer: IssuerKey) -> Ed25519KeyPair:
    assert isinstance(issuer.key, Ed25519KeyPair)
    return issuer.key


def _error_codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def _issue(client: TestClient, credential: dict[str, Any], options: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"credential": credential}
    if options is not None:
        body["options"] = options
    return client.post("/credentials/issue", json=body)


def _verify(client: TestClient, document: Any, options: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"verifiableCredential": document}
    body["options"] = {"checks": ["proof"]} if options is None else options
    return client.post("/credentials/verify", json=body)


def _verify_presentation(
    client: TestClient,
    document: Any,
    options: dict[str, Any] | None = None,
) -> httpx.Response:
    body = {
        "verifiablePresentation": document,
        "options": {"challenge": CHALLENGE, "domain": DOMAIN} if options is None else options,
    }
    return client.post("/presentations/verify", json=body)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer() -> IssuerKey:
    return IssuerKey.generate()


@pytest.fixture(scope="module")
def holder() -> IssuerKey:
    return IssuerKey.generate()


@pytest.fixture(scope="module")
def database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vcapi") / "node.sqlite"


@pytest.fixture(scope="module")
def client(issuer: IssuerKey, database_file: Path) -> Iterator[TestClient]:
    app = create_app(f"sqlite+pysqlite:///{database_file}", issuer=issuer)
    with TestClient(app) as test_client:
        yield test_client


# -- the VC Data Model 2.0 test-suite fixtures ---------------------------------------------------


def test_fixture_tables_complete() -> None:
    files = {path.relative_to(FIXTURES).as_posix() for path in FIXTURES.rglob("*.json")}
    credentials = {name for name in files if not name.startswith("presentation-")}
    presentations = {name for name in files if name.startswith("presentation-")}

    assert credentials == set(CREDENTIAL_FIXTURES)
    assert presentations == set(PRESENTATION_FIXTURES)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("name", sorted(CREDENTIAL_FIXTURES))
def test_credential_fixture(client: TestClient, issuer: IssuerKey, name: str, suite: str) -> None:
    expected, reason = CREDENTIAL_FIXTURES[name]
    options = {} if suite == "jose" else DI_OPTIONS
    issued = _issue(client, _suite_credential(name, issuer.did), options)

    if expected == REJECT:
        assert issued.status_code == 400, f"{name} was issued although {reason}"
        assert issued.headers["content-type"] == "application/problem+json"
        assert issued.json()["errors"], issued.text
        return

    assert issued.status_code == 201, issued.text
    verified = _verify(client, issued.json()["verifiableCredential"])
    if expected == ACCEPT:
        assert verified.status_code == 200, verified.text
        assert verified.json()["verified"] is True
    else:
        assert verified.status_code == 400, f"{name} verified although {reason}"
        assert set(_error_codes(verified)) <= {"credential.expired", "credential.not_yet_valid"}


@pytest.mark.parametrize("name", sorted(PRESENTATION_FIXTURES))
def test_presentation_fixture(client: TestClient, holder: IssuerKey, name: str) -> None:
    mode, expected, reason = PRESENTATION_FIXTURES[name]
    text = (FIXTURES / name).read_text(encoding="utf-8").replace(SUITE_HOLDER, holder.did)
    presentation = json.loads(text)
    credentials = presentation.get("verifiableCredential")
    if mode == SIGNED and isinstance(credentials, list):
        signed_credentials = []
        for credential in credentials:
            unsigned = isinstance(credential, dict) and "proof" not in credential
            if unsigned and credential.get("type") != "EnvelopedVerifiableCredential":
                credential = add_proof_eddsa_jcs(
                    {**credential, "issuer": holder.did},
                    _ed25519(holder),
                    holder.verification_method,
                    created=datetime.now(UTC),
                )
            signed_credentials.append(credential)
        presentation["verifiableCredential"] = signed_credentials

    response = _verify_presentation(client, _sign_presentation(presentation, holder))

    if expected == ACCEPT:
        assert response.status_code == 200, response.text
        assert response.json()["verified"] is True
    else:
        assert response.status_code == 400, f"{name} verified although {reason}"
        assert response.json()["verified"] is False


def test_nonconforming_document_rejected(client: TestClient) -> None:
    document = {"type": ["NonconformingDocument"]}

    credential = _verify(client, document)
    presentation = _verify_presentation(client, document, options={})

    assert credential.status_code == 400
    assert presentation.status_code == 400


def test_related_resource_rules(client: TestClient, issuer: IssuerKey) -> None:
    resource = {
        "id": VC_V2,
        "digestSRI": "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg",
    }
    multibase = {"id": VC_V2, "digestMultibase": "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"}
    invalid = {
        "strings": [VC_V2],
        "no id": [{"digestMultibase": multibase["digestMultibase"]}],
        "duplicate id": [resource, multibase],
        "no digest": [{"id": VC_V2}],
        "base64url in SRI": [{"id": VC_V2, "digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRD"}],
    }

    for valid in (resource, multibase, [{**resource, "mediaType": "application/ld+json"}]):
        issued = _issue(client, _credential(issuer.did, relatedResource=valid))
        assert issued.status_code == 201, issued.text
    for case, value in invalid.items():
        rejected = _issue(client, _credential(issuer.did, relatedResource=value))
        assert rejected.status_code == 400, case
        codes = {error["code"] for error in rejected.json()["errors"]}
        assert codes == {"datamodel.invalid_related_resource"}, case


# -- issuing -----------------------------------------------------------------------------------


def test_issue_jose_envelope(client: TestClient, issuer: IssuerKey) -> None:
    credential = _credential(issuer.did, id="urn:uuid:0b5b6f9e-9c2a-4cf0-9d43-3d5d3c1c1a01")

    response = _issue(client, credential, {"securingMechanism": "EnvelopingProof"})

    assert response.status_code == 201, response.text
    secured = response.json()["verifiableCredential"]
    assert secured["type"] == "EnvelopedVerifiableCredential"
    assert secured["id"].startswith("data:application/vc+jwt,")
    decoded = decode_envelope(secured)
    assert decoded.payload == credential
    assert decoded.header["kid"] == issuer.verification_method


def test_issue_eddsa_jcs_proof(client: TestClient, issuer: IssuerKey) -> None:
    credential = _credential(issuer.did)

    response = _issue(client, credential, DI_OPTIONS)

    assert response.status_code == 201, response.text
    secured = response.json()["verifiableCredential"]
    assert {name: value for name, value in secured.items() if name != "proof"} == credential
    assert secured["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert secured["proof"]["verificationMethod"] == issuer.verification_method
    assert secured["proof"]["proofPurpose"] == "assertionMethod"


def test_issue_default_securing(issuer: IssuerKey, tmp_path: Path) -> None:
    app = create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", issuer=issuer, securing=DI)
    with TestClient(app) as client:
        response = _issue(client, _credential(issuer.did))

    assert response.status_code == 201, response.text
    assert response.json()["verifiableCredential"]["proof"]["cryptosuite"] == DI


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cryptosuite": "eddsa-rdfc-1999"}, "is not supported"),
        ({"type": "DataIntegrityProof"}, "needs option 'cryptosuite'"),
        ({"type": "Ed25519Signature2020"}, "is not supported"),
        ({"securingMechanism": "COSE"}, "is not supported"),
        ({"cryptosuite": DI, "securingMechanism": "EnvelopingProof"}, "not both"),
        ({"cryptosuite": DI, "type": "Ed25519Signature2020"}, "needs 'DataIntegrityProof'"),
        ({"mandatoryPointers": ["/issuer"]}, "not supported here"),
        ([], "must be an object"),
    ],
)
def test_issue_rejects_options(
    client: TestClient, issuer: IssuerKey, options: Any, message: str
) -> None:
    response = _issue(client, _credential(issuer.did), options)

    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("key_type", "options", "expected"),
    [
        (KeyType.ED25519, {"cryptosuite": "eddsa-rdfc-2022"}, "eddsa-rdfc-2022"),
        (KeyType.P256, {"cryptosuite": "ecdsa-rdfc-2019"}, "ecdsa-rdfc-2019"),
        (KeyType.P384, {"cryptosuite": "ecdsa-rdfc-2019"}, "ecdsa-rdfc-2019"),
        (KeyType.P256, {"securingMechanism": "EnvelopingProof"}, "ES256"),
        (KeyType.P384, {}, "ES384"),
    ],
)
def test_issue_other_key_types(
    tmp_path: Path, key_type: KeyType, options: dict[str, Any], expected: str
) -> None:
    issuer = IssuerKey.generate(key_type)
    app = create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", issuer=issuer)
    with TestClient(app) as client:
        issued = _issue(client, _credential(issuer.did), options)
        secured = issued.json().get("verifiableCredential")
        verified = _verify(client, secured)

    assert issued.status_code == 201, issued.text
    if "proof" in secured:
        assert secured["proof"]["cryptosuite"] == expected
    else:
        assert decode_envelope(secured).header["alg"] == expected
    assert verified.status_code == 200, verified.text


def test_issue_key_type_mismatch(tmp_path: Path) -> None:
    issuer = IssuerKey.generate(KeyType.P256)
    app = create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", issuer=issuer)
    with TestClient(app) as client:
        response = _issue(client, _credential(issuer.did), DI_OPTIONS)

    assert response.status_code == 400
    assert "eddsa-jcs-2022 signs with Ed25519 keys" in response.json()["detail"]
    with pytest.raises(ValueError, match="has the key type P-256"):
        create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", issuer=issuer, securing=DI)


def test_issue_rejects_other_issuer(client: TestClient) -> None:
    response = _issue(client, _credential("did:example:someone-else"))

    assert response.status_code == 400
    assert "did:example:someone-else" in response.json()["detail"]


def test_issue_rejects_enveloped_input(client: TestClient, issuer: IssuerKey) -> None:
    secured = _issue(client, _credential(issuer.did)).json()["verifiableCredential"]

    response = _issue(client, secured)

    assert response.status_code == 400
    assert "already an EnvelopedVerifiableCredential" in response.json()["detail"]


def test_issue_without_issuer_key(tmp_path: Path) -> None:
    app = create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(app) as client:
        response = _issue(client, _credential("did:example:issuer"))

    assert response.status_code == 503
    assert "--issuer-key" in response.json()["detail"]


def test_create_app_rejects_unknown_securing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="securing mechanism 'cose' is unknown"):
        create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", securing="cose")


def test_issue_untp_passport(client: TestClient, issuer: IssuerKey) -> None:
    text = resources.files("valuetrace").joinpath("data/untp/0.6.1/dpp/untp-dpp-instance.json")
    passport = json.loads(text.read_text(encoding="utf-8"))
    passport["issuer"]["id"] = issuer.did
    broken = copy.deepcopy(passport)
    del broken["credentialSubject"]["product"]["id"]

    issued = _issue(client, passport)
    rejected = _issue(client, broken)

    assert issued.status_code == 201, issued.text
    verified = _verify(client, issued.json()["verifiableCredential"])
    assert verified.status_code == 200, verified.text
    assert rejected.status_code == 400
    assert any(error["code"] == "schema.invalid" for error in rejected.json()["errors"])


# -- verifying credentials -----------------------------------------------------------------------


def test_verify_response_shape(client: TestClient, issuer: IssuerKey) -> None:
    secured = _issue(client, _credential(issuer.did)).json()["verifiableCredential"]

    response = _verify(
        client, secured, {"checks": ["proof", "holographic"], "returnCredential": True}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["checks"] == ["proof", "validityPeriod", "status", "dataModel"]
    assert body["errors"] == []
    assert [warning["code"] for warning in body["warnings"]] == ["options.unknown_check"]
    assert body["problemDetails"][0]["title"] == "options.unknown_check"
    assert body["credential"] == _credential(issuer.did)


def test_verify_tampered_credentials(client: TestClient, issuer: IssuerKey) -> None:
    enveloped = _issue(client, _credential(issuer.did)).json()["verifiableCredential"]
    header, payload, signature = enveloped["id"].split(",", 1)[1].split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed["credentialSubject"]["name"] = "Someone else"
    forged_payload = _b64url(json.dumps(changed).encode())
    forged = {**enveloped, "id": f"data:application/vc+jwt,{header}.{forged_payload}.{signature}"}
    with_proof = _issue(client, _credential(issuer.did), DI_OPTIONS).json()["verifiableCredential"]
    with_proof["credentialSubject"]["name"] = "Someone else"

    for document in (forged, with_proof):
        response = _verify(client, document)
        assert response.status_code == 400
        assert "signature.invalid" in _error_codes(response)
        problem_types = {problem["type"] for problem in response.json()["problemDetails"]}
        assert "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR" in problem_types


@pytest.mark.parametrize(
    "change",
    ["empty context", "examples context", "id without data URL", "no type", "plain type"],
)
def test_verify_rejects_broken_envelope(client: TestClient, issuer: IssuerKey, change: str) -> None:
    envelope = _issue(client, _credential(issuer.did)).json()["verifiableCredential"]
    if change == "empty context":
        envelope["@context"] = []
    elif change == "examples context":
        envelope["@context"] = EXAMPLES_CONTEXT
    elif change == "id without data URL":
        envelope["id"] = envelope["id"].split(",")[-1]
    elif change == "no type":
        del envelope["type"]
    else:
        envelope["type"] = "VerifiableCredential"

    response = _verify(client, envelope)

    assert response.status_code == 400
    assert response.json()["verified"] is False


def test_verify_unbundled_context_warns(client: TestClient, issuer: IssuerKey) -> None:
    credential = _credential(issuer.did)
    # A context that neither valuetrace nor any test registers; it is never fetched.
    credential["@context"] = [VC_V2, "https://contexts.example.org/alumni/v1"]
    credential["credentialSubject"]["alumniOf"] = "Example University"
    secured = _issue(client, credential, DI_OPTIONS).json()["verifiableCredential"]

    response = _verify(client, secured)

    assert response.status_code == 200, response.text
    warnings = response.json()["warnings"]
    assert [warning["code"] for warning in warnings] == ["jsonld.context_unavailable"]


def test_verify_unsigned_credential(client: TestClient, issuer: IssuerKey) -> None:
    response = _verify(client, _credential(issuer.did))

    assert response.status_code == 400
    assert _error_codes(response) == ["proof.missing"]


def test_verify_did_web_issuer_from_store(tmp_path: Path) -> None:
    database = tmp_path / "node.sqlite"
    did = "did:web:issuer.example.com"
    key = _ed25519(IssuerKey.generate())
    with Store.open(database) as store:
        store.put_key(f"{did}#key-1", encrypt_private_key(key, b"passphrase"))
        store.put_did_document(did, build_did_web_document(did, [("key-1", key.verification_key)]))
        web_issuer = load_issuer_key(store, f"{did}#key-1", b"passphrase")

    app = create_app(f"sqlite+pysqlite:///{database}", issuer=web_issuer)
    with TestClient(app) as client:
        secured = _issue(client, _credential(did), DI_OPTIONS).json()["verifiableCredential"]
        verified = _verify(client, secured)
        unknown = _issue(client, _credential(did)).json()["verifiableCredential"]
    other_app = create_app(f"sqlite+pysqlite:///{tmp_path / 'other.sqlite'}")
    with TestClient(other_app) as other_client:
        unresolved = _verify(other_client, unknown)

    assert web_issuer.did == did
    assert verified.status_code == 200, verified.text
    assert unresolved.status_code == 400
    assert "did.unresolved" in _error_codes(unresolved)


def test_load_issuer_key_errors(tmp_path: Path) -> None:
    key = IssuerKey.generate()
    with Store.open(tmp_path / "keys.sqlite") as store:
        store.put_key(key.verification_method, encrypt_private_key(_ed25519(key), b"right"))

        with pytest.raises(SigningKeyError, match="passphrase is wrong"):
            load_issuer_key(store, key.verification_method, b"wrong")
        with pytest.raises(SigningKeyError, match="no key did:key:z6Mkmissing#x"):
            load_issuer_key(store, "did:key:z6Mkmissing#x", b"right")


def test_verify_status_list(client: TestClient, issuer: IssuerKey, database_file: Path) -> None:
    list_url = "https://status.example.com/lists/1"
    status_list = StatusList()
    valid_from = _timestamp(datetime.now(UTC) - timedelta(days=1))

    def publish() -> None:
        unsigned = status_list_credential(
            status_list,
            credential_id=list_url,
            issuer=issuer.did,
            purpose="revocation",
            valid_from=valid_from,
        )
        envelope = sign_enveloped(unsigned, issuer.key, issuer.verification_method)
        with Store.open(database_file) as store:
            store.put_credential(
                list_url,
                json.dumps(envelope).encode(),
                credential_id=list_url,
                credential_type="BitstringStatusListCredential",
                issuer=issuer.did,
                replace=True,
            )

    publish()
    credential = _credential(issuer.did, credentialStatus=status_entry(list_url, 7, "revocation"))
    secured = _issue(client, credential).json()["verifiableCredential"]
    before = _verify(client, secured)
    status_list.set(7, True)
    publish()
    after = _verify(client, secured)
    missing = _credential(
        issuer.did,
        credentialStatus=status_entry("https://status.example.com/none", 1, "revocation"),
    )
    unavailable = _verify(client, _issue(client, missing).json()["verifiableCredential"])

    assert before.status_code == 200, before.text
    assert after.status_code == 400
    assert _error_codes(after) == ["status.revoked"]
    assert _error_codes(unavailable) == ["status.unavailable"]


# -- verifying presentations ---------------------------------------------------------------------


def _presentation(holder: IssuerKey, credentials: list[Any] | None = None) -> dict[str, Any]:
    presentation: dict[str, Any] = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
    }
    if credentials is not None:
        presentation["verifiableCredential"] = credentials
    return presentation


@pytest.mark.parametrize(
    ("relationships", "verified"),
    [(("authentication",), True), (("assertionMethod",), False)],
)
def test_presentation_authentication_key_only(
    tmp_path: Path, relationships: tuple[str, ...], verified: bool
) -> None:
    did = "did:web:holder.example.com"
    key = Ed25519KeyPair.generate()
    document = build_did_web_document(did, [("key-1", key.verification_key)])
    for relationship in ("assertionMethod", "authentication"):
        if relationship not in relationships:
            document[relationship] = []
    database = tmp_path / "node.sqlite"
    with Store.open(database) as store:
        store.put_did_document(did, document)
    web_holder = IssuerKey(f"{did}#key-1", key)
    presentation = _sign_presentation(_presentation(web_holder), web_holder)

    with TestClient(create_app(f"sqlite+pysqlite:///{database}")) as client:
        response = _verify_presentation(client, presentation)

    assert response.json()["verified"] is verified, response.text
    if not verified:
        assert "signature.key_not_found" in _error_codes(response)


def test_presentation_with_credentials(
    client: TestClient, issuer: IssuerKey, holder: IssuerKey
) -> None:
    enveloped = _issue(client, _credential(issuer.did)).json()["verifiableCredential"]
    embedded = _issue(client, _credential(issuer.did), DI_OPTIONS).json()["verifiableCredential"]
    presentation = _sign_presentation(_presentation(holder, [enveloped, embedded]), holder)

    response = _verify_presentation(
        client, presentation, {"challenge": CHALLENGE, "domain": DOMAIN, "returnPresentation": True}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert [result["verified"] for result in body["credentialResults"]] == [True, True]
    assert body["presentation"] == presentation


def test_presentation_bad_credential_fails(
    client: TestClient, issuer: IssuerKey, holder: IssuerKey
) -> None:
    embedded = _issue(client, _credential(issuer.did), DI_OPTIONS).json()["verifiableCredential"]
    embedded["credentialSubject"]["name"] = "Changed"
    presentation = _sign_presentation(_presentation(holder, [embedded]), holder)

    response = _verify_presentation(client, presentation)

    assert response.status_code == 400
    assert _error_codes(response) == ["signature.invalid"]
    assert response.json()["credentialResults"][0]["verified"] is False


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"challenge": "another-challenge", "domain": DOMAIN}, "presentation.challenge_mismatch"),
        ({"challenge": CHALLENGE, "domain": "verifier.example"}, "presentation.domain_mismatch"),
    ],
)
def test_presentation_binding_mismatch(
    client: TestClient, holder: IssuerKey, options: dict[str, Any], code: str
) -> None:
    presentation = _sign_presentation(_presentation(holder), holder)

    response = _verify_presentation(client, presentation, options)

    assert response.status_code == 400
    assert _error_codes(response) == [code]


def test_presentation_without_binding_options(client: TestClient, holder: IssuerKey) -> None:
    presentation = _sign_presentation(_presentation(holder), holder, challenge=None, domain=None)

    accepted = _verify_presentation(client, presentation, {})
    demanded = _verify_presentation(client, presentation)

    assert accepted.status_code == 200, accepted.text
    assert demanded.status_code == 400
    assert _error_codes(demanded) == [
        "presentation.challenge_mismatch",
        "presentation.domain_mismatch",
    ]


def test_presentation_rdfc_proof(client: TestClient, issuer: IssuerKey, holder: IssuerKey) -> None:
    options = {"cryptosuite": "eddsa-rdfc-2022"}
    embedded = _issue(client, _credential(issuer.did), options).json()["verifiableCredential"]
    presentation = add_proof(
        _presentation(holder, [embedded]),
        holder.key,
        holder.verification_method,
        cryptosuite="eddsa-rdfc-2022",
        created=datetime.now(UTC),
        proof_purpose="authentication",
    )

    response = _verify_presentation(client, presentation, {})

    assert response.status_code == 200, response.text
    assert response.json()["credentialResults"][0]["verified"] is True


def test_presentation_tampered_proof(client: TestClient, holder: IssuerKey) -> None:
    presentation = _sign_presentation(_presentation(holder), holder)
    presentation["proof"]["proofValue"] = "z5nmMBw2u9TGKd9NxxHJtyZKgjN2Eh"

    response = _verify_presentation(client, presentation)

    assert response.status_code == 400
    assert response.json()["verified"] is False


def test_presentation_signed_by_other(
    client: TestClient, issuer: IssuerKey, holder: IssuerKey
) -> None:
    presentation = _sign_presentation(_presentation(holder), issuer)

    response = _verify_presentation(client, presentation)

    assert response.status_code == 400
    assert _error_codes(response) == ["presentation.holder_mismatch"]


def test_presentation_unsigned(client: TestClient, issuer: IssuerKey, holder: IssuerKey) -> None:
    embedded = _issue(client, _credential(issuer.did), DI_OPTIONS).json()["verifiableCredential"]
    presentation = _presentation(holder, [embedded])

    without_options = _verify_presentation(client, presentation, {})
    with_challenge = _verify_presentation(client, presentation)

    assert without_options.status_code == 200, without_options.text
    assert [w["code"] for w in without_options.json()["warnings"]] == ["presentation.unsigned"]
    assert with_challenge.status_code == 400
    assert _error_codes(with_challenge) == ["presentation.unsigned"]


def test_presentation_holder_claims(
    client: TestClient, issuer: IssuerKey, holder: IssuerKey
) -> None:
    own_claims = _credential(holder.did)
    foreign_claims = _credential(issuer.did)
    accepted = _sign_presentation(_presentation(holder, [own_claims]), holder)
    rejected = _sign_presentation(_presentation(holder, [foreign_claims]), holder)
    unsigned = _presentation(holder, [own_claims])

    accepted_response = _verify_presentation(client, accepted)
    rejected_response = _verify_presentation(client, rejected)
    unsigned_response = _verify_presentation(client, unsigned, {})

    assert accepted_response.status_code == 200, accepted_response.text
    infos = [warning["code"] for warning in accepted_response.json()["warnings"]]
    assert infos == ["credential.holder_claims"]
    assert rejected_response.status_code == 400
    assert _error_codes(rejected_response) == ["proof.missing"]
    assert unsigned_response.status_code == 400
    assert _error_codes(unsigned_response) == ["proof.missing"]


def test_enveloped_presentation(client: TestClient, issuer: IssuerKey, holder: IssuerKey) -> None:
    credential = _issue(client, _credential(issuer.did)).json()["verifiableCredential"]
    presentation = _presentation(holder, [credential])
    claims = {"nonce": CHALLENGE, "aud": DOMAIN}
    enveloped = _envelop_presentation(presentation, holder, claims)
    wrong_nonce = _envelop_presentation(presentation, holder, {**claims, "nonce": "old"})
    expired = _envelop_presentation(
        presentation, holder, {**claims, "exp": int(time.time()) - 3600}
    )
    by_other = _envelop_presentation(presentation, issuer, claims)

    accepted = _verify_presentation(client, enveloped)

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["credentialResults"] == [
        {"credential": "verifiableCredential[0]", "verified": True}
    ]
    assert _error_codes(_verify_presentation(client, wrong_nonce)) == [
        "presentation.challenge_mismatch"
    ]
    assert _error_codes(_verify_presentation(client, expired)) == ["envelope.expired"]
    assert _error_codes(_verify_presentation(client, by_other)) == ["signature.kid_mismatch"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("empty context", "envelope.malformed"),
        ("examples context", "envelope.malformed"),
        ("credential media type", "envelope.malformed"),
        ("truncated token", "envelope.malformed"),
        ("changed payload", "signature.invalid"),
    ],
)
def test_enveloped_presentation_broken(
    client: TestClient, holder: IssuerKey, change: str, code: str
) -> None:
    enveloped = _envelop_presentation(_presentation(holder), holder, {"nonce": CHALLENGE})
    token = enveloped["id"].split(",", 1)[1]
    if change == "empty context":
        enveloped["@context"] = []
    elif change == "examples context":
        enveloped["@context"] = [EXAMPLES_CONTEXT]
    elif change == "credential media type":
        enveloped["id"] = f"data:application/vc+jwt,{token}"
    elif change == "truncated token":
        enveloped["id"] = f"data:application/vp+jwt,{token.rsplit('.', 1)[0]}"
    else:
        header, _, signature = token.split(".")
        payload = _b64url(json.dumps({**_presentation(holder), "nonce": "changed"}).encode())
        enveloped["id"] = f"data:application/vp+jwt,{header}.{payload}.{signature}"

    response = _verify_presentation(client, enveloped, {})

    assert response.status_code == 400
    assert code in _error_codes(response)


# -- request handling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"verifiableCredential": NaN}', "NaN is not a JSON number"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "expected an object"),
        (b"[" * 100 + b"]" * 100, "more than 64 levels deep"),
    ],
)
def test_unreadable_body(client: TestClient, content: bytes, detail: str) -> None:
    response = client.post(
        "/credentials/verify", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PARSING_ERROR
    assert detail in response.json()["detail"]


def test_wrong_media_type(client: TestClient) -> None:
    response = client.post(
        "/credentials/issue", content=b"{}", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]


def test_body_size_limit(issuer: IssuerKey, tmp_path: Path) -> None:
    app = create_app(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", max_document_bytes=1000)
    padding = "x" * 2000
    with TestClient(app) as client:
        response = _verify(client, _credential(issuer.did, description=padding))

    assert response.status_code == 413
    assert "limit of 1000 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "'verifiableCredential' is missing"),
        ({"verifiableCredential": "eyJ..."}, "is a JSON str"),
        ({"verifiableCredential": {}, "options": {"returnResults": True}}, "returnResults"),
        ({"verifiableCredential": {}, "options": {"checks": "proof"}}, "list of check names"),
        ({"verifiableCredential": {}, "options": {"returnCredential": "yes"}}, "true or false"),
        ({"verifiableCredential": {}, "options": {"challenge": "x"}}, "not supported here"),
    ],
)
def test_invalid_verify_request(client: TestClient, body: dict[str, Any], detail: str) -> None:
    response = client.post("/credentials/verify", json=body)

    assert response.status_code == 400
    assert detail in response.json()["detail"]


ODD_CREDENTIALS: list[Any] = [
    {},
    {"@context": 5, "type": {}, "issuer": [], "proof": "x"},
    {"@context": [VC_V2], "type": "VerifiableCredential", "proof": [1, None, {}]},
    {"@context": [VC_V2], "type": "VerifiableCredential", "proof": {"type": "DataIntegrityProof"}},
    {"@context": [VC_V2], "type": "EnvelopedVerifiableCredential", "id": 5},
    {
        "@context": [VC_V2],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt,a.b.c",
    },
    {"@context": [VC_V2, {"@vocab": 7}], "type": ["VerifiableCredential"], "credentialSubject": 3},
    {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "validFrom": "yesterday",
        "validUntil": 4,
    },
    {"@context": [VC_V2], "type": ["VerifiableCredential"], "credentialStatus": [{"type": 1}, "x"]},
    {"@context": [VC_V2], "type": ["VerifiableCredential"], "relatedResource": {"digestSRI": 1}},
]

ODD_PRESENTATIONS: list[Any] = [
    {},
    {"type": "VerifiablePresentation", "proof": 3, "holder": 4},
    {"@context": [VC_V2], "type": "VerifiablePresentation", "verifiableCredential": {"x": 1}},
    {"@context": [VC_V2], "type": "VerifiablePresentation", "proof": [{"challenge": []}]},
    {
        "@context": VC_V2,
        "type": "EnvelopedVerifiablePresentation",
        "id": "data:application/vp+jwt,a.b.c",
    },
    {"@context": VC_V2, "type": ["EnvelopedVerifiablePresentation"], "id": None},
]


@pytest.mark.parametrize("document", ODD_CREDENTIALS)
def test_odd_credential_no_server_error(client: TestClient, document: Any) -> None:
    response = _verify(client, document)

    assert response.status_code == 400
    assert response.json()["verified"] is False


@pytest.mark.parametrize("document", ODD_PRESENTATIONS)
def test_odd_presentation_no_server_error(client: TestClient, document: Any) -> None:
    response = _verify_presentation(client, document, {"challenge": CHALLENGE})

    assert response.status_code == 400
    assert response.json()["verified"] is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/credentials/1", True),
        ("did:example:subject", True),
        ("urn:uuid:9c9a36f8-518f-4976-a934-6649502d0008", True),
        ("https ://not-a-url/x", False),
        ("fake-issuer", False),
        ("https://", False),
        ("did:example:has space", False),
        (42, False),
    ],
)
def test_is_url(value: object, expected: bool) -> None:
    assert is_url(value) is expected


# -- the serve command -----------------------------------------------------------------------------

HOST = "127.0.0.1"
# It bounds the wait on a slow machine and measures nothing.
STARTUP_TIMEOUT_SECONDS = 60.0
LAUNCHER = """
import sys
import typer
from valuetrace.api._cli import register

app = typer.Typer()


@app.callback()
def main() -> None:
    pass


register(app)
app(sys.argv[1:])
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def test_issuer_option_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}"

    ed25519 = _issuer(url, "generate")
    p256 = _issuer(url, "generate", "P-256")

    assert ed25519 is not None
    assert ed25519.did.startswith("did:key:z6Mk")
    assert p256 is not None
    assert p256.did.startswith("did:key:zDn")
    assert f"issuer DID: {ed25519.did}" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--issuer-key-type 'RSA' is unknown"):
        _issuer(url, "generate", "RSA")


def test_issuer_option_needs_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALUETRACE_KEY_PASSPHRASE", raising=False)

    with pytest.raises(SigningKeyError, match="set VALUETRACE_KEY_PASSPHRASE"):
        _issuer(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite'}", "did:key:z6Mkx#z6Mkx")


def test_serve_issue_and_verify(tmp_path: Path) -> None:
    database = tmp_path / "node.sqlite"
    key = IssuerKey.generate()
    with Store.open(database) as store:
        blob = encrypt_private_key(_ed25519(key), b"serve-test")
        store.put_key(key.verification_method, blob)
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        LAUNCHER,
        "serve",
        "--db",
        f"sqlite+pysqlite:///{database}",
        "--host",
        HOST,
        "--port",
        str(port),
        "--issuer-key",
        key.verification_method,
        "--securing",
        DI,
    ]
    environment = {**os.environ, "VALUETRACE_KEY_PASSPHRASE": "serve-test"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment
    )
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_until_ready(process, base_url)
        with httpx.Client(base_url=base_url, timeout=30.0) as http:
            issued = http.post("/credentials/issue", json={"credential": _credential(key.did)})
            secured = issued.json()["verifiableCredential"]
            verified = http.post("/credentials/verify", json={"verifiableCredential": secured})
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output = process.stdout.read().decode() if process.stdout else ""
        if process.stdout is not None:
            process.stdout.close()

    assert issued.status_code == 201, issued.text
    assert secured["proof"]["verificationMethod"] == key.verification_method
    assert verified.status_code == 200, verified.text
    assert f"issuer DID: {key.did}" in output


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the server exited with code {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/eventTypes", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer on {base_url} within {STARTUP_TIMEOUT_SECONDS} s")

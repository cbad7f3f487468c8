"""VC-JOSE-COSE cases built from the W3C test suite's unsigned inputs and verification keys.

The suite hands an implementation a signed credential or presentation and the key that signed
it, and expects success or failure. These tests sign the suite's inputs with its test keys
through joserfc, an independent JOSE implementation, in the shape the suite's own signers use:
``kid`` is the key's JWK thumbprint and the payload repeats the issuer as ``iss``. Then they
check the result of ``verify --key`` through the library and through the command function.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey
from typer.testing import CliRunner

from valuetrace.cli import app
from valuetrace.did import EcKeyPair, KeyType
from valuetrace.errors import InputError
from valuetrace.findings import Finding, Severity
from valuetrace.vc._keyfile import (
    VerificationMethodKey,
    jwk_thumbprint,
    load_verification_key,
    read_verification_key,
)
from valuetrace.vc._verify_key import verify_file_with_key, verify_with_key

DATA = Path(__file__).parent / "data" / "vc-jose-cose"
DI_DATA = Path(__file__).parent / "data" / "vc-di" / "vc-di-eddsa"
ISSUER = "https://example.issuer/vc-jose-cose"
ALGORITHMS = {"ed25519": "EdDSA", "p256": "ES256", "p384": "ES384"}

IGNORE_EDDSA_DEPRECATION = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
pytestmark = IGNORE_EDDSA_DEPRECATION


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text())
    return document


def key_of(curve: str) -> VerificationMethodKey:
    return load_verification_key(DATA / f"vm-{curve}.json")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed_token(
    payload: dict[str, Any],
    curve: str = "p256",
    *,
    alg: str | None = None,
    header: dict[str, Any] | None = None,
) -> str:
    """Sign ``payload`` with a suite key through joserfc, as the suite's signers do."""
    method = load(f"vm-{curve}.json")
    secret = {name: value for name, value in method["secretKeyJwk"].items() if name != "alg"}
    key = OKPKey.import_key(secret) if secret["kty"] == "OKP" else ECKey.import_key(secret)
    algorithm = alg or ALGORITHMS[curve]
    protected = {"alg": algorithm, "kid": secret["kid"], "typ": "vc+jwt", "cty": "vc"}
    if header is not None:
        merged = {**protected, **header}
        protected = {name: value for name, value in merged.items() if value is not None}
    data = json.dumps(payload).encode("utf-8")
    return jws.serialize_compact(protected, data, key, algorithms=[algorithm])


def suite_payload(name: str = "credential-minimal.json", **claims: Any) -> dict[str, Any]:
    """The credential with the JWT claims the suite's signers add: iss and jti."""
    credential = load(name)
    payload = {**credential, "iss": credential["issuer"]}
    if "id" in credential:
        payload["jti"] = credential["id"]
    return {**payload, **claims}


def enveloped(token: str, media: str = "vc") -> dict[str, Any]:
    kind = "Credential" if media == "vc" else "Presentation"
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": f"EnvelopedVerifiable{kind}",
        "id": f"data:application/{media}+jwt,{token}",
    }


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings if finding.severity is Severity.ERROR]


def all_codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


# Verification keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "key_type"),
    [("ed25519", KeyType.ED25519), ("p256", KeyType.P256), ("p384", KeyType.P384)],
)
def test_key_file_json_web_key(curve: str, key_type: KeyType) -> None:
    method = load(f"vm-{curve}.json")

    key = key_of(curve)

    assert key.public_key.key_type is key_type
    assert key.key_id == method["id"]
    assert key.is_named_by(method["publicKeyJwk"]["kid"])
    assert key.is_named_by(method["id"])


@pytest.mark.parametrize("curve", ["ed25519", "p256", "p384"])
def test_thumbprint_matches_suite_kid(curve: str) -> None:
    """The suite's JWK kid values are RFC 7638 thumbprints."""
    method = load(f"vm-{curve}.json")

    assert jwk_thumbprint(key_of(curve).public_key) == method["publicKeyJwk"]["kid"]


def test_key_file_ignores_private_members() -> None:
    method = load("vm-p256.json")
    without_secret = {name: value for name, value in method.items() if name != "secretKeyJwk"}

    assert read_verification_key(method) == read_verification_key(without_secret)
    assert read_verification_key(method["secretKeyJwk"]).public_key == key_of("p256").public_key


def test_key_file_bare_jwk_id() -> None:
    jwk = load("vm-p384.json")["publicKeyJwk"]

    key = read_verification_key(jwk)

    assert key.key_id == jwk["kid"]
    assert key.public_key == key_of("p384").public_key


def test_key_file_multikey_method() -> None:
    public_key = key_of("p256").public_key
    method = {
        "id": "did:web:issuer.example#key-1",
        "type": "Multikey",
        "controller": "did:web:issuer.example",
        "publicKeyMultibase": public_key.multibase(),
    }

    key = read_verification_key(method)

    assert key.public_key == public_key
    assert key.is_named_by("#key-1")
    assert not key.is_named_by("#key-2")


def test_key_file_thumbprint_url_kid() -> None:
    key = key_of("ed25519")
    thumbprint = jwk_thumbprint(key.public_key)
    kid = f"https://example.issuer/keys/urn:ietf:params:oauth:jwk-thumbprint:sha-256:{thumbprint}"

    assert key.is_named_by(kid)
    assert not key.is_named_by(kid[:-1])


def test_key_file_data_integrity_key_pair() -> None:
    key = load_verification_key(DI_DATA / "keyPair.json")

    assert key.public_key.key_type is KeyType.ED25519
    assert key.key_id is None


def test_key_file_p521_unsupported() -> None:
    with pytest.raises(InputError, match=r"vm-p521\.json.*'P-521' is not supported"):
        key_of("p521")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected a JSON object"),
        ({"type": "JsonWebKey"}, "no 'publicKeyJwk' object"),
        ({"type": "Multikey"}, "no 'publicKeyMultibase' string"),
        ({"type": "EcdsaSecp256k1VerificationKey2019"}, "is not supported"),
        ({"type": ["Multikey"], "publicKeyMultibase": "z6Mk"}, "expected a string"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "c2hvcnQ"}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "short"}, "not base64url"),
    ],
)
def test_key_file_rejects(document: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_verification_key(document)


def test_key_file_not_json(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text("kty=OKP")

    with pytest.raises(InputError, match="is not valid JSON"):
        load_verification_key(path)


# Credentials that verify -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "curve", "alg"),
    [
        ("credential-minimal.json", "p256", "ES256"),
        ("credential-full.json", "p384", "ES384"),
        ("credential-minimal.json", "ed25519", "EdDSA"),
        ("credential-minimal.json", "ed25519", "Ed25519"),
    ],
)
def test_credential_verifies(name: str, curve: str, alg: str) -> None:
    token = signed_token(suite_payload(name), curve, alg=alg)

    assert verify_with_key(token, key_of(curve)) == []
    assert verify_with_key(enveloped(token), key_of(curve)) == []


def test_unknown_extensions_ignored() -> None:
    """Members that a verifier does not understand are ignored, as VC-JOSE-COSE requires."""
    token = signed_token(suite_payload("credential-unknown-extensions.json"), "ed25519")

    assert verify_with_key(token, key_of("ed25519")) == []


def test_credential_with_data_url_prefix() -> None:
    token = signed_token(suite_payload(), "p256")

    assert verify_with_key(f"data:application/vc+jwt,{token}", key_of("p256")) == []


def test_credential_without_kid_or_cty() -> None:
    token = signed_token(suite_payload(), "p384", header={"kid": None, "cty": None})

    assert verify_with_key(token, key_of("p384")) == []


def test_suite_signed_credential_verifies() -> None:
    """The vc+jwt credential inside the suite's presentation was signed by another JOSE stack."""
    presentation = load("presentation-multiple.json")

    findings = verify_with_key(presentation["verifiableCredential"][0], key_of("p256"))

    assert findings == []


def test_did_url_key_with_kid() -> None:
    key = load_verification_key(DATA / "vm-did-ed25519.json")
    token = signed_token(suite_payload(), "ed25519", header={"kid": key.key_id})

    assert verify_with_key(token, key) == []


def test_did_url_key_needs_kid() -> None:
    """kid must be present when the issuer's key is expressed as a DID URL."""
    key = load_verification_key(DATA / "vm-did-ed25519.json")
    token = signed_token(suite_payload(), "ed25519", header={"kid": None})

    findings = verify_with_key(token, key)

    assert codes(findings) == ["envelope.header_invalid"]
    assert findings[0].path == "$.header.kid"


def test_kid_of_other_key_warns() -> None:
    token = signed_token(suite_payload(), "p256", header={"kid": "#key-9"})

    findings = verify_with_key(token, key_of("p256"))

    assert codes(findings) == []
    assert all_codes(findings) == ["signature.kid_mismatch"]
    assert findings[0].severity is Severity.WARNING


# Credentials that fail -------------------------------------------------------------------------


def test_invalid_media_type() -> None:
    """The suite's invalid media type case: typ and cty are both wrong."""
    token = signed_token(suite_payload(), "ed25519", header={"typ": "bad+typ", "cty": "bad+cty"})

    findings = verify_with_key(token, key_of("ed25519"))

    assert codes(findings) == ["envelope.header_invalid", "envelope.header_invalid"]
    assert [finding.path for finding in findings] == ["$.header.typ", "$.header.cty"]


@pytest.mark.parametrize("typ", ["JWT", "vc+ld+jwt", "vc+sd-jwt", "application/json"])
def test_wrong_typ(typ: str) -> None:
    token = signed_token(suite_payload(), "p256", header={"typ": typ})

    findings = verify_with_key(enveloped(token), key_of("p256"))

    assert codes(findings) == ["envelope.header_invalid"]
    assert findings[0].path == "$.header.typ"


@pytest.mark.parametrize("cty", ["bad+cty", "vp", "json", "vc+ld+json"])
def test_wrong_cty(cty: str) -> None:
    token = signed_token(suite_payload(), "p256", header={"cty": cty})

    findings = verify_with_key(token, key_of("p256"))

    assert codes(findings) == ["envelope.header_invalid"]
    assert findings[0].path == "$.header.cty"


def test_presentation_typ_in_credential_envelope() -> None:
    token = signed_token(suite_payload(), "p256", header={"typ": "vp+jwt"})

    findings = verify_with_key(enveloped(token), key_of("p256"))

    assert codes(findings) == ["envelope.header_invalid"]
    assert "verify it as one" in findings[0].message


def test_vc_and_vp_claims() -> None:
    """The suite's case of a credential with vc and vp claims."""
    token = signed_token(suite_payload(vc="oops", vp="nooo"), "ed25519")

    findings = verify_with_key(token, key_of("ed25519"))

    assert codes(findings) == ["envelope.claims_invalid", "envelope.claims_invalid"]
    assert [finding.path for finding in findings] == ["$.vc", "$.vp"]


def test_vc_1_1_jwt_shape() -> None:
    """A VC Data Model 1.1 JWT wraps the credential in vc. A 2.0 payload is the credential."""
    credential = load("credential-minimal.json")
    payload = {"iss": ISSUER, "nbf": 1262373804, "jti": credential["id"], "vc": credential}
    token = signed_token(payload, "p256")

    findings = verify_with_key(token, key_of("p256"))

    assert codes(findings) == [
        "envelope.claims_invalid",
        "envelope.payload_invalid",
        "envelope.payload_invalid",
    ]
    assert [finding.path for finding in findings] == ["$.vc", "$.type", "$.issuer"]


def test_bad_signature() -> None:
    token = signed_token(suite_payload(), "ed25519")
    header, payload, signature = token.split(".")
    flipped = bytearray(base64.urlsafe_b64decode(signature + "=="))
    flipped[0] ^= 0x01

    findings = verify_with_key(f"{header}.{payload}.{b64url(bytes(flipped))}", key_of("ed25519"))

    assert codes(findings) == ["signature.invalid"]


def test_changed_payload() -> None:
    token = signed_token(suite_payload(), "p384")
    header, _, signature = token.split(".")
    changed = suite_payload()
    changed["credentialSubject"]["degree"]["name"] = "Doctor of Philosophy"
    payload = b64url(json.dumps(changed).encode("utf-8"))

    findings = verify_with_key(f"{header}.{payload}.{signature}", key_of("p384"))

    assert codes(findings) == ["signature.invalid"]


def test_signed_by_other_key() -> None:
    token = signed_token(suite_payload(), "p256")
    other = read_verification_key(EcKeyPair.generate(KeyType.P256).public_jwk)

    findings = verify_with_key(token, other)

    assert codes(findings) == ["signature.invalid"]


@pytest.mark.parametrize(
    ("signer_curve", "verifier_curve"),
    [("p256", "p384"), ("p384", "p256"), ("ed25519", "p256"), ("p256", "ed25519")],
)
def test_alg_does_not_fit_key(signer_curve: str, verifier_curve: str) -> None:
    token = signed_token(suite_payload(), signer_curve)

    findings = verify_with_key(token, key_of(verifier_curve))

    assert codes(findings) == ["signature.alg_rejected"]
    assert findings[-1].path == "$.header.alg"


def test_header_alg_changed() -> None:
    """A P-256 signature relabelled ES384 is rejected by the key type, not by length."""
    key = EcKeyPair.from_jwk(load("vm-p256.json")["secretKeyJwk"])
    header = {"alg": "ES384", "typ": "vc+jwt", "cty": "vc"}
    signing_input = (
        f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(suite_payload()).encode())}"
    )
    token = f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"

    findings = verify_with_key(token, key_of("p256"))

    assert codes(findings) == ["signature.alg_rejected"]
    assert "does not fit the P-256 key" in findings[0].message


def test_unsecured_jwt() -> None:
    header = b64url(json.dumps({"alg": "none", "typ": "vc+jwt"}).encode())
    payload = b64url(json.dumps(suite_payload()).encode())

    findings = verify_with_key(f"{header}.{payload}.", key_of("ed25519"))

    assert codes(findings) == ["signature.alg_rejected"]


def test_unsecured_credential() -> None:
    findings = verify_with_key(load("credential-minimal.json"), key_of("ed25519"))

    assert codes(findings) == ["proof.missing"]


@pytest.mark.parametrize(
    ("claims", "path"),
    [
        ({"iss": "https://other.example/issuer"}, "$.iss"),
        ({"jti": "urn:uuid:00000000-0000-0000-0000-000000000000"}, "$.jti"),
        ({"sub": "did:example:456"}, "$.sub"),
    ],
)
def test_claim_disagrees_with_credential(claims: dict[str, str], path: str) -> None:
    token = signed_token(suite_payload(**claims), "p256")

    findings = verify_with_key(token, key_of("p256"))

    assert codes(findings) == ["envelope.claim_mismatch"]
    assert findings[0].path == path


def test_claims_agreeing_with_issuer_object() -> None:
    credential = load("credential-minimal.json")
    credential["issuer"] = {"id": ISSUER, "name": "Example issuer"}
    payload = {**credential, "iss": ISSUER, "sub": "did:example:123"}

    assert verify_with_key(signed_token(payload, "p256"), key_of("p256")) == []


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": 1262373804}, "envelope.expired"),
        ({"nbf": 32503680000}, "envelope.not_yet_valid"),
        ({"exp": "2030-01-01T00:00:00Z"}, "envelope.claims_invalid"),
        ({"nbf": True}, "envelope.claims_invalid"),
    ],
)
def test_validity_claims(claims: dict[str, Any], code: str) -> None:
    token = signed_token(suite_payload(**claims), "p384")

    assert codes(verify_with_key(token, key_of("p384"))) == [code]


def test_validity_claims_accepted() -> None:
    token = signed_token(suite_payload(nbf=1262373804, exp=32503680000), "p384")

    assert verify_with_key(token, key_of("p384")) == []


def test_credential_without_issuer() -> None:
    payload = suite_payload()
    del payload["issuer"]
    del payload["iss"]

    findings = verify_with_key(signed_token(payload, "p256"), key_of("p256"))

    assert codes(findings) == ["envelope.payload_invalid"]
    assert findings[0].path == "$.issuer"


def test_truncated_token() -> None:
    token = signed_token(suite_payload(), "p256")

    findings = verify_with_key(token.rsplit(".", 1)[0], key_of("p256"))

    assert codes(findings) == ["envelope.malformed"]


# Presentations ---------------------------------------------------------------------------------


def presentation_token(presentation: dict[str, Any], curve: str, **header: Any) -> str:
    return signed_token(presentation, curve, header={"typ": "vp+jwt", "cty": "vp", **header})


def test_presentation_verifies() -> None:
    presentation = load("presentation-multiple.json")
    presentation["verifiableCredential"] = presentation["verifiableCredential"][:1]
    token = presentation_token(presentation, "p384")

    findings = verify_with_key(enveloped(token, "vp"), key_of("p384"))

    assert codes(findings) == []
    assert all_codes(findings) == ["signature.unchecked"]
    assert findings[0].credential == "http://university.example/credentials/1872"


def test_presentation_raw_token() -> None:
    presentation = load("presentation-multiple.json")
    presentation["verifiableCredential"] = presentation["verifiableCredential"][:1]

    findings = verify_with_key(presentation_token(presentation, "p384"), key_of("p384"))

    assert codes(findings) == []


def test_presentation_other_formats_unsupported() -> None:
    """SD-JWT and COSE credentials are reported as unsupported, not passed as verified."""
    token = presentation_token(load("presentation-multiple.json"), "p384")

    findings = verify_with_key(enveloped(token, "vp"), key_of("p384"))

    assert codes(findings) == [
        "presentation.credential_unsupported",
        "presentation.credential_unsupported",
    ]
    assert [finding.path for finding in findings if finding.severity is Severity.ERROR] == [
        "$.verifiableCredential[1]",
        "$.verifiableCredential[2]",
    ]


def test_presentation_invalid_credential() -> None:
    """The suite's presentation-single.json carries a damaged credential token."""
    token = presentation_token(load("presentation-single.json"), "ed25519")

    findings = verify_with_key(enveloped(token, "vp"), key_of("ed25519"))

    assert codes(findings) == ["envelope.malformed"]
    assert findings[0].path == "$.verifiableCredential[0]"


def test_presentation_unsecured_credential() -> None:
    presentation = load("presentation-single.json")
    presentation["verifiableCredential"] = [load("credential-minimal.json")]
    token = presentation_token(presentation, "ed25519")

    findings = verify_with_key(enveloped(token, "vp"), key_of("ed25519"))

    assert codes(findings) == ["presentation.credential_invalid"]


def test_presentation_invalid_media_type() -> None:
    presentation = load("presentation-multiple.json")
    presentation["verifiableCredential"] = presentation["verifiableCredential"][:1]
    token = presentation_token(presentation, "ed25519", typ="bad+typ", cty="bad+cty")

    findings = verify_with_key(enveloped(token, "vp"), key_of("ed25519"))

    assert codes(findings) == ["envelope.header_invalid", "envelope.header_invalid"]


def test_presentation_vp_claim() -> None:
    presentation = load("presentation-multiple.json")
    presentation["verifiableCredential"] = presentation["verifiableCredential"][:1]
    token = presentation_token({**presentation, "vp": {"type": "VerifiablePresentation"}}, "p256")

    findings = verify_with_key(enveloped(token, "vp"), key_of("p256"))

    assert codes(findings) == ["envelope.claims_invalid"]


def test_presentation_bad_signature() -> None:
    presentation = load("presentation-multiple.json")
    presentation["verifiableCredential"] = presentation["verifiableCredential"][:1]
    token = presentation_token(presentation, "p256")

    findings = verify_with_key(enveloped(token, "vp"), key_of("p384"))

    assert codes(findings) == ["signature.alg_rejected"]


def test_unsecured_presentation() -> None:
    findings = verify_with_key(load("presentation-single.json"), key_of("ed25519"))

    assert codes(findings) == ["proof.missing"]


# Data Integrity proofs -------------------------------------------------------------------------


def test_data_integrity_vector_verifies() -> None:
    key = load_verification_key(DI_DATA / "keyPair.json")
    document = json.loads((DI_DATA / "eddsa-jcs-2022" / "signedJCS.json").read_text())

    assert verify_with_key(document, key) == []


def test_data_integrity_other_key() -> None:
    document = json.loads((DI_DATA / "eddsa-jcs-2022" / "signedJCS.json").read_text())

    findings = verify_with_key(document, key_of("ed25519"))

    assert codes(findings) == ["signature.invalid"]
    assert all_codes(findings) == ["signature.invalid", "signature.kid_mismatch"]


# Files and the command -------------------------------------------------------------------------


def test_file_json_string_token(tmp_path: Path) -> None:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(signed_token(suite_payload(), "p256")))

    assert verify_file_with_key(path, key_of("p256")) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a token", "neither valid JSON"), (b"[1, 2]", "JSON list"), (b"\xff\xfe", "UTF-8")],
)
def test_file_malformed(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "credential.json"
    path.write_bytes(content)

    findings = verify_file_with_key(path, key_of("p256"))

    assert codes(findings) == ["credential.malformed"]
    assert message in findings[0].message


runner = CliRunner()


def run_verify(*args: str) -> Result:
    """Run ``valuetrace verify`` with the given arguments."""
    return runner.invoke(app, ["verify", *args])


@pytest.fixture
def write_token(tmp_path: Path) -> Callable[[str], Path]:
    def write(token: str) -> Path:
        path = tmp_path / "signed.json"
        path.write_text(token + "\n")
        return path

    return write


@pytest.mark.parametrize("curve", ["ed25519", "p256", "p384"])
def test_command_verifies(curve: str, write_token: Callable[[str], Path]) -> None:
    path = write_token(signed_token(suite_payload(), curve))

    result = run_verify(str(path), "--key", str(DATA / f"vm-{curve}.json"))

    assert result.exit_code == 0, result.output
    assert f"{path}: verified with key {ISSUER}#key-" in result.output


def test_command_enveloped_file(tmp_path: Path) -> None:
    path = tmp_path / "enveloped.json"
    path.write_text(json.dumps(enveloped(signed_token(suite_payload(), "p384"))))

    result = run_verify(str(path), "--key", str(DATA / "vm-p384.json"))

    assert result.exit_code == 0, result.output


def test_command_not_verified(write_token: Callable[[str], Path]) -> None:
    path = write_token(signed_token(suite_payload(vc="oops"), "ed25519"))

    result = run_verify(str(path), "--key", str(DATA / "vm-ed25519.json"))

    assert result.exit_code == 1
    assert "not verified" in result.output
    assert "error envelope.claims_invalid $.vc:" in result.output


def test_command_json(write_token: Callable[[str], Path]) -> None:
    path = write_token(signed_token(suite_payload(), "p256", header={"typ": "JWT"}))

    result = run_verify(str(path), "--key", str(DATA / "vm-p256.json"), "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert report["key"] == f"{ISSUER}#key-1"
    assert [finding["code"] for finding in report["findings"]] == ["envelope.header_invalid"]


def test_command_prints_brackets(write_token: Callable[[str], Path]) -> None:
    """Messages quoting JSON arrays are printed as they are, not read as markup."""
    payload = suite_payload()
    payload["type"] = ["ExampleAlumniCredential"]
    path = write_token(signed_token(payload, "p256"))

    result = run_verify(str(path), "--key", str(DATA / "vm-p256.json"))

    assert result.exit_code == 1
    assert "['ExampleAlumniCredential']" in result.output


def test_command_missing_file(tmp_path: Path) -> None:
    result = run_verify(str(tmp_path / "absent.json"), "--key", str(DATA / "vm-p256.json"))

    assert result.exit_code == 2
    assert "file not found" in result.output


def test_command_unsupported_key(write_token: Callable[[str], Path]) -> None:
    path = write_token(signed_token(suite_payload(), "p256"))

    result = run_verify(str(path), "--key", str(DATA / "vm-p521.json"))

    assert result.exit_code == 2
    assert "'P-521' is not supported" in result.output


def test_command_missing_key(tmp_path: Path, write_token: Callable[[str], Path]) -> None:
    path = write_token(signed_token(suite_payload(), "p256"))

    result = run_verify(str(path), "--key", str(tmp_path / "absent-key.json"))

    assert result.exit_code == 2
    assert "cannot read key file" in result.output


def test_typ_list_treated_as_credential() -> None:
    """joserfc refuses to write a list as typ, so this token is signed by hand."""
    key = EcKeyPair.from_jwk(load("vm-p256.json")["secretKeyJwk"])
    header = b64url(json.dumps({"alg": "ES256", "typ": ["vp+jwt"]}).encode())
    signing_input = f"{header}.{b64url(json.dumps(suite_payload()).encode())}"
    token = f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"

    findings = verify_with_key(token, key_of("p256"))

    assert codes(findings) == ["envelope.header_invalid"]
    assert findings[0].path == "$.header.typ"


def test_command_url_target_with_key() -> None:
    result = run_verify("https://example.test/credential.json", "--key", str(DATA / "vm-p256.json"))

    assert result.exit_code == 2
    assert "file not found: https://example.test/credential.json" in result.output

"""The ``valuetrace`` command: exit codes, JSON output and bad input."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from valuetrace.cli import app
from valuetrace.did import decrypt_private_key
from valuetrace.store import Store

GARMENT = "https://id.valuetrace.example/01/09520123000066/10/TS-2026-0042"
REGISTER = "did:web:register.valuetrace.example"
SAMPLES = Path(__file__).parent.parent / "src" / "valuetrace" / "data" / "untp" / "0.6.1"

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli")
    store = folder / "demo.sqlite"
    export = folder / "export"
    result = runner.invoke(app, ["demo", "--store", str(store), "--export", str(export)])
    assert result.exit_code == 0, result.output
    return store, export


def verify_json(*args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["verify", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_demo_command_exits_zero() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "valuetrace", "demo", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["verified"] is True
    assert report["root"] == GARMENT


def test_demo_tamper_exits_one() -> None:
    result = runner.invoke(app, ["demo", "--tamper", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["verified"] is False
    codes = {finding["code"] for finding in report["findings"]}
    assert "signature.invalid" in codes


def test_demo_store_refuses_existing(tmp_path: Path) -> None:
    existing = tmp_path / "used.sqlite"
    existing.write_bytes(b"")
    result = runner.invoke(app, ["demo", "--store", str(existing)])
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_verify_store_report_shape(demo_store: tuple[Path, Path]) -> None:
    store, _ = demo_store
    code, report = verify_json(GARMENT, "--store", str(store), "--trust-did", REGISTER)
    assert code == 0
    for key in ("verified", "root", "credentials", "findings", "provenance", "claims"):
        assert key in report
    assert report["credentials"] == 34
    provenance = report["provenance"]
    assert isinstance(provenance, dict)
    assert provenance["verifiedRatio"] == pytest.approx(0.95)


def test_verify_leaves_store_unchanged(demo_store: tuple[Path, Path]) -> None:
    store, _ = demo_store

    def contents() -> dict[str, str]:
        with Store.open(store) as opened:
            return {
                item.uri: hashlib.sha256(item.content).hexdigest()
                for item in opened.find_credentials()
            }

    before = contents()
    code, _ = verify_json(GARMENT, "--store", str(store), "--trust-did", REGISTER)
    assert code == 0
    assert contents() == before


def test_verify_without_trust_not_verified(demo_store: tuple[Path, Path]) -> None:
    store, _ = demo_store
    code, report = verify_json(GARMENT, "--store", str(store))
    assert code == 1
    assert "trust.no_roots" in {f["code"] for f in report["findings"]}  # type: ignore[index, union-attr]


def test_verify_at_future_expired(demo_store: tuple[Path, Path]) -> None:
    store, _ = demo_store
    code, report = verify_json(
        GARMENT, "--store", str(store), "--trust-did", REGISTER, "--at", "2099-01-01T00:00:00Z"
    )
    assert code == 1
    assert "credential.expired" in {f["code"] for f in report["findings"]}  # type: ignore[index, union-attr]


def test_verify_exported_files_offline(demo_store: tuple[Path, Path]) -> None:
    _, export = demo_store
    code, report = verify_json(
        GARMENT,
        "--credentials",
        str(export / "enveloped"),
        "--credentials",
        str(export / "did"),
        "--trust-did",
        REGISTER,
    )
    assert code == 0
    assert report["verified"] is True


def test_verify_single_file_target(demo_store: tuple[Path, Path]) -> None:
    _, export = demo_store
    target = export / "enveloped" / "dcc-social-audit.json"
    code, report = verify_json(
        str(target),
        "--credentials",
        str(export / "did"),
        "--credentials",
        str(export / "enveloped"),
        "--trust-did",
        REGISTER,
    )
    assert code == 0
    assert report["rootCredential"] == str(target)


def test_verify_missing_file_exit_two(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_verify_bad_time_exit_two() -> None:
    result = runner.invoke(app, ["verify", GARMENT, "--at", "yesterday"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.output


def test_verify_malformed_json_finding(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"@context": [')
    code, report = verify_json(str(broken), "--trust-did", REGISTER)
    assert code == 1
    findings = report["findings"]
    assert isinstance(findings, list)
    malformed = [f for f in findings if f["code"] == "credential.malformed"]
    assert malformed and str(broken) in malformed[0]["message"]


def test_verify_truncated_jwt_finding(demo_store: tuple[Path, Path], tmp_path: Path) -> None:
    _, export = demo_store
    envelope = json.loads((export / "enveloped" / "dpp-yarn.json").read_text())
    envelope["id"] = envelope["id"].rsplit(".", 1)[0]
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(envelope))
    code, report = verify_json(str(truncated), "--trust-did", REGISTER)
    assert code == 1
    findings = report["findings"]
    assert isinstance(findings, list)
    assert "envelope.malformed" in {f["code"] for f in findings}


def test_validate_samples_exit_zero() -> None:
    samples = sorted(str(path) for path in SAMPLES.glob("*/untp-*-instance.json"))
    assert len(samples) == 5
    result = runner.invoke(app, ["validate", *samples])
    assert result.exit_code == 0, result.output


def test_validate_broken_sample_json(tmp_path: Path) -> None:
    sample = json.loads((SAMPLES / "dfr" / "untp-dfr-instance.json").read_text())
    sample["credentialSubject"]["facility"]["countryOfOperation"] = 36
    broken = tmp_path / "dfr.json"
    broken.write_text(json.dumps(sample))
    result = runner.invoke(app, ["validate", "--json", str(broken)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    paths = {f["path"] for f in report["files"][0]["findings"]}
    assert "$.credentialSubject.facility.countryOfOperation" in paths


def test_validate_enveloped_file(demo_store: tuple[Path, Path]) -> None:
    _, export = demo_store
    result = runner.invoke(app, ["validate", str(export / "enveloped" / "dpp-garment.json")])
    assert result.exit_code == 0, result.output
    assert "signature.unchecked" in result.output


def test_validate_embedded_proof_file(tmp_path: Path) -> None:
    from valuetrace.did import Ed25519KeyPair, did_key_from_public_key
    from valuetrace.vc._dataintegrity import add_proof_eddsa_jcs

    sample = json.loads((SAMPLES / "dpp" / "untp-dpp-instance.json").read_text())
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    sample["issuer"]["id"] = did
    signed = add_proof_eddsa_jcs(
        sample, key, f"{did}#{key.public_multibase}", created=datetime.now(UTC)
    )
    path = tmp_path / "dpp-with-proof.json"
    path.write_text(json.dumps(signed))

    result = runner.invoke(app, ["validate", "--json", str(path)])

    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["files"][0]["findings"]
    assert [(f["code"], f["path"]) for f in findings] == [("signature.unchecked", "$.proof")]


def test_keys_issue_did_round_trip(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    env = {"VALUETRACE_KEY_PASSPHRASE": "correct horse battery staple"}
    did = "did:web:mill.valuetrace.example"
    created = runner.invoke(app, ["keys", "new", "--did", did, "--store", str(store)], env=env)
    assert created.exit_code == 0, created.output
    assert f"{did}#key-1" in created.output

    document = runner.invoke(app, ["did", "web", did, "--store", str(store)], env=env)
    assert document.exit_code == 0, document.output
    assert json.loads(document.stdout)["id"] == did

    credential = json.loads((SAMPLES / "dfr" / "untp-dfr-instance.json").read_text())
    credential["issuer"]["id"] = did
    credential["id"] = "https://mill.valuetrace.example/credentials/dfr.json"
    credential["validUntil"] = "2099-01-01T00:00:00Z"
    source = tmp_path / "dfr.json"
    source.write_text(json.dumps(credential))
    issued = runner.invoke(
        app, ["issue", str(source), "--key-id", f"{did}#key-1", "--store", str(store)], env=env
    )
    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.stdout)["type"] == "EnvelopedVerifiableCredential"

    code, report = verify_json(credential["id"], "--store", str(store), "--trust-did", did)
    assert code == 0, report


def test_keys_wrong_passphrase_exit_two(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    did = "did:web:mill.valuetrace.example"
    runner.invoke(
        app,
        ["keys", "new", "--did", did, "--store", str(store)],
        env={"VALUETRACE_KEY_PASSPHRASE": "first"},
    )
    credential = json.loads((SAMPLES / "dfr" / "untp-dfr-instance.json").read_text())
    credential["issuer"]["id"] = did
    source = tmp_path / "dfr.json"
    source.write_text(json.dumps(credential))
    result = runner.invoke(
        app,
        ["issue", str(source), "--key-id", f"{did}#key-1", "--store", str(store)],
        env={"VALUETRACE_KEY_PASSPHRASE": "second"},
    )
    assert result.exit_code == 2
    assert "passphrase is wrong" in result.output


def test_did_web_needs_no_passphrase(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    did = "did:web:mill.valuetrace.example"
    runner.invoke(
        app,
        ["keys", "new", "--did", did, "--store", str(store)],
        env={"VALUETRACE_KEY_PASSPHRASE": "first"},
    )
    result = runner.invoke(app, ["did", "web", did, "--store", str(store)], env={})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verificationMethod"][0]["id"] == f"{did}#key-1"


def test_version_option() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "0.1.0"


def test_validate_missing_file_exit_two(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "absent.json")])
    assert result.exit_code == 2


def test_key_never_printed(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    secret = "x" * 12
    result = runner.invoke(
        app, ["keys", "new", "--store", str(store)], env={"VALUETRACE_KEY_PASSPHRASE": secret}
    )
    assert result.exit_code == 0
    with Store.open(store) as opened:
        (kid,) = opened.list_keys()
        blob = opened.get_key(kid)
    assert blob is not None
    private = decrypt_private_key(blob, secret).private_bytes()
    forms = {private.hex(), base64.urlsafe_b64encode(private).decode().rstrip("=")}
    for form in forms:
        assert form not in result.output
        assert form.encode() not in blob


def test_verify_demo_on_database(database_url: str) -> None:
    from valuetrace.demo import build_textile_chain

    with Store.open(database_url) as store:
        chain = build_textile_chain(store, key_secret=b"test passphrase")
    code, report = verify_json(chain.garment_link, "--db", database_url, "--trust-did", REGISTER)
    assert code == 0, report
    assert report["credentials"] == 34


def test_status_revoke_command(tmp_path: Path) -> None:
    from valuetrace.demo import build_textile_chain

    path = tmp_path / "demo.sqlite"
    with Store.open(path) as store:
        chain = build_textile_chain(store, key_secret=b"demo passphrase")
    certificate = chain.credentials["dcc-organic-cotton"]
    env = {"VALUETRACE_KEY_PASSPHRASE": "demo passphrase"}

    revoked = runner.invoke(app, ["status", "revoke", certificate, "--store", str(path)], env=env)
    assert revoked.exit_code == 0, revoked.output

    code, report = verify_json(chain.garment_link, "--store", str(path), "--trust-did", REGISTER)
    assert code == 1
    findings = report["findings"]
    assert isinstance(findings, list)
    revoked_codes = [
        (f["code"], f["credential"]) for f in findings if f["code"] == "status.revoked"
    ]
    assert revoked_codes == [("status.revoked", certificate)]


def test_status_revoke_unknown_credential(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    with Store.open(path):
        pass
    result = runner.invoke(
        app, ["status", "revoke", "https://x.valuetrace.example/c.json", "--store", str(path)]
    )
    assert result.exit_code == 2
    assert "no credential stored" in result.output


# Key types and securing mechanisms -------------------------------------------------------------

MILL = "did:web:mill.valuetrace.example"
MILL_ENV = {"VALUETRACE_KEY_PASSPHRASE": "correct horse battery staple"}


def new_key(store: Path, *args: str) -> str:
    """Create a key with 'keys new' and return the key id it prints."""
    result = runner.invoke(app, ["keys", "new", "--store", str(store), *args], env=MILL_ENV)
    assert result.exit_code == 0, result.output
    return result.stdout.split("key id: ", 1)[1].split()[0]


def dfr_source(tmp_path: Path, issuer: str, name: str) -> tuple[Path, str]:
    """Write a valid DFR credential of ``issuer`` and return its file and id."""
    credential = json.loads((SAMPLES / "dfr" / "untp-dfr-instance.json").read_text())
    credential["issuer"]["id"] = issuer
    credential["id"] = f"https://mill.valuetrace.example/credentials/{name}.json"
    credential["validUntil"] = "2099-01-01T00:00:00Z"
    source = tmp_path / f"{name}.json"
    source.write_text(json.dumps(credential))
    return source, credential["id"]


def run_issue(
    store: Path, source: Path, kid: str, *options: str, env: dict[str, str] = MILL_ENV
) -> Result:
    return runner.invoke(
        app, ["issue", str(source), "--key-id", kid, "--store", str(store), *options], env=env
    )


def test_keys_new_ec_types(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"

    p256 = new_key(store, "--did", MILL, "--type", "P-256")
    p384 = new_key(store, "--type", "p-384")

    assert p256 == f"{MILL}#key-1"
    assert p384.startswith("did:key:z82")
    with Store.open(store) as opened:
        blob = opened.get_key(p256)
    assert blob is not None
    assert json.loads(blob)["keyType"] == "P-256"


def test_keys_new_unknown_type(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["keys", "new", "--store", str(tmp_path / "s.sqlite"), "--type", "P-521"]
    )

    assert result.exit_code == 2
    assert "P-521" in result.output


def test_did_web_publishes_ec_keys(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    new_key(store, "--did", MILL, "--type", "P-256")
    new_key(store, "--did", MILL, "--type", "P-384", "--fragment", "key-2")

    result = runner.invoke(app, ["did", "web", MILL, "--store", str(store)], env={})

    assert result.exit_code == 0, result.output
    methods = json.loads(result.stdout)["verificationMethod"]
    assert [method["type"] for method in methods] == ["Multikey", "Multikey"]
    assert methods[0]["publicKeyMultibase"].startswith("zDn")
    assert methods[1]["publicKeyMultibase"].startswith("z82")


@pytest.mark.parametrize(("key_type", "alg"), [("P-256", "ES256"), ("P-384", "ES384")])
def test_issue_jose_with_ec_key(tmp_path: Path, key_type: str, alg: str) -> None:
    store = tmp_path / "mine.sqlite"
    kid = new_key(store, "--did", MILL, "--type", key_type)
    assert runner.invoke(app, ["did", "web", MILL, "--store", str(store)]).exit_code == 0
    source, credential_id = dfr_source(tmp_path, MILL, "dfr")

    issued = run_issue(store, source, kid)

    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.stdout)["id"].split(",", 1)[1]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == alg
    code, report = verify_json(credential_id, "--store", str(store), "--trust-did", MILL)
    assert code == 0, report


def test_issue_eddsa_jcs_proof(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    kid = new_key(store, "--did", MILL)
    assert runner.invoke(app, ["did", "web", MILL, "--store", str(store)]).exit_code == 0
    source, credential_id = dfr_source(tmp_path, MILL, "dfr")

    issued = run_issue(store, source, kid, "--proof", "eddsa-jcs-2022")

    assert issued.exit_code == 0, issued.output
    proof = json.loads(issued.stdout)["proof"]
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["verificationMethod"] == kid
    code, report = verify_json(credential_id, "--store", str(store), "--trust-did", MILL)
    assert code == 0, report


def test_issue_proof_needs_fitting_key(tmp_path: Path) -> None:
    """An eddsa proof with a P-256 key fails before the passphrase is asked for."""
    store = tmp_path / "mine.sqlite"
    kid = new_key(store, "--did", MILL, "--type", "P-256")
    source, _ = dfr_source(tmp_path, MILL, "dfr")

    result = run_issue(
        store, source, kid, "--proof", "eddsa-jcs-2022", env={"VALUETRACE_KEY_PASSPHRASE": ""}
    )

    assert result.exit_code == 2
    assert "signs with Ed25519 keys" in result.output
    assert "P-256 key" in result.output


def test_issue_proof_key_of_other_issuer(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    kid = new_key(store)
    source, _ = dfr_source(tmp_path, MILL, "dfr")

    result = run_issue(store, source, kid, "--proof", "eddsa-jcs-2022")

    assert result.exit_code == 2
    assert "is not a key of the credential's issuer" in result.output


@pytest.mark.parametrize(
    ("proof", "key_type"),
    [("eddsa-rdfc-2022", "Ed25519"), ("ecdsa-rdfc-2019", "P-256"), ("ecdsa-rdfc-2019", "P-384")],
)
def test_issue_rdfc_proof(tmp_path: Path, proof: str, key_type: str) -> None:
    store = tmp_path / "mine.sqlite"
    kid = new_key(store, "--did", MILL, "--type", key_type)
    assert runner.invoke(app, ["did", "web", MILL, "--store", str(store)]).exit_code == 0
    source, credential_id = dfr_source(tmp_path, MILL, "dfr")

    issued = run_issue(store, source, kid, "--proof", proof)

    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.stdout)["proof"]["cryptosuite"] == proof
    code, report = verify_json(credential_id, "--store", str(store), "--trust-did", MILL)
    assert code == 0, report


def test_issue_ecdsa_proof_with_ed25519_key(tmp_path: Path) -> None:
    store = tmp_path / "mine.sqlite"
    kid = new_key(store, "--did", MILL)
    source, _ = dfr_source(tmp_path, MILL, "dfr")

    result = run_issue(store, source, kid, "--proof", "ecdsa-rdfc-2019")

    assert result.exit_code == 2
    assert "signs with P-256 or P-384 keys" in result.output


def test_verify_verdict_survives_closed_pipe(demo_store: tuple[Path, Path]) -> None:
    """A reader that stops early, like `head -1`, does not turn a verified report into exit 1."""
    store, _ = demo_store
    command = [sys.executable, "-m", "valuetrace", "verify", GARMENT, "--store", str(store)]
    process = subprocess.Popen(
        [*command, "--trust-did", REGISTER, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    # Closed before the walk ends, so the report is written into a pipe without a reader.
    process.stdout.close()

    assert process.wait(timeout=120) == 0

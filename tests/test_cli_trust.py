"""The trust options of ``valuetrace verify``: trust files, accreditation bodies and the rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuetrace.cli import app

runner = CliRunner()

GARMENT = "https://id.valuetrace.example/01/09520123000066/10/TS-2026-0042"
REGISTER = "did:web:register.valuetrace.example"
ACCREDITATION_BODY = "did:web:accreditation.valuetrace.example"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("trust") / "demo.sqlite"
    result = runner.invoke(app, ["demo", "--store", str(store)])
    assert result.exit_code == 0, result.output
    return store


def verify(store: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = runner.invoke(
        app, ["verify", GARMENT, "--store", str(store), *args, "--json"], env=env
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def accreditation_codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"] if f["code"].startswith("accreditation.")]


def write_trust_file(folder: Path, *, bodies: list[str]) -> Path:
    path = folder / "trust.toml"
    lines = ["require_accreditation = true", "[[registers]]", f'did = "{REGISTER}"']
    for body in bodies:
        lines += ["[[accreditation_bodies]]", f'did = "{body}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def test_trust_file_accreditation_verified(demo_store: Path, tmp_path: Path) -> None:
    trust = write_trust_file(tmp_path, bodies=[ACCREDITATION_BODY])

    code, report = verify(demo_store, "--trust-file", str(trust))

    assert code == 0, report["findings"]
    assert report["requireAccreditation"] is True
    assert report["accreditationBodies"] == [ACCREDITATION_BODY]
    assert report["trustedDids"] == [REGISTER]


def test_trust_file_from_environment(demo_store: Path, tmp_path: Path) -> None:
    trust = write_trust_file(tmp_path, bodies=[])

    code, report = verify(demo_store, env={"VALUETRACE_TRUST_FILE": str(trust)})

    assert code == 1
    assert accreditation_codes(report) == ["accreditation.invalid", "accreditation.invalid"]


def test_accreditation_options(demo_store: Path) -> None:
    code, report = verify(
        demo_store,
        "--trust-did",
        REGISTER,
        "--trust-accreditation-body",
        ACCREDITATION_BODY,
        "--require-accreditation",
    )

    assert code == 0, report["findings"]
    assert accreditation_codes(report) == []


def test_required_accreditation_without_bodies(demo_store: Path) -> None:
    code, report = verify(demo_store, "--trust-did", REGISTER, "--require-accreditation")

    assert code == 1
    assert accreditation_codes(report) == ["accreditation.invalid", "accreditation.invalid"]


def test_invalid_trust_file_is_misuse(demo_store: Path, tmp_path: Path) -> None:
    trust = tmp_path / "trust.toml"
    trust.write_text('registers = ["not-a-did"]\n')

    result = runner.invoke(
        app, ["verify", GARMENT, "--store", str(demo_store), "--trust-file", str(trust)]
    )

    assert result.exit_code == 2
    assert "is not a DID" in result.output

"""The ``validate`` and ``hash`` commands, run through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from valuetrace.epcis._cli_document import register

DATA = Path(__file__).parent / "data" / "epcis"
VECTORS = DATA / "hash-vectors" / "examples"


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


def _run(app: typer.Typer, *args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_validate_valid(app: typer.Typer) -> None:
    path = DATA / "gs1" / "Example_9.6.1-ObjectEvent.jsonld"
    result = _run(app, "validate", str(path))

    assert result.exit_code == 0
    assert result.stdout.strip() == f"{path}: valid"


def test_validate_invalid_lines(app: typer.Typer) -> None:
    path = DATA / "openepcis" / "Invalid" / "ObjectEvent_without_action_and_eventTime.json"
    result = _run(app, "validate", str(path))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "$.epcisBody.eventList[0].action  schema  required field 'action' is missing",
        "$.epcisBody.eventList[0].eventTime  schema  required field 'eventTime' is missing",
        "$.epcisBody.eventList[0].eventTimeZoneOffset  schema  "
        "required field 'eventTimeZoneOffset' is missing",
    ]


def test_validate_json_output(app: typer.Typer) -> None:
    path = DATA / "openepcis" / "Invalid" / "ObjectEvent_with_non_standard_disposition.json"
    result = _run(app, "validate", "--json", str(path))
    output = json.loads(result.stdout)

    assert result.exit_code == 1
    assert output["valid"] is False
    assert output["problems"][0]["path"] == "$.epcisBody.eventList[0].disposition"
    assert output["problems"][0]["rule"] == "cbv-term"


def test_validate_json_valid(app: typer.Typer) -> None:
    path = DATA / "openepcis" / "Events" / "ObjectEvent.json"
    result = _run(app, "validate", "--json", str(path))

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"file": str(path), "valid": True, "problems": []}


def test_validate_missing_file(app: typer.Typer, tmp_path: Path) -> None:
    result = _run(app, "validate", str(tmp_path / "absent.json"))

    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_validate_not_json(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": ', encoding="utf-8")
    result = _run(app, "validate", str(path))

    assert result.exit_code == 1
    assert result.stdout.startswith("$  not-json  the document is not valid JSON")


def test_hash_document_order(app: typer.Typer) -> None:
    path = VECTORS / "epcisDocWithDefaultSchemaInContext.jsonld"
    expected = (VECTORS / "epcisDocWithDefaultSchemaInContext.hashes").read_text("utf-8").split()
    result = _run(app, "hash", str(path))

    assert result.exit_code == 0
    assert result.stdout.split() == expected


def test_hash_prehash_option(app: typer.Typer) -> None:
    path = VECTORS / "epcisDocWithSingleEvent.jsonld"
    result = _run(app, "hash", "--prehash", str(path))
    lines = result.stdout.splitlines()

    assert result.exit_code == 0
    assert lines[0] == (VECTORS / "epcisDocWithSingleEvent.hashes").read_text("utf-8").strip()
    assert lines[1] == (VECTORS / "epcisDocWithSingleEvent.prehashes").read_text("utf-8").strip()


def test_hash_invalid_document(app: typer.Typer) -> None:
    path = DATA / "openepcis" / "Invalid" / "ObjectEvent_with_non_standard_bizStep.json"
    result = _run(app, "hash", str(path))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "$.epcisBody.eventList[0].bizStep  cbv-term" in result.stderr


def test_hash_single_event(app: typer.Typer) -> None:
    result = _run(app, "hash", str(DATA / "openepcis" / "Events" / "ObjectEvent.json"))

    assert result.exit_code == 0
    assert len(result.stdout.split()) == 1
    assert result.stdout.startswith("ni:///sha-256;")

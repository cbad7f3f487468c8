"""Capture into the EPCIS event repository, on SQLite and PostgreSQL, and its commands."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from valuetrace.epcis import (
    DuplicateEventError,
    EPCISDocumentError,
    EventRepository,
    document_context,
    document_events,
    event_hash,
    load_document,
    validate_document,
)
from valuetrace.epcis._cli_repository import register
from valuetrace.epcis._tables import event_epcs

DATA = Path(__file__).parent / "data" / "epcis"
GS1_DOCUMENTS = sorted((DATA / "gs1").rglob("*.jsonld"))
OPENEPCIS_DOCUMENTS = sorted((DATA / "openepcis" / "Documents").glob("*.json"))
OPENEPCIS_EVENTS = sorted((DATA / "openepcis" / "Events").glob("*.json"))
INVALID_DOCUMENTS = sorted((DATA / "openepcis" / "Invalid").glob("*.json"))
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _load(path: Path) -> dict[str, Any]:
    return load_document(path.read_bytes())


def _valid(paths: list[Path]) -> list[Path]:
    return [path for path in paths if not validate_document(_load(path))]


VALID_DOCUMENTS = _valid(GS1_DOCUMENTS) + _valid(OPENEPCIS_DOCUMENTS)


def _event(number: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2024-03-01T{number:02d}:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{number}"],
        "bizStep": "receiving",
        **fields,
    }


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-02T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


@pytest.fixture
def repository(database_url: str) -> Iterator[EventRepository]:
    with EventRepository.open(database_url) as opened:
        yield opened


def _expected_id(event: dict[str, Any], context: Any) -> str:
    given = event.get("eventID")
    return given if isinstance(given, str) else event_hash(event, context=context)


def test_examples_mostly_valid() -> None:
    # Guards the round trip below against a validator that rejects everything.
    assert len(VALID_DOCUMENTS) >= 80
    assert len(VALID_DOCUMENTS) < len(GS1_DOCUMENTS) + len(OPENEPCIS_DOCUMENTS) + 1


@pytest.mark.parametrize("path", VALID_DOCUMENTS, ids=lambda path: path.name)
def test_capture_round_trip(repository: EventRepository, path: Path) -> None:
    document = _load(path)
    context = document_context(document)
    events = document_events(document)
    expected = {_expected_id(event, context): event for event in reversed(events)}

    job = repository.capture_document(copy.deepcopy(document))

    assert job.success, job.errors
    assert job.captured == len(expected)
    assert repository.count_events() == len(expected)
    for event_id, event in expected.items():
        page = repository.query({"EQ_eventID": [event_id]})
        assert len(page.events) == 1, event_id
        stored = page.events[0]
        assert stored["eventID"] == event_id
        record_time = datetime.fromisoformat(stored["recordTime"])
        assert record_time.tzinfo is not None
        assert record_time.microsecond % 1000 == 0
        original = {key: value for key, value in event.items() if key != "recordTime"}
        returned = {key: value for key, value in stored.items() if key != "recordTime"}
        original.setdefault("eventID", event_id)
        if context is not None:
            # an event without its own @context comes back with its document's
            original.setdefault("@context", context)
        assert returned == original


@pytest.mark.parametrize("path", OPENEPCIS_EVENTS, ids=lambda path: path.name)
def test_capture_event_round_trip(repository: EventRepository, path: Path) -> None:
    event = _load(path)
    context = event.get("@context")

    event_id = repository.capture_event(event, context=context)

    assert event_id == _expected_id(event, context)
    stored = repository.get_event(event_id)
    assert stored is not None
    assert {key: value for key, value in stored.items() if key != "recordTime"} == {
        "eventID": event_id,
        **{key: value for key, value in event.items() if key != "recordTime"},
    }
    with pytest.raises(DuplicateEventError) as raised:
        repository.capture_event(event, context=context)
    assert raised.value.event_id == event_id


@pytest.mark.parametrize("path", INVALID_DOCUMENTS, ids=lambda path: path.name)
def test_capture_invalid_stores_nothing(repository: EventRepository, path: Path) -> None:
    job = repository.capture_document(_load(path))

    assert job.success is False
    assert job.running is False
    assert job.captured == 0
    assert job.errors
    assert repository.count_events() == 0
    assert repository.get_capture_job(job.id) == job


def test_capture_rejects_whole_document(repository: EventRepository) -> None:
    invalid = _event(3, action="SHIP")

    job = repository.capture_document(_document([_event(1), _event(2), invalid]))

    assert job.success is False
    assert [problem.path for problem in job.errors] == ["$.epcisBody.eventList[2].action"]
    assert repository.count_events() == 0


def test_capture_job_recorded(repository: EventRepository) -> None:
    before = datetime.now(UTC)

    job = repository.capture_document(_document([_event(1), _event(2)]))

    assert job.success is True
    assert job.running is False
    assert job.captured == 2
    assert job.errors == []
    assert job.finished_at is not None
    assert before.replace(microsecond=0) <= job.created_at <= job.finished_at
    assert repository.get_capture_job(job.id) == job
    assert repository.get_capture_job("no-such-job") is None


def test_capture_sets_event_hash(repository: EventRepository) -> None:
    event = _event(1)

    repository.capture_document(_document([event]))

    expected = event_hash(event, context=CONTEXT)
    stored = repository.get_event(expected)
    assert stored is not None
    assert stored["eventID"] == expected
    assert "eventID" not in event


def test_capture_sets_record_time(repository: EventRepository) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    event = _event(1, eventID="urn:uuid:6c9c0b57-35e3-4a47-8b73-4a4c4ee1a001")
    event["recordTime"] = "2001-01-01T00:00:00.000Z"

    repository.capture_document(_document([event]))

    stored = repository.get_event(event["eventID"])
    assert stored is not None
    record_time = datetime.fromisoformat(stored["recordTime"])
    assert record_time >= before
    assert record_time.utcoffset() is not None
    assert record_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert stored["recordTime"].endswith("Z")
    assert len(stored["recordTime"]) == len("2024-03-01T10:00:00.000Z")


def test_capture_same_event_twice_in_document(repository: EventRepository) -> None:
    job = repository.capture_document(_document([_event(1), _event(2), _event(1)]))

    assert job.success is True
    assert job.captured == 2
    assert repository.count_events() == 2


def test_capture_conflicting_event_ids(repository: EventRepository) -> None:
    event_id = "urn:uuid:6c9c0b57-35e3-4a47-8b73-4a4c4ee1a002"

    job = repository.capture_document(
        _document([_event(1, eventID=event_id), _event(2, eventID=event_id)])
    )

    assert job.success is False
    assert [problem.rule for problem in job.errors] == ["duplicate-event-id"]
    assert job.errors[0].path == "$.epcisBody.eventList[1].eventID"
    assert repository.count_events() == 0


def test_capture_stored_event_rejects_document(repository: EventRepository) -> None:
    assert repository.capture_document(_document([_event(1)])).success

    job = repository.capture_document(_document([_event(2), _event(1)]))

    assert job.success is False
    assert [problem.rule for problem in job.errors] == ["duplicate-event-id"]
    assert event_hash(_event(1), context=CONTEXT) in job.errors[0].message
    assert repository.count_events() == 1
    assert repository.get_capture_job(job.id) == job


def test_capture_event_invalid(repository: EventRepository) -> None:
    with pytest.raises(EPCISDocumentError) as raised:
        repository.capture_event(_event(1, action="SHIP"), context=CONTEXT)

    assert raised.value.kind == "invalid"
    assert raised.value.problems[0].path.endswith("action")
    assert repository.count_events() == 0


def test_capture_query_document(repository: EventRepository) -> None:
    events = [_event(1, recordTime="2024-03-01T10:00:00.000Z"), _event(2)]
    document = {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-02T00:00:00Z",
        "epcisBody": {
            "queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": events}}
        },
    }

    job = repository.capture_document(document)

    assert job.success, job.errors
    assert repository.count_events() == 2


def test_capture_exact_quantities(repository: EventRepository, database_url: str) -> None:
    quantities = [
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 0.1, "uom": "KGM"},
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998878", "quantity": 1234567.125},
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998879", "quantity": 7},
    ]
    repository.capture_document(_document([_event(1, quantityList=quantities)]))

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(event_epcs.c.quantity, event_epcs.c.uom)
                .where(event_epcs.c.role == "epcClass")
                .order_by(event_epcs.c.id)
            ).all()
    finally:
        engine.dispose()
    assert [row.quantity for row in rows] == [
        Decimal("0.1"),
        Decimal("1234567.125"),
        Decimal("7"),
    ]
    assert [row.uom for row in rows] == ["KGM", None, None]


def test_event_types(repository: EventRepository) -> None:
    assert repository.event_types() == []
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2024-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": ["urn:epc:id:sgtin:0614141.107346.1"],
    }

    repository.capture_document(_document([_event(1), aggregation]))

    assert repository.event_types() == ["AggregationEvent", "ObjectEvent"]


def test_get_event_missing(repository: EventRepository) -> None:
    assert repository.get_event("urn:uuid:6c9c0b57-35e3-4a47-8b73-4a4c4ee1a003") is None


def test_repository_in_memory() -> None:
    with EventRepository.open("sqlite://") as repository:
        assert repository.capture_document(_document([_event(1)])).success
        assert repository.count_events() == 1


# Commands


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The test application."""

    register(app)
    return app


def _write(tmp_path: Path, document: dict[str, Any], name: str = "events.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_capture_command(database_url: str, tmp_path: Path) -> None:
    path = _write(tmp_path, _document([_event(1), _event(2)]))

    result = CliRunner().invoke(_cli(), ["capture", str(path), "--db", database_url])

    assert result.exit_code == 0, result.output
    assert "captured 2 events" in result.output
    with EventRepository.open(database_url) as repository:
        assert repository.count_events() == 2


def test_capture_command_rejected(database_url: str, tmp_path: Path) -> None:
    path = _write(tmp_path, _document([_event(1, action="SHIP"), _event(2, bizStep="nope")]))

    result = CliRunner().invoke(_cli(), ["capture", str(path), "--db", database_url])

    assert result.exit_code == 1
    assert "rejected" in result.output
    assert "eventList[0].action" in result.output
    assert "eventList[1].bizStep" in result.output
    with EventRepository.open(database_url) as repository:
        assert repository.count_events() == 0


def test_capture_command_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    database = tmp_path / "db.sqlite"

    result = CliRunner().invoke(_cli(), ["capture", str(path), "--db", str(database)])

    assert result.exit_code == 1
    assert "not valid JSON" in result.output


def test_capture_command_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _cli(), ["capture", str(tmp_path / "missing.json"), "--db", str(tmp_path / "db.sqlite")]
    )

    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_trace_command(database_url: str, tmp_path: Path) -> None:
    transformation = {
        "type": "TransformationEvent",
        "eventID": "urn:uuid:6c9c0b57-35e3-4a47-8b73-4a4c4ee1a004",
        "eventTime": "2024-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputEPCList": ["urn:epc:id:sgtin:0614141.107346.1"],
        "outputEPCList": ["urn:epc:id:sgtin:0614141.107347.1"],
    }
    path = _write(tmp_path, _document([transformation]))
    runner = CliRunner()
    assert runner.invoke(_cli(), ["capture", str(path), "--db", database_url]).exit_code == 0

    text = runner.invoke(
        _cli(), ["trace", "urn:epc:id:sgtin:0614141.107346.1", "--db", database_url]
    )
    as_json = runner.invoke(
        _cli(),
        [
            "trace",
            "urn:epc:id:sgtin:0614141.107347.1",
            "--db",
            database_url,
            "--direction",
            "upstream",
            "--json",
        ],
    )
    wrong = runner.invoke(_cli(), ["trace", "x", "--db", database_url, "--direction", "sideways"])

    assert text.exit_code == 0, text.output
    assert "2 identifiers, 1 event" in text.output
    assert transformation["eventID"] in text.output
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    assert payload["direction"] == "upstream"
    assert payload["edges"][0]["eventID"] == transformation["eventID"]
    assert payload["events"][0]["eventID"] == transformation["eventID"]
    assert payload["truncated"] is False
    assert wrong.exit_code == 2


def test_commands_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VALUETRACE_DB", raising=False)
    path = _write(tmp_path, _document([_event(1)]))

    result = CliRunner().invoke(_cli(), ["capture", str(path)])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "valuetrace.sqlite").exists()


def test_trace_command_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "absent" / "events.sqlite"
    result = CliRunner().invoke(
        _cli(), ["trace", "urn:epc:id:sgtin:0614141.107346.1", "--db", str(missing)]
    )
    assert result.exit_code == 2
    assert "no database at" in result.output
    assert not missing.parent.exists()


def test_capture_command_single_event(database_url: str, tmp_path: Path) -> None:
    event = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2"],
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    runner = CliRunner()
    first = runner.invoke(_cli(), ["capture", str(path), "--db", database_url])
    second = runner.invoke(_cli(), ["capture", str(path), "--db", database_url])
    assert first.exit_code == 0, first.output
    assert "captured event ni:///sha-256;" in first.output
    assert second.exit_code == 1
    assert "stored already" in second.output

"""The CBV 2.0 event hash against the reference generator's published vectors."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from valuetrace.epcis import document_context, document_events, event_hash, event_prehash

VECTORS = Path(__file__).parent / "data" / "epcis" / "hash-vectors"
INDEX = json.loads((VECTORS / "hash-vectors-index.json").read_text("utf-8"))
HASH_FORMAT = re.compile(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0")


def _ignore_fields(document: dict[str, Any]) -> list[str]:
    """Return the fields that a vector document excludes from the hash.

    The reference generator's test documents name them in a member ending in
    ``:ignoreFields``, at the top level or in ``queryResults``.
    """
    results = document["epcisBody"].get("queryResults", {})
    for container in (document, results):
        for key, value in container.items():
            if key.endswith(":ignoreFields"):
                return list(value)
    return []


def _json_ld_cases() -> list[Any]:
    cases = []
    for vector_set in INDEX["vector_sets"]:
        prehash_file = VECTORS / "examples" / f"{vector_set['name']}.prehashes"
        prehashes = prehash_file.read_text("utf-8").splitlines() if prehash_file.exists() else []
        trusted = vector_set.get("prehash_lines_matching_expected_hash") or []
        for source in vector_set["inputs"]:
            if not source.endswith(".jsonld"):
                continue
            path = VECTORS / "examples" / Path(source).name
            for index, expected in enumerate(vector_set["expected_hashes"]):
                prehash = prehashes[index] if index < len(trusted) and trusted[index] else None
                cases.append(
                    pytest.param(path, index, expected, prehash, id=f"{path.stem}-{index}")
                )
    return cases


CASES = _json_ld_cases()


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def test_vectors_cover_every_json_ld_file() -> None:
    files = {case.values[0].name for case in CASES}
    on_disk = {path.name for path in (VECTORS / "examples").glob("*.jsonld")}
    assert files == on_disk
    assert len(CASES) == 22


@pytest.mark.parametrize(("path", "index", "expected", "prehash"), CASES)
def test_hash_vector(path: Path, index: int, expected: str, prehash: str | None) -> None:
    document = _load(path)
    events = document_events(document)
    assert len(events) == len(
        next(s for s in INDEX["vector_sets"] if f"/{path.name}" in "".join(s["inputs"]))[
            "expected_hashes"
        ]
    )
    context = document_context(document)
    ignore = _ignore_fields(document)

    if prehash is not None:
        assert event_prehash(events[index], context=context, ignore_fields=ignore) == prehash
    assert event_hash(events[index], context=context, ignore_fields=ignore) == expected


def test_equal_representations_one_hash() -> None:
    document = _load(VECTORS / "expected_equal" / "ReferenceEventHashAlgorithm.json")
    events = document_events(document)
    hashes = {event_hash(event, context=document_context(document)) for event in events}

    assert len(events) >= 2
    assert hashes == {INDEX["vector_sets"][0]["expected_hashes"][0]}


def _reference_event() -> tuple[dict[str, Any], Any]:
    document = _load(VECTORS / "examples" / "ReferenceEventHashAlgorithm.jsonld")
    return document_events(document)[0], document_context(document)


def test_hash_format() -> None:
    event, context = _reference_event()
    assert HASH_FORMAT.fullmatch(event_hash(event, context=context))


def test_hash_ignores_record_fields() -> None:
    event, context = _reference_event()
    changed = copy.deepcopy(event)
    changed["recordTime"] = "2030-01-01T00:00:00Z"
    changed["eventID"] = "urn:uuid:7f3f5e7a-0d7c-4a46-9a57-8a54c0d1f3a2"
    changed["errorDeclaration"] = {"declarationTime": "2030-01-01T00:00:00Z"}
    changed["rdfs:comment"] = "a note for people"

    assert event_hash(changed, context=context) == event_hash(event, context=context)


def test_hash_includes_user_extensions() -> None:
    event, context = _reference_event()
    changed = copy.deepcopy(event)
    changed["example:myField2"] = "1"

    assert event_hash(changed, context=context) != event_hash(event, context=context)


def test_hash_changes_with_any_value() -> None:
    event, context = _reference_event()
    for field, value in (
        ("eventTime", "2020-03-04T11:00:31.000+01:00"),
        ("action", "ADD"),
        ("bizStep", "shipping"),
        ("readPoint", {"id": "urn:epc:id:sgln:4012345.00011.988"}),
    ):
        changed = copy.deepcopy(event)
        changed[field] = value
        assert event_hash(changed, context=context) != event_hash(event, context=context), field


def test_hash_same_event_other_spelling() -> None:
    event, context = _reference_event()
    respelled = {key: event[key] for key in reversed(list(event))}
    respelled["eventTime"] = "2020-03-04T10:00:30Z"
    respelled["epcList"] = [
        "https://example.com/00/040123450000002225?source=scan",
        "urn:epc:id:sscc:4012345.0000000111",
        "https://id.gs1.org/sscc/040123450000003338",
    ]
    respelled["bizStep"] = "urn:epcglobal:cbv:bizstep:departing"
    respelled["readPoint"] = {"id": "https://id.gs1.org/414/4012345000115/254/987"}

    assert event_hash(respelled, context=context) == event_hash(event, context=context)


def _timed(event_time: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": event_time,
        "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
        "action": "OBSERVE",
    }


@pytest.mark.parametrize(
    ("event_time", "canonical"),
    [
        ("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"),
        ("2023-01-18T11:04:03.1425Z", "2023-01-18T11:04:03.143Z"),
        ("2023-01-18T11:04:03.1424999Z", "2023-01-18T11:04:03.142Z"),
        ("2023-12-31T23:59:59.9996Z", "2024-01-01T00:00:00.000Z"),
        ("2023-01-18T13:04:03+02:00", "2023-01-18T11:04:03.000Z"),
        ("2023-01-18T06:34:03.5-04:30", "2023-01-18T11:04:03.500Z"),
    ],
)
def test_prehash_timestamp(event_time: str, canonical: str) -> None:
    assert f"eventTime={canonical}eventTimeZoneOffset" in event_prehash(_timed(event_time))


def test_prehash_quantity_without_trailing_zeros() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2023-01-18T11:04:03Z",
        "eventTimeZoneOffset": "+00:00",
        "quantityList": [
            {
                "epcClass": "urn:epc:class:lgtin:4012345.012345.998877",
                "quantity": 2.50,
                "uom": "KGM",
            },
            {"epcClass": "urn:epc:idpat:sgtin:4012345.012345.*", "quantity": 10.0},
        ],
        "action": "OBSERVE",
        "example:weight": "1.500",
    }
    prehash = event_prehash(event, context={"example": "https://ns.example.com/"})

    assert (
        "quantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877"
        "quantity=2.5uom=KGMquantityElementepcClass=https://id.gs1.org/01/04012345123456"
        "quantity=10action"
    ) in prehash
    assert prehash.endswith("{https://ns.example.com/}weight=1.5")


def test_prehash_orders_lists_by_name() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2023-01-18T11:04:03Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
        "action": "OBSERVE",
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
        "destinationList": [
            {"type": "owning_party", "destination": "urn:epc:id:pgln:4012345.00000"}
        ],
        "bizTransactionList": [
            {"bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1", "type": "po"}
        ],
    }
    prehash = event_prehash(event)

    assert prehash.index("bizTransactionList") < prehash.index("destinationList")
    assert prehash.index("destinationList") < prehash.index("sourceList")
    assert "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=" in prehash


def test_prehash_boolean_is_lower_case() -> None:
    event = _timed("2023-01-18T11:04:03Z")
    event["sensorElementList"] = [
        {"sensorReport": [{"type": "gs1:Temperature", "booleanValue": True}]}
    ]
    assert "sensorReporttype=https://gs1.org/voc/TemperaturebooleanValue=true" in event_prehash(
        event
    )

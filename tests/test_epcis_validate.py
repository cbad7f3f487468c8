"""Loading and validating EPCIS 2.0 JSON documents and events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from valuetrace.epcis import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    EPCISDocumentError,
    EPCISProblem,
    document_context,
    document_events,
    load_document,
    validate_document,
    validate_event,
)
from valuetrace.errors import InputError

DATA = Path(__file__).parent / "data" / "epcis"
GS1_EXAMPLES = sorted(
    path for path in (DATA / "gs1").rglob("*") if path.suffix in (".json", ".jsonld")
)
OPENEPCIS_VALID = sorted(
    [
        *(DATA / "openepcis" / "Documents").glob("*.json"),
        *(DATA / "openepcis" / "Events").glob("*.json"),
    ]
)

# Files that break the official EPCIS 2.0.1 JSON schema, with the reason (see docs/epcis.md).
SCHEMA_BREAKING = {
    "openepcis/Documents/SensorData_with_combined_events.json": (
        "sensor types Molar_concentration and EffectiveDoseRate are not in the schema's "
        "measurement types; two sensorReports have no type"
    ),
    "openepcis/Documents/TransactionEvent_with_userExtensions.json": (
        "sensor type EffectiveDoseRate is not in the schema's measurement types"
    ),
}

# Every OpenEPCIS Capture/Invalid document and the rules it must break.
INVALID_RULES = {
    "Combination_of_events_with_missing_mandatory_fields.json": {"schema"},
    "Combination_of_non_standard_bizStep_and_disposition.json": {"cbv-term"},
    "EPCISDocument_without_context.json": {"schema"},
    "ObjectEvent_with_ilmd_field_without_namespace.json": {"extension-namespace"},
    "ObjectEvent_with_invalid_action.json": {"schema"},
    "ObjectEvent_with_invalid_eventTime_format.json": {"schema"},
    "ObjectEvent_with_non_standard_bizStep.json": {"cbv-term"},
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": {"cbv-term"},
    "ObjectEvent_with_non_standard_disposition.json": {"cbv-term"},
    "ObjectEvent_with_quantity_as_text.json": {"schema"},
    "ObjectEvent_with_unknown_field_in_quantityList.json": {"schema"},
    "ObjectEvent_without_action_and_eventTime.json": {"schema"},
    "ObjectEvent_without_identifier_list.json": {"epc-or-quantity"},
}

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _problems_of(path: Path) -> list[EPCISProblem]:
    document = load_document(path.read_bytes())
    if document["type"] in ("EPCISDocument", "EPCISQueryDocument"):
        return validate_document(document)
    return validate_event(document, context=document.get("@context"))


def _name(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


@pytest.mark.parametrize("path", GS1_EXAMPLES, ids=_name)
def test_gs1_example_valid(path: Path) -> None:
    assert _problems_of(path) == []


def test_gs1_examples_found() -> None:
    assert len(GS1_EXAMPLES) == 47


@pytest.mark.parametrize("path", OPENEPCIS_VALID, ids=_name)
def test_openepcis_capture_valid(path: Path) -> None:
    problems = _problems_of(path)
    if _name(path) in SCHEMA_BREAKING:
        assert problems
        assert {problem.rule for problem in problems} <= {"schema", "cbv-term"}
    else:
        assert problems == []


def test_schema_breaking_list_exact() -> None:
    rejected = {_name(path) for path in [*GS1_EXAMPLES, *OPENEPCIS_VALID] if _problems_of(path)}
    assert rejected == set(SCHEMA_BREAKING)


def test_schema_breaking_list_documented() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "epcis.md").read_text("utf-8")
    for name in SCHEMA_BREAKING:
        assert Path(name).name in docs


@pytest.mark.parametrize("name", sorted(INVALID_RULES))
def test_openepcis_invalid_rejected(name: str) -> None:
    problems = _problems_of(DATA / "openepcis" / "Invalid" / name)

    assert problems
    assert {problem.rule for problem in problems} == INVALID_RULES[name]


def test_invalid_list_complete() -> None:
    on_disk = {path.name for path in (DATA / "openepcis" / "Invalid").glob("*.json")}
    assert on_disk == set(INVALID_RULES)


def test_validate_reports_every_error() -> None:
    problems = _problems_of(
        DATA / "openepcis" / "Invalid" / "ObjectEvent_without_action_and_eventTime.json"
    )
    paths = [problem.path for problem in problems]

    assert paths == [
        "$.epcisBody.eventList[0].action",
        "$.epcisBody.eventList[0].eventTime",
        "$.epcisBody.eventList[0].eventTimeZoneOffset",
    ]


def test_validate_cbv_term_path() -> None:
    problems = _problems_of(
        DATA
        / "openepcis"
        / "Invalid"
        / "ObjectEvent_with_non_standard_bizStep_in_second_event.json"
    )
    assert problems == [
        EPCISProblem(
            "$.epcisBody.eventList[1].bizStep",
            "cbv-term",
            "'transforming' is not a CBV bizStep term: use a CBV term (for example 'accepting') "
            "or a full URI for a value of your own",
        )
    ]


def _document(*events: dict[str, Any], context: list[Any] | None = None) -> dict[str, Any]:
    return {
        "@context": context or CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-01-01T00:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def _object_event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T10:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
        "action": "OBSERVE",
    }
    event.update(fields)
    return event


def _rules(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.rule) for problem in validate_document(document)]


def test_validate_minimal_event_valid() -> None:
    assert validate_document(_document(_object_event())) == []


def test_validate_unknown_event_type() -> None:
    event = _object_event(type="ShippingEvent")
    assert _rules(_document(event)) == [("$.epcisBody.eventList[0].type", "unknown-event-type")]


def test_validate_extension_event_type_uri() -> None:
    event = {
        "type": "https://ns.example.com/epcis/CustomEvent",
        "eventTime": "2024-01-01T10:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
    }
    assert validate_document(_document(event)) == []


def test_validate_neither_epcs_nor_quantities() -> None:
    event = _object_event(epcList=[])
    problems = validate_document(_document(event))

    assert [(p.path, p.rule) for p in problems] == [("$.epcisBody.eventList[0]", "epc-or-quantity")]
    assert "epcList" in problems[0].message
    assert "quantityList" in problems[0].message


def test_validate_quantities_only_valid() -> None:
    event = _object_event(quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.012345.L1"}])
    del event["epcList"]
    assert validate_document(_document(event)) == []


def test_validate_aggregation_without_children() -> None:
    event = {
        "type": "AggregationEvent",
        "eventTime": "2024-01-01T10:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "parentID": "urn:epc:id:sscc:4012345.3111111111",
        "action": "ADD",
    }
    assert _rules(_document(event)) == [("$.epcisBody.eventList[0]", "epc-or-quantity")]
    event["action"] = "DELETE"
    assert validate_document(_document(event)) == []


def test_validate_transaction_without_epcs() -> None:
    event = _object_event(
        type="TransactionEvent",
        epcList=[],
        bizTransactionList=[
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1"}
        ],
    )
    assert _rules(_document(event)) == [("$.epcisBody.eventList[0]", "epc-or-quantity")]


def test_validate_association_without_parent() -> None:
    event = {
        "type": "AssociationEvent",
        "eventTime": "2024-01-01T10:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "childEPCs": ["urn:epc:id:giai:4000001.111"],
        "action": "ADD",
    }
    assert _rules(_document(event)) == [("$.epcisBody.eventList[0].parentID", "association-parent")]


def test_validate_ilmd_needs_add() -> None:
    context = [*CONTEXT, {"example": "https://ns.example.com/epcis/"}]
    event = _object_event(ilmd={"example:bestBefore": "2025-01-01"})

    assert _rules(_document(event, context=context)) == [
        ("$.epcisBody.eventList[0].ilmd", "ilmd-action")
    ]
    event["action"] = "ADD"
    assert validate_document(_document(event, context=context)) == []


def test_validate_transformation_io() -> None:
    event = {
        "type": "TransformationEvent",
        "eventTime": "2024-01-01T10:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "inputEPCList": ["urn:epc:id:sgtin:4012345.011111.9876"],
    }
    problems = validate_document(_document(event))

    assert [(p.path, p.rule) for p in problems] == [
        ("$.epcisBody.eventList[0]", "transformation-io")
    ]
    assert "no outputs" in problems[0].message
    event["transformationID"] = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert validate_document(_document(event)) == []


def test_validate_extension_prefix() -> None:
    with_prefix = [*CONTEXT, {"example": "https://ns.example.com/epcis/"}]
    event = _object_event(**{"example:myField": "x", "other:field": "y", "plain": "z"})

    assert _rules(_document(event, context=with_prefix)) == [
        ('$.epcisBody.eventList[0]["other:field"]', "extension-namespace"),
        ("$.epcisBody.eventList[0].plain", "extension-namespace"),
    ]


def test_validate_extension_in_read_point() -> None:
    event = _object_event(readPoint={"id": "urn:epc:id:sgln:4012345.00005.0", "room": "4"})
    assert _rules(_document(event)) == [
        ("$.epcisBody.eventList[0].readPoint.room", "extension-namespace")
    ]


def test_validate_event_prefix_from_event_context() -> None:
    event = _object_event(**{"@context": {"acme": "https://acme.example/ns/"}, "acme:lane": "3"})
    assert validate_event(event, context=CONTEXT) == []


def test_validate_sensor_term() -> None:
    event = _object_event(
        sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 4, "uom": "CEL"}]}]
    )
    assert validate_document(_document(event)) == []
    event["sensorElementList"][0]["sensorReport"][0]["type"] = "Warmth"
    assert _rules(_document(event)) == [
        ("$.epcisBody.eventList[0].sensorElementList[0].sensorReport[0].type", "cbv-term")
    ]


def test_validate_event_path_prefix() -> None:
    problems = validate_event(_object_event(action="MOVE"), path="$.epcisBody.eventList[7]")
    assert [(p.path, p.rule) for p in problems] == [("$.epcisBody.eventList[7].action", "schema")]


def test_validate_orders_paths_numerically() -> None:
    events = [_object_event() for _ in range(11)]
    events[2]["bizStep"] = "wandering"
    events[10]["bizStep"] = "wandering"
    paths = [problem.path for problem in validate_document(_document(*events))]

    assert paths == ["$.epcisBody.eventList[2].bizStep", "$.epcisBody.eventList[10].bizStep"]


def test_validate_not_a_document() -> None:
    assert validate_document({"type": "Catalogue"}) == [
        EPCISProblem(
            "$.type",
            "schema",
            "type is 'Catalogue', but an EPCIS document has type 'EPCISDocument' or "
            "'EPCISQueryDocument'",
        )
    ]


def test_query_document_events() -> None:
    path = DATA / "gs1" / "EPCISQueryDocument.jsonld"
    document = load_document(path.read_bytes())

    assert validate_document(document) == []
    assert len(document_events(document)) == 2
    assert document_events(document)[0]["type"] == "ObjectEvent"
    assert document_context(document) == document["@context"]


def test_document_events_malformed_body() -> None:
    assert document_events({"epcisBody": "none"}) == []
    assert document_events({"epcisBody": {"eventList": [1, {"type": "ObjectEvent"}]}}) == [
        {"type": "ObjectEvent"}
    ]


# Loading ------------------------------------------------------------------------------------


def _load_error(data: bytes, **limits: int) -> EPCISDocumentError:
    with pytest.raises(EPCISDocumentError) as caught:
        load_document(data, **limits)
    return caught.value


def test_load_valid_document() -> None:
    document = _document(_object_event())
    assert load_document(json.dumps(document).encode()) == document


def test_load_too_large() -> None:
    # A syntactically valid 50 MB document: the size check comes before any parsing.
    padding = "x" * (50 * 1024 * 1024)
    document = _document(_object_event(**{"example:padding": padding}))
    data = json.dumps(document).encode()
    error = _load_error(data, max_bytes=16 * 1024 * 1024)

    assert error.kind == "too_large"
    assert isinstance(error, InputError)
    assert f"{len(data):,} bytes" in str(error)
    assert "16,777,216 bytes" in str(error)
    assert error.problems == [EPCISProblem("$", "too-large", str(error))]


def test_load_default_limit() -> None:
    error = _load_error(b" " * (DEFAULT_MAX_DOCUMENT_BYTES + 1))
    assert error.kind == "too_large"
    assert DEFAULT_MAX_DOCUMENT_BYTES == 64 * 1024 * 1024


def test_load_deep_nesting() -> None:
    error = _load_error(b"[" * 100_000 + b"]" * 100_000)
    assert error.kind == "too_deep"
    assert "more than 64 levels" in str(error)


def test_load_nesting_limit_exact() -> None:
    # One object and 63 arrays are 64 levels, the default limit.
    assert load_document(b'{"a":' + b"[" * 63 + b"]" * 63 + b"}") == {"a": _nested(62)}
    error = _load_error(b'{"a":' + b"[" * 64 + b"]" * 64 + b"}")
    assert error.kind == "too_deep"


def _nested(wraps: int) -> list[Any]:
    """Return an empty list wrapped in ``wraps`` further lists."""
    value: list[Any] = []
    for _ in range(wraps):
        value = [value]
    return value


def test_load_not_utf8() -> None:
    data = b'{"type": "EPCISDocument", "sender": "M\xfcller"}'
    error = _load_error(data)
    assert error.kind == "not_utf8"
    assert f"byte offset {data.index(0xFC)} (0xfc)" in str(error)


def test_load_not_json() -> None:
    error = _load_error(b'{\n  "type": "EPCISDocument",\n  "epcisBody": {,}\n}')
    assert error.kind == "not_json"
    assert "line 3, column 17" in str(error)


def test_load_top_level_array() -> None:
    error = _load_error(b"[]")
    assert error.kind == "invalid"
    assert "not an object" in str(error)


def test_load_byte_order_mark() -> None:
    assert load_document(b'\xef\xbb\xbf{"type": "EPCISDocument"}') == {"type": "EPCISDocument"}


def test_validate_does_not_modify() -> None:
    document = _document(_object_event(bizStep="wandering"))
    before = copy.deepcopy(document)
    validate_document(document)
    assert document == before


@pytest.mark.parametrize(
    ("field", "value", "term"),
    [
        ("bizStep", "cbv:BizStep-shippping", "shippping"),
        ("disposition", "https://ref.gs1.org/cbv/Disp-in_transitt", "in_transitt"),
    ],
)
def test_cbv_uri_typo_rejected(field: str, value: str, term: str) -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2"],
        field: value,
    }
    problems = validate_event(
        event, context=["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
    )
    assert [(p.path, p.rule) for p in problems] == [(f"$.{field}", "cbv-term")]
    assert repr(term) in problems[0].message


def test_cbv_urn_form_explained() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2"],
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
    }
    problems = validate_event(
        event, context=["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
    )
    assert [p.path for p in problems] == ["$.bizStep"]
    assert "CBV 1.x URN" in problems[0].message

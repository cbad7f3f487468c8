"""The DTE bridge: EPCIS 2.0 events to UNTP 0.6.1 DTE events and back.

The round-trip tests run every event of the gs1/EPCIS JSON examples through the bridge and
compare the result with the mapping table below, which restates the documented mapping
independently of the implementation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from valuetrace.epcis import (
    canonical_cbv,
    canonical_identifier,
    dte_to_events,
    event_hash,
    event_to_dte,
    issue_dte,
    validate_event,
)
from valuetrace.errors import InputError
from valuetrace.findings import json_path
from valuetrace.untp import validate_credential

DATA = Path(__file__).parent / "data"
GS1_EXAMPLES = DATA / "epcis" / "gs1"
UNTP_DTE = Path(__file__).parents[1] / "src" / "valuetrace" / "data" / "untp" / "0.6.1" / "dte"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = {"id": "did:web:mill.valuetrace.example", "name": "Demo Mill"}
OWNING_PARTY = "https://ref.gs1.org/cbv/SDT-owning_party"

# The mapping table: EPCIS fields each DTE event type carries (besides "type"). Any other field
# of an event is dropped as a whole.
COMMON = {
    "eventID",
    "eventTime",
    "eventTimeZoneOffset",
    "bizStep",
    "disposition",
    "bizLocation",
    "sensorElementList",
}
CARRIED = {
    "ObjectEvent": COMMON | {"action", "epcList", "quantityList"},
    "AggregationEvent": COMMON | {"action", "parentID", "childEPCs", "childQuantityList"},
    "AssociationEvent": COMMON | {"action", "parentID", "childEPCs", "childQuantityList"},
    "TransactionEvent": COMMON
    | {"action", "epcList", "quantityList", "bizTransactionList", "sourceList", "destinationList"},
    "TransformationEvent": COMMON
    | {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList"},
}
EPC_LISTS = ("epcList", "inputEPCList", "outputEPCList", "childEPCs")
QUANTITY_LISTS = ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList")
SENSOR_METADATA_KEPT = {"deviceID", "dataProcessingMethod"}
SENSOR_REPORT_KEPT = {"type", "time", "value", "uom"}


def example_events() -> Iterator[Any]:
    for path in sorted(GS1_EXAMPLES.rglob("*.jsonld")):
        document = json.loads(path.read_text(encoding="utf-8"))
        body = document.get("epcisBody", {})
        events = body.get("eventList")
        if events is None:
            events = body.get("queryResults", {}).get("resultsBody", {}).get("eventList", [])
        for index, event in enumerate(events):
            name = f"{path.relative_to(GS1_EXAMPLES).with_suffix('')}[{index}]"
            yield pytest.param(event, document.get("@context"), id=name)


EXAMPLES = list(example_events())


def as_credential(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": ["DigitalTraceabilityEvent", "VerifiableCredential"],
        "credentialSubject": list(events),
    }


def round_trip(event: dict[str, Any], context: Any) -> tuple[dict[str, Any], list[str], Any]:
    dte, dropped = event_to_dte(event, context=context)
    (back,) = dte_to_events(as_credential(dte))
    return dte, dropped, back


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def offset_of(value: str) -> str:
    offset = instant(value).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def owning_party_index(entries: list[dict[str, Any]]) -> int | None:
    for index, entry in enumerate(entries):
        if canonical_cbv("sourceDestType", entry["type"]) == OWNING_PARTY:
            return index
    return None


def expected_dropped(event: dict[str, Any]) -> list[str]:
    """Return the JSON paths the mapping table lists as lost for an event, sorted."""
    carried = CARRIED[event["type"]]
    dropped = []
    for field, value in event.items():
        if field == "type":
            continue
        if field not in carried:
            dropped.append(json_path([field]))
        elif field == "eventTimeZoneOffset":
            # Carried in the DTE eventTime as its offset; "-00:00" cannot be written that way.
            if value == "-00:00":
                dropped.append(json_path([field]))
        elif field == "bizLocation":
            dropped += [json_path([field, key]) for key in value if key != "id"]
        elif field in ("sourceList", "destinationList"):
            kept = owning_party_index(value)
            dropped += [json_path([field, i]) for i in range(len(value)) if i != kept]
        elif field == "bizTransactionList":
            typed = [i for i, entry in enumerate(value) if "type" in entry]
            for index in range(len(value)):
                if typed and index == typed[0]:
                    dropped.append(json_path([field, index, "bizTransaction"]))
                else:
                    dropped.append(json_path([field, index]))
        elif field == "sensorElementList":
            dropped += sensor_drops(value)
    return sorted(dropped)


def sensor_drops(elements: list[dict[str, Any]]) -> list[str]:
    dropped = []
    for index, element in enumerate(elements):
        for key, value in element.items():
            if key == "sensorMetadata":
                dropped += [
                    json_path(["sensorElementList", index, key, name])
                    for name in value
                    if name not in SENSOR_METADATA_KEPT
                ]
            elif key == "sensorReport":
                for number, report in enumerate(value):
                    dropped += [
                        json_path(["sensorElementList", index, key, number, name])
                        for name in report
                        if name not in SENSOR_REPORT_KEPT
                    ]
            else:
                dropped.append(json_path(["sensorElementList", index, key]))
    return dropped


def identifiers(values: list[str]) -> list[str]:
    return [canonical_identifier(value) for value in values]


def quantities(values: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [
        (canonical_identifier(item["epcClass"]), item.get("quantity"), item.get("uom"))
        for item in values
    ]


def sensor_content(elements: list[dict[str, Any]]) -> list[Any]:
    content = []
    for element in elements:
        metadata = element.get("sensorMetadata", {})
        reports = [
            (
                canonical_cbv("sensorMeasurementType", report["type"]),
                report.get("time"),
                report.get("value"),
                report.get("uom"),
            )
            for report in element.get("sensorReport", [])
        ]
        device = metadata.get("deviceID")
        device_id = canonical_identifier(device) if device is not None else None
        content.append((device_id, metadata.get("dataProcessingMethod"), reports))
    return content


@pytest.mark.parametrize(("event", "context"), EXAMPLES)
def test_round_trip_keeps_carried_fields(event: dict[str, Any], context: Any) -> None:
    _, dropped, back = round_trip(event, context)
    dropped_set = set(dropped)

    assert back["type"] == event["type"]
    assert instant(back["eventTime"]) == instant(event["eventTime"])
    if "$.eventTimeZoneOffset" not in dropped_set:
        assert back["eventTimeZoneOffset"] == event["eventTimeZoneOffset"]
    if "action" in event and event["type"] != "TransformationEvent":
        assert back["action"] == event["action"]
    for field in ("bizStep", "disposition"):
        if field in event:
            assert back[field] == canonical_cbv(field, event[field])
    if "bizLocation" in event:
        assert canonical_identifier(back["bizLocation"]["id"]) == canonical_identifier(
            event["bizLocation"]["id"]
        )
    for field in EPC_LISTS:
        if field in event and field in CARRIED[event["type"]]:
            assert identifiers(back[field]) == identifiers(event[field])
    for field in QUANTITY_LISTS:
        if field in event and field in CARRIED[event["type"]]:
            assert quantities(back[field]) == quantities(event[field])
    if "parentID" in event and "parentID" in CARRIED[event["type"]]:
        assert canonical_identifier(back["parentID"]) == canonical_identifier(event["parentID"])
    if "sensorElementList" in event:
        assert sensor_content(back["sensorElementList"]) == sensor_content(
            event["sensorElementList"]
        )


@pytest.mark.parametrize(("event", "context"), EXAMPLES)
def test_round_trip_owning_parties(event: dict[str, Any], context: Any) -> None:
    _, _, back = round_trip(event, context)
    for field, role in (("sourceList", "source"), ("destinationList", "destination")):
        kept = owning_party_index(event.get(field, []))
        if event["type"] != "TransactionEvent" or kept is None:
            assert field not in back
            continue
        original = event[field][kept][role]
        assert back[field] == [{"type": OWNING_PARTY, role: canonical_identifier(original)}]


@pytest.mark.parametrize(("event", "context"), EXAMPLES)
def test_round_trip_event_ids(event: dict[str, Any], context: Any) -> None:
    dte, _, back = round_trip(event, context)
    expected_dte_id = event.get("eventID") or event_hash(event, context=context)
    without_id = {key: value for key, value in back.items() if key != "eventID"}

    assert dte["id"] == expected_dte_id
    if dte["id"].startswith("ni:///"):
        # the DTE keeps the hash of the complete event as its id, and the bridge keeps it too
        assert back["eventID"] == dte["id"]
    else:
        assert back["eventID"] == event_hash(without_id)


def test_bridged_id_hashed_when_not_hash() -> None:
    credential = json.loads((UNTP_DTE / "untp-dte-instance.json").read_text())
    (back,) = dte_to_events(credential)[:1]
    without_id = {key: value for key, value in back.items() if key != "eventID"}
    assert not credential["credentialSubject"][0]["id"].startswith("ni:")
    assert back["eventID"] == event_hash(without_id)


@pytest.mark.parametrize(("event", "context"), EXAMPLES)
def test_dropped_matches_mapping_table(event: dict[str, Any], context: Any) -> None:
    _, dropped = event_to_dte(event, context=context)
    assert sorted(dropped) == expected_dropped(event)


@pytest.mark.parametrize(("event", "context"), EXAMPLES)
def test_event_to_dte_leaves_event_unchanged(event: dict[str, Any], context: Any) -> None:
    original = copy.deepcopy(event)
    event_to_dte(event, context=context)
    assert event == original


def has_owning_parties(event: dict[str, Any]) -> bool:
    return all(
        owning_party_index(event.get(field, [])) is not None
        for field in ("sourceList", "destinationList")
    )


@pytest.mark.parametrize(("event", "context"), EXAMPLES)
def test_issue_dte_credential_valid(event: dict[str, Any], context: Any) -> None:
    if event["type"] == "TransactionEvent" and not has_owning_parties(event):
        with pytest.raises(InputError, match="sourceParty"):
            issue_dte([event], issuer=ISSUER, url="https://mill.example/c.json", now=NOW)
        return
    credential = issue_dte(
        [event], issuer=ISSUER, url="https://mill.example/c.json", now=NOW, context=context
    )
    assert validate_credential(credential) == []


def harvest_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2026-02-01T08:30:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
        "disposition": "https://ref.gs1.org/cbv/Disp-active",
        "bizLocation": {"id": "https://id.valuetrace.example/414/9520123000014"},
        "quantityList": [
            {
                "epcClass": "https://id.valuetrace.example/01/09520123000017/10/SC-A-2026",
                "quantity": 12000,
                "uom": "KGM",
            }
        ],
    }
    event.update(changes)
    return event


def test_carried_event_keeps_hash() -> None:
    event = harvest_event()
    dte, dropped = event_to_dte(event)
    (back,) = dte_to_events(as_credential(dte))

    assert dropped == []
    assert dte["id"] == event_hash(event)
    assert back["eventID"] == event_hash(event)


def test_transformation_keeps_hash() -> None:
    lint = "https://id.valuetrace.example/01/09520123000031/10/LINT-0417"
    seed = "https://id.valuetrace.example/01/09520123000017/10/SC-A-2026"
    event = harvest_event(
        type="TransformationEvent",
        inputQuantityList=[{"epcClass": seed, "quantity": 12000, "uom": "KGM"}],
        outputQuantityList=[{"epcClass": lint, "quantity": 7000, "uom": "KGM"}],
    )
    del event["action"], event["quantityList"]
    dte, dropped = event_to_dte(event)
    (back,) = dte_to_events(as_credential(dte))

    assert dropped == []
    assert "action" not in dte
    assert back["eventID"] == event_hash(event)


def test_offset_written_in_event_time() -> None:
    event = harvest_event(eventTime="2026-02-01T08:30:00.250Z", eventTimeZoneOffset="+05:30")
    dte, dropped = event_to_dte(event)
    (back,) = dte_to_events(as_credential(dte))

    assert dropped == []
    assert dte["eventTime"] == "2026-02-01T14:00:00.250+05:30"
    assert back["eventTimeZoneOffset"] == "+05:30"
    assert back["eventID"] == event_hash(event)


def test_negative_zero_offset_dropped() -> None:
    _, dropped = event_to_dte(harvest_event(eventTimeZoneOffset="-00:00"))
    assert dropped == ["$.eventTimeZoneOffset"]


def test_unknown_offset_becomes_utc() -> None:
    dte, _ = event_to_dte(harvest_event())
    dte["eventTime"] = "2026-02-01T08:30:00"
    (back,) = dte_to_events(as_credential(dte))
    assert back["eventTimeZoneOffset"] == "+00:00"


def test_names_fill_items() -> None:
    lot = "https://id.valuetrace.example/01/09520123000017/10/SC-A-2026"
    dte, _ = event_to_dte(harvest_event(epcList=[lot]), names={lot: "Seed cotton, Sabarkantha"})
    assert dte["epcList"] == [{"type": ["Item"], "id": lot, "name": "Seed cotton, Sabarkantha"}]
    assert dte["quantityList"][0]["productName"] == "Seed cotton, Sabarkantha"


def test_unnamed_item_named_by_identifier() -> None:
    dte, _ = event_to_dte(harvest_event(epcList=["urn:epc:id:sgtin:0614141.107346.2017"]))
    item = dte["epcList"][0]
    assert item["id"] == "https://id.gs1.org/01/10614141073464/21/2017"
    assert item["name"] == item["id"]


def test_quantity_without_amount_dropped() -> None:
    event = harvest_event()
    event["quantityList"].append({"epcClass": "urn:epc:class:lgtin:4012345.012345.998877"})
    dte, dropped = event_to_dte(event)

    assert dropped == ["$.quantityList[1]"]
    assert len(dte["quantityList"]) == 1


def test_bare_cbv_words_become_uris() -> None:
    dte, _ = event_to_dte(harvest_event(bizStep="shipping", disposition="in_transit"))
    assert dte["bizStep"] == "https://ref.gs1.org/cbv/BizStep-shipping"
    assert dte["disposition"] == "https://ref.gs1.org/cbv/Disp-in_transit"


def test_extension_event_type_rejected() -> None:
    with pytest.raises(ValueError, match=r"UNTP 0\.6\.1 defines only"):
        event_to_dte(harvest_event(type="https://example.com/CustomEvent"))


def load_untp_sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((UNTP_DTE / name).read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize(
    "name",
    [
        "ObjectEvent-instance.json",
        "AggregationEvent-instance.json",
        "AssociationEvent-instance.json",
        "TransformationEvent-instance.json",
        "TransactionEvent-instance.json",
    ],
)
def test_untp_sample_events_valid_epcis(name: str) -> None:
    (event,) = dte_to_events(as_credential(load_untp_sample(name)))
    problems = validate_event(event)
    if event["type"] == "TransactionEvent":
        # A DTE names the type of its business transaction but not the transaction itself.
        assert [problem.path for problem in problems] == ["$.bizTransactionList"]
    else:
        assert problems == []


def test_untp_sample_credential_converted() -> None:
    credential = load_untp_sample("untp-dte-instance.json")
    events = dte_to_events(credential)

    assert len(events) == len(credential["credentialSubject"])
    assert [event["type"] for event in events] == [
        subject["type"][0] for subject in credential["credentialSubject"]
    ]


def test_sample_sensor_report_converted() -> None:
    subject = load_untp_sample("ObjectEvent-instance.json")
    (event,) = dte_to_events(as_credential(subject))
    element = event["sensorElementList"][0]
    sample = subject["sensorElementList"][0]

    assert element["sensorMetadata"]["deviceID"] == sample["sensorMetadata"]["device"]["id"]
    assert element["sensorReport"][0]["type"] == sample["sensorReport"][0]["sensorType"]
    assert element["sensorReport"][0]["value"] == sample["sensorReport"][0]["value"]


def test_gs1_measurement_type_bare() -> None:
    dte, _ = event_to_dte(
        harvest_event(sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 4}]}])
    )
    (back,) = dte_to_events(as_credential(dte))

    assert dte["sensorElementList"][0]["sensorReport"][0]["sensorType"] == (
        "https://gs1.org/voc/Temperature"
    )
    assert back["sensorElementList"][0]["sensorReport"][0]["type"] == "Temperature"


def test_dte_to_events_rejects_other_credential() -> None:
    with pytest.raises(InputError, match="not a DigitalTraceabilityEvent"):
        dte_to_events({"type": ["DigitalProductPassport", "VerifiableCredential"]})


def test_dte_to_events_requires_event_time() -> None:
    dte, _ = event_to_dte(harvest_event())
    del dte["eventTime"]
    with pytest.raises(InputError, match=r"credentialSubject\[0\]\.eventTime"):
        dte_to_events(as_credential(dte))


def test_dte_to_events_rejects_unknown_cbv_word() -> None:
    dte, _ = event_to_dte(harvest_event())
    dte["bizStep"] = "harvesting"
    with pytest.raises(InputError, match="no CBV bizStep term"):
        dte_to_events(as_credential(dte))


def test_issue_dte_credential_shape() -> None:
    credential = issue_dte(
        [harvest_event(), harvest_event(eventTime="2026-02-02T08:30:00Z")],
        issuer=ISSUER,
        url="https://mill.valuetrace.example/credentials/dte.json",
        now=NOW + timedelta(microseconds=5),
    )

    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://test.uncefact.org/vocabulary/untp/dte/0.6.1/",
    ]
    assert credential["issuer"] == {"type": ["CredentialIssuer"], **ISSUER}
    assert credential["validFrom"] == "2026-03-01T12:00:00Z"
    assert len(credential["credentialSubject"]) == 2
    assert validate_credential(credential) == []


def test_issue_dte_rejects_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_dte(
            [harvest_event()], issuer=ISSUER, url="https://m.example/c", now=datetime(2026, 1, 1)
        )

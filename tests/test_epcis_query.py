"""The standard EPCIS 2.0 queries of the event repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from valuetrace.epcis import EventRepository, QueryParameterError

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

SERIAL_2017 = "urn:epc:id:sgtin:0614141.107346.2017"
SERIAL_2018 = "urn:epc:id:sgtin:0614141.107346.2018"
# The same GTIN-14 as 0614141.107346 (indicator digit 1), on another host than id.gs1.org.
SERIAL_2017_LINK = "https://example.com/01/10614141073464/21/2017"
LOT = "urn:epc:class:lgtin:4012345.012345.998877"
LOT_LINK = "https://id.gs1.org/01/04012345123456/10/998877"
SSCC = "urn:epc:id:sscc:0614141.1234567890"
READ_POINT = "urn:epc:id:sgln:0614141.00777.0"
BIZ_LOCATION = "urn:epc:id:sgln:0614141.00888.0"
PURCHASE_ORDER = "urn:epc:id:gdti:0614141.00001.1618034"
OWNER = "urn:epc:id:pgln:0614141.00001"
BUYER = "urn:epc:id:pgln:4012345.00001"
TRANSFORMATION = "urn:epc:id:gdti:4012345.55555.1"
ASSET = "urn:epc:id:grai:4000001.00012.5678"
SENSOR = "urn:epc:id:giai:4000001.12345"


def _event(event_id: str, event_type: str, day: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "eventID": event_id,
        "eventTime": f"2024-01-0{day}T10:00:00.000Z",
        "eventTimeZoneOffset": "+01:00",
        **fields,
    }


EVENTS = [
    _event(
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        "ObjectEvent",
        1,
        action="ADD",
        epcList=[SERIAL_2017, SERIAL_2018],
        bizStep="commissioning",
        disposition="active",
        readPoint={"id": READ_POINT},
        bizLocation={"id": BIZ_LOCATION},
    ),
    _event(
        "urn:uuid:00000000-0000-4000-8000-000000000002",
        "ObjectEvent",
        2,
        action="OBSERVE",
        epcList=[SERIAL_2017_LINK],
        quantityList=[{"epcClass": LOT, "quantity": 200.5, "uom": "KGM"}],
        bizStep="https://ref.gs1.org/cbv/BizStep-shipping",
        disposition="in_transit",
        bizTransactionList=[{"type": "po", "bizTransaction": PURCHASE_ORDER}],
        sourceList=[{"type": "owning_party", "source": OWNER}],
        destinationList=[{"type": "owning_party", "destination": BUYER}],
    ),
    _event(
        "urn:uuid:00000000-0000-4000-8000-000000000003",
        "AggregationEvent",
        3,
        action="ADD",
        parentID=SSCC,
        childEPCs=[SERIAL_2018],
        childQuantityList=[{"epcClass": "urn:epc:idpat:sgtin:4012345.098765.*", "quantity": 10}],
        bizStep="packing",
    ),
    _event(
        "urn:uuid:00000000-0000-4000-8000-000000000004",
        "TransformationEvent",
        4,
        inputEPCList=["urn:epc:id:sgtin:4012345.011122.25"],
        inputQuantityList=[{"epcClass": LOT, "quantity": 10, "uom": "KGM"}],
        outputEPCList=["urn:epc:id:sgtin:4012345.077889.25"],
        outputQuantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.077889.L1", "quantity": 5}],
        transformationID=TRANSFORMATION,
        bizStep="https://ref.gs1.org/cbv/BizStep-commissioning",
    ),
    _event(
        "urn:uuid:00000000-0000-4000-8000-000000000005",
        "TransactionEvent",
        5,
        action="DELETE",
        epcList=[SERIAL_2018],
        bizTransactionList=[
            {"type": "inv", "bizTransaction": "http://transaction.example.com/inv/1"}
        ],
        disposition="cbv:Disp-in_transit",
    ),
    _event(
        "urn:uuid:00000000-0000-4000-8000-000000000006",
        "AssociationEvent",
        6,
        action="ADD",
        parentID=ASSET,
        childEPCs=[SENSOR],
        bizStep="assembling",
    ),
]


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-01-07T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


@pytest.fixture
def repository(database_url: str) -> Iterator[EventRepository]:
    with EventRepository.open(database_url) as opened:
        job = opened.capture_document(_document(EVENTS))
        assert job.success, job.errors
        yield opened


def _ids(repository: EventRepository, parameters: Mapping[str, list[str]]) -> list[int]:
    """Return the numbers (last digit of the eventID) of the events that match, in order."""
    page = repository.query(parameters, per_page=100)
    assert page.next_page_token is None
    return [int(event["eventID"][-1]) for event in page.events]


def test_query_no_parameters(repository: EventRepository) -> None:
    assert _ids(repository, {}) == [1, 2, 3, 4, 5, 6]


def test_query_event_type(repository: EventRepository) -> None:
    assert _ids(repository, {"eventType": ["AggregationEvent|AssociationEvent"]}) == [3, 6]
    assert _ids(repository, {"eventType": ["ObjectEvent"]}) == [1, 2]
    assert _ids(repository, {"eventType": ["ExtensionEvent"]}) == []


def test_query_event_time(repository: EventRepository) -> None:
    assert _ids(repository, {"GE_eventTime": ["2024-01-03T10:00:00Z"]}) == [3, 4, 5, 6]
    assert _ids(repository, {"LT_eventTime": ["2024-01-03T10:00:00Z"]}) == [1, 2]
    # 11:00 at +01:00 is 10:00 UTC.
    assert _ids(
        repository,
        {"GE_eventTime": ["2024-01-02T11:00:00+01:00"], "LT_eventTime": ["2024-01-04T10:00:00Z"]},
    ) == [2, 3]


def test_query_record_time(repository: EventRepository) -> None:
    events = repository.query({}, per_page=100).events
    record_times = [datetime.fromisoformat(event["recordTime"]) for event in events]
    first, last = min(record_times), max(record_times)

    assert _ids(repository, {"GE_recordTime": [first.isoformat()]}) == [1, 2, 3, 4, 5, 6]
    assert _ids(repository, {"LT_recordTime": [first.isoformat()]}) == []
    after = (last + timedelta(milliseconds=1)).isoformat()
    assert _ids(repository, {"GE_recordTime": [after]}) == []
    assert _ids(repository, {"LT_recordTime": [after]}) == [1, 2, 3, 4, 5, 6]


def test_query_action(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_action": ["ADD"]}) == [1, 3, 6]
    assert _ids(repository, {"EQ_action": ["OBSERVE|DELETE"]}) == [2, 5]


def test_query_biz_step(repository: EventRepository) -> None:
    # A bare CBV word, a URN and a web URI name the same business step.
    assert _ids(repository, {"EQ_bizStep": ["commissioning"]}) == [1, 4]
    assert _ids(repository, {"EQ_bizStep": ["urn:epcglobal:cbv:bizstep:shipping"]}) == [2]
    assert _ids(repository, {"EQ_bizStep": ["urn:epcglobal:cbv:bizstep:packing|assembling"]}) == [
        3,
        6,
    ]


def test_query_disposition(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_disposition": ["in_transit"]}) == [2, 5]
    assert _ids(repository, {"EQ_disposition": ["cbv:Disp-active"]}) == [1]


def test_query_read_point(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_readPoint": [READ_POINT]}) == [1]
    assert _ids(repository, {"EQ_readPoint": ["https://id.gs1.org/414/0614141007776"]}) == [1]
    assert _ids(repository, {"EQ_readPoint": [BIZ_LOCATION]}) == []


def test_query_biz_location(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_bizLocation": [BIZ_LOCATION]}) == [1]
    assert _ids(repository, {"EQ_bizLocation": [READ_POINT]}) == []


def test_query_match_epc(repository: EventRepository) -> None:
    # An EPC URN finds the event captured with a Digital Link, and childEPCs count too.
    assert _ids(repository, {"MATCH_epc": [SERIAL_2017]}) == [1, 2]
    assert _ids(repository, {"MATCH_epc": [SERIAL_2018]}) == [1, 3, 5]
    assert _ids(repository, {"MATCH_epc": ["https://id.gs1.org/01/10614141073464/21/2018"]}) == [
        1,
        3,
        5,
    ]
    assert _ids(repository, {"MATCH_epc": [SENSOR]}) == [6]


def test_query_match_epc_patterns(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_epc": ["urn:epc:idpat:sgtin:0614141.107346.*"]}) == [1, 2, 3, 5]
    assert _ids(repository, {"MATCH_epc": ["urn:epc:idpat:sgtin:0614141.*.*"]}) == [1, 2, 3, 5]
    assert _ids(repository, {"MATCH_epc": ["urn:epc:idpat:sgtin:4012345.*.*"]}) == []
    # The GTIN-level Digital Link matches every serial of the GTIN.
    assert _ids(repository, {"MATCH_epc": ["https://id.gs1.org/01/10614141073464"]}) == [
        1,
        2,
        3,
        5,
    ]
    assert _ids(repository, {"MATCH_anyEPC": ["urn:epc:idpat:sscc:0614141.*"]}) == [3]
    assert _ids(repository, {"MATCH_anyEPC": ["urn:epc:idpat:giai:4000001.*"]}) == [6]


def test_query_match_parent_id(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_parentID": [SSCC]}) == [3]
    assert _ids(repository, {"MATCH_parentID": [f"{ASSET}|{SSCC}"]}) == [3, 6]
    assert _ids(repository, {"MATCH_parentID": [SERIAL_2018]}) == []


def test_query_match_input_output(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_inputEPC": ["urn:epc:id:sgtin:4012345.011122.25"]}) == [4]
    assert _ids(repository, {"MATCH_inputEPC": ["urn:epc:id:sgtin:4012345.077889.25"]}) == []
    assert _ids(repository, {"MATCH_outputEPC": ["urn:epc:id:sgtin:4012345.077889.25"]}) == [4]
    assert _ids(repository, {"MATCH_outputEPC": ["urn:epc:id:sgtin:4012345.011122.25"]}) == []


def test_query_match_any_epc(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_anyEPC": [SSCC]}) == [3]
    assert _ids(repository, {"MATCH_anyEPC": ["urn:epc:id:sgtin:4012345.077889.25"]}) == [4]
    assert _ids(repository, {"MATCH_anyEPC": [SERIAL_2018]}) == [1, 3, 5]
    assert _ids(repository, {"MATCH_anyEPC": [ASSET]}) == [6]


def test_query_match_epc_class(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_epcClass": [LOT]}) == [2]
    assert _ids(repository, {"MATCH_epcClass": [LOT_LINK]}) == [2]
    # childQuantityList counts for MATCH_epcClass.
    assert _ids(repository, {"MATCH_epcClass": ["urn:epc:idpat:sgtin:4012345.098765.*"]}) == [3]
    # The GTIN level matches the lots of the GTIN.
    assert _ids(repository, {"MATCH_epcClass": ["https://id.gs1.org/01/04012345123456"]}) == [2]


def test_query_match_input_output_class(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_inputEPCClass": [LOT]}) == [4]
    assert _ids(repository, {"MATCH_outputEPCClass": [LOT]}) == []
    output_lot = "urn:epc:class:lgtin:4012345.077889.L1"
    assert _ids(repository, {"MATCH_outputEPCClass": [output_lot]}) == [4]


def test_query_match_any_epc_class(repository: EventRepository) -> None:
    assert _ids(repository, {"MATCH_anyEPCClass": [LOT]}) == [2, 4]
    assert _ids(repository, {"MATCH_anyEPCClass": ["urn:epc:idpat:sgtin:4012345.098765.*"]}) == [3]


def test_query_biz_transaction(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_bizTransaction_po": [PURCHASE_ORDER]}) == [2]
    web_type = "EQ_bizTransaction_https://ref.gs1.org/cbv/BTT-inv"
    assert _ids(repository, {web_type: ["http://transaction.example.com/inv/1"]}) == [5]
    assert _ids(repository, {"EQ_bizTransaction_inv": [PURCHASE_ORDER]}) == []


def test_query_source_destination(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_source_owning_party": [OWNER]}) == [2]
    assert _ids(repository, {"EQ_source_owning_party": [BUYER]}) == []
    assert _ids(repository, {"EQ_destination_owning_party": [BUYER]}) == [2]
    assert _ids(repository, {"EQ_destination_possessing_party": [BUYER]}) == []


def test_query_event_id(repository: EventRepository) -> None:
    first, fifth = EVENTS[0]["eventID"], EVENTS[4]["eventID"]
    assert _ids(repository, {"EQ_eventID": [f"{fifth}|{first}"]}) == [1, 5]
    assert _ids(repository, {"EQ_eventID": ["urn:uuid:not-stored"]}) == []


def test_query_transformation_id(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_transformationID": [TRANSFORMATION]}) == [4]
    link = "https://id.gs1.org/253/40123455555541"
    assert _ids(repository, {"EQ_transformationID": [link]}) == [4]


def test_query_combines_parameters(repository: EventRepository) -> None:
    parameters = {"MATCH_epc": [SERIAL_2018], "EQ_action": ["ADD"], "eventType": ["ObjectEvent"]}
    assert _ids(repository, parameters) == [1]


def test_query_repeated_values(repository: EventRepository) -> None:
    assert _ids(repository, {"EQ_action": ["OBSERVE", "DELETE"]}) == [2, 5]


def test_query_paging(repository: EventRepository) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = repository.query({}, per_page=4, page_token=token)
        seen += [event["eventID"] for event in page.events]
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert pages == 2
    assert seen == [event["eventID"] for event in EVENTS]


def test_query_paging_exact_fit(repository: EventRepository) -> None:
    page = repository.query({}, per_page=6)
    assert len(page.events) == 6
    assert page.next_page_token is None


def test_query_altered_token(repository: EventRepository) -> None:
    token = repository.query({}, per_page=2).next_page_token
    assert token is not None
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(QueryParameterError) as raised:
        repository.query({}, per_page=2, page_token=altered)
    assert raised.value.parameter == "nextPageToken"
    with pytest.raises(QueryParameterError):
        repository.query({}, per_page=2, page_token="not a token")


def test_query_token_of_other_query(repository: EventRepository) -> None:
    token = repository.query({}, per_page=2).next_page_token
    assert token is not None
    with pytest.raises(QueryParameterError) as raised:
        repository.query({"EQ_action": ["ADD"]}, per_page=2, page_token=token)
    assert "other parameters" in str(raised.value)


def test_query_results_are_epcis_json(repository: EventRepository) -> None:
    event = repository.query({"EQ_eventID": [EVENTS[1]["eventID"]]}).events[0]
    assert event["epcList"] == [SERIAL_2017_LINK]
    assert event["quantityList"] == [{"epcClass": LOT, "quantity": 200.5, "uom": "KGM"}]
    assert event["bizStep"] == "https://ref.gs1.org/cbv/BizStep-shipping"
    assert event["recordTime"].endswith("Z")
    assert list(event)[: len(EVENTS[1])] == list(EVENTS[1])


TWO_TIMES = "2024-01-01T10:00Z|2024-01-02T10:00Z"


@pytest.mark.parametrize(
    ("parameter", "value", "reported"),
    [
        ("EQ_colour", "red", "red"),
        ("perPage", "10", "10"),
        ("GE_eventTime", "yesterday", "yesterday"),
        ("GE_eventTime", "2024-01-01T10:00:00", "2024-01-01T10:00:00"),
        ("LT_recordTime", TWO_TIMES, TWO_TIMES),
        ("EQ_action", "SHIP", "SHIP"),
        ("EQ_bizStep", "notAStep", "notAStep"),
        ("EQ_disposition", "shipping", "shipping"),
        ("EQ_action", "ADD|", "ADD|"),
        ("MATCH_epc", "urn:epc:idpat:sgtin:0614141.*.2017", "urn:epc:idpat:sgtin:0614141.*.2017"),
        ("MATCH_epc", "urn:epc:idpat:foo:0614141.*", "urn:epc:idpat:foo:0614141.*"),
        ("EQ_bizTransaction_", "x", "x"),
        ("EQ_bizTransaction_notAType", PURCHASE_ORDER, PURCHASE_ORDER),
        ("EQ_source_notAType", OWNER, OWNER),
    ],
)
def test_query_bad_parameter(
    repository: EventRepository, parameter: str, value: str, reported: str
) -> None:
    with pytest.raises(QueryParameterError) as raised:
        repository.query({parameter: [value]})
    assert raised.value.parameter == parameter
    assert raised.value.value == reported
    assert parameter in str(raised.value)


def test_query_bad_page_size(repository: EventRepository) -> None:
    with pytest.raises(QueryParameterError) as raised:
        repository.query({}, per_page=0)
    assert raised.value.parameter == "perPage"

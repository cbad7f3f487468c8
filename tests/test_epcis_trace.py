"""Upstream and downstream trace through the event repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from valuetrace.epcis import EventRepository, canonical_identifier

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

COCOA = "urn:epc:class:lgtin:4012345.000001.L1"
SUGAR = "urn:epc:class:lgtin:4012345.000002.S1"
MASS = "urn:epc:class:lgtin:4012345.000003.M1"
BARS = [f"urn:epc:id:sgtin:4012345.000004.{serial}" for serial in (1, 2, 3)]
BAR_CLASS = "urn:epc:idpat:sgtin:4012345.000004.*"
GIFT_BOXES = "urn:epc:class:lgtin:4012345.000005.G1"
CASE = "urn:epc:id:sscc:4012345.0000000001"
PALLET = "urn:epc:id:sscc:4012345.0000000009"
OTHER_LOT = "urn:epc:class:lgtin:4012345.000006.X1"
SENSOR = "urn:epc:id:giai:4012345.77"
TRAILER = "urn:epc:id:grai:4012345.00012.5678"


def _event(number: int, event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "eventID": f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        "eventTime": f"2024-02-01T{number:02d}:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }


def _quantities(*classes: str) -> list[dict[str, Any]]:
    return [{"epcClass": epc_class, "quantity": 100, "uom": "KGM"} for epc_class in classes]


CHAIN = [
    _event(
        1,
        "TransformationEvent",
        inputQuantityList=_quantities(COCOA, SUGAR),
        outputQuantityList=_quantities(MASS),
        bizStep="commissioning",
    ),
    # One transformation recorded as two events that share a transformationID.
    _event(
        2,
        "TransformationEvent",
        transformationID="urn:uuid:11111111-1111-4111-8111-111111111111",
        inputQuantityList=_quantities(MASS),
    ),
    _event(
        3,
        "TransformationEvent",
        transformationID="urn:uuid:11111111-1111-4111-8111-111111111111",
        outputEPCList=BARS,
    ),
    _event(4, "AggregationEvent", action="ADD", parentID=CASE, childEPCs=BARS[:2]),
    _event(5, "AggregationEvent", action="ADD", parentID=PALLET, childEPCs=[CASE]),
    _event(6, "ObjectEvent", action="OBSERVE", epcList=[PALLET], bizStep="shipping"),
    # Class level: every bar of the GTIN is an input, so each bar leads to the gift boxes.
    _event(
        7,
        "TransformationEvent",
        inputQuantityList=[{"epcClass": BAR_CLASS, "quantity": 3}],
        outputQuantityList=[{"epcClass": GIFT_BOXES, "quantity": 1}],
    ),
    _event(
        8,
        "TransformationEvent",
        inputQuantityList=_quantities(OTHER_LOT),
        outputQuantityList=_quantities("urn:epc:class:lgtin:4012345.000007.Y1"),
    ),
    _event(9, "AssociationEvent", action="ADD", parentID=TRAILER, childEPCs=[SENSOR]),
]


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-02-02T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


def _numbers(events: list[dict[str, Any]]) -> list[int]:
    return [int(event["eventID"].rsplit("-", 1)[1]) for event in events]


def _canonical(*values: str) -> list[str]:
    return [canonical_identifier(value) for value in values]


@pytest.fixture
def repository(database_url: str) -> Iterator[EventRepository]:
    with EventRepository.open(database_url) as opened:
        yield opened


@pytest.fixture
def chain(repository: EventRepository) -> EventRepository:
    job = repository.capture_document(_document(CHAIN))
    assert job.success, job.errors
    return repository


def test_trace_downstream_chain(chain: EventRepository) -> None:
    result = chain.trace(COCOA, direction="downstream")

    assert result.root == canonical_identifier(COCOA)
    assert result.direction == "downstream"
    assert result.truncated is False
    assert set(result.identifiers) == set(_canonical(COCOA, MASS, *BARS, CASE, PALLET, GIFT_BOXES))
    assert result.identifiers[0] == result.root
    assert _numbers(result.events) == [1, 2, 3, 4, 5, 6, 7]


def test_trace_downstream_edges(chain: EventRepository) -> None:
    edges = set(chain.trace(COCOA, direction="downstream").edges)
    cocoa, mass, bar1, bar3, case, pallet = _canonical(COCOA, MASS, BARS[0], BARS[2], CASE, PALLET)

    assert (cocoa, mass, CHAIN[0]["eventID"]) in edges
    # The transformationID joins the input event 2 to the outputs in event 3.
    assert (mass, bar1, CHAIN[2]["eventID"]) in edges
    assert (bar1, case, CHAIN[3]["eventID"]) in edges
    assert (case, pallet, CHAIN[4]["eventID"]) in edges
    assert (bar3, canonical_identifier(GIFT_BOXES), CHAIN[6]["eventID"]) in edges
    assert not any(target == canonical_identifier(SUGAR) for _, target, _ in edges)


def test_trace_upstream_chain(chain: EventRepository) -> None:
    result = chain.trace(PALLET, direction="upstream")

    assert result.truncated is False
    assert set(result.identifiers) == set(_canonical(PALLET, CASE, *BARS[:2], MASS, COCOA, SUGAR))
    # Bar 3 is an output of the same transformation, but not upstream of the pallet.
    assert canonical_identifier(BARS[2]) not in result.identifiers
    assert _numbers(result.events) == [1, 2, 3, 4, 5, 6, 7]
    assert (canonical_identifier(PALLET), canonical_identifier(CASE), CHAIN[4]["eventID"]) in set(
        result.edges
    )


def test_trace_digital_link_root(chain: EventRepository) -> None:
    link = "https://example.com/01/04012345000016/10/L1"
    assert canonical_identifier(link) == canonical_identifier(COCOA)

    result = chain.trace(link, direction="downstream")

    assert canonical_identifier(PALLET) in result.identifiers


def test_trace_instance_matches_class(chain: EventRepository) -> None:
    # Bar 3 is named in no event of the gift boxes, but its GTIN class is.
    result = chain.trace(BARS[2], direction="downstream")

    assert result.identifiers == _canonical(BARS[2], GIFT_BOXES)
    # Event 2 shares the transformationID of event 3, which produced the bar.
    assert _numbers(result.events) == [2, 3, 7]


def test_trace_class_matches_instances(chain: EventRepository) -> None:
    result = chain.trace(GIFT_BOXES, direction="upstream")

    bar_class, mass = _canonical(BAR_CLASS, MASS)
    # The bars that event 3 produced belong to the class that event 7 consumed, and the
    # transformationID leads on to the mass that event 2 consumed.
    assert (bar_class, mass, CHAIN[1]["eventID"]) in set(result.edges)
    assert canonical_identifier(COCOA) in result.identifiers
    assert 3 in _numbers(result.events)


def test_trace_association(chain: EventRepository) -> None:
    downstream = chain.trace(SENSOR, direction="downstream")
    upstream = chain.trace(TRAILER, direction="upstream")

    assert downstream.identifiers == _canonical(SENSOR, TRAILER)
    assert upstream.identifiers == _canonical(TRAILER, SENSOR)
    assert _numbers(downstream.events) == [9]


def test_trace_unknown_identifier(chain: EventRepository) -> None:
    result = chain.trace("urn:epc:id:sgtin:9999999.000001.1", direction="downstream")

    assert result.events == []
    assert result.edges == []
    assert result.identifiers == _canonical("urn:epc:id:sgtin:9999999.000001.1")
    assert result.truncated is False


def test_trace_events_are_epcis_json(chain: EventRepository) -> None:
    event = chain.trace(CASE, direction="upstream").events[0]

    assert event["type"] == "TransformationEvent"
    assert event["recordTime"].endswith("Z")
    assert event["inputQuantityList"] == _quantities(COCOA, SUGAR)


def _lots(count: int) -> list[str]:
    return [f"urn:epc:class:lgtin:4012345.000010.R{index}" for index in range(count)]


def test_trace_cycle(repository: EventRepository) -> None:
    first, second = _lots(2)
    rework = [
        _event(
            1,
            "TransformationEvent",
            inputQuantityList=_quantities(first),
            outputQuantityList=_quantities(second),
        ),
        _event(
            2,
            "TransformationEvent",
            inputQuantityList=_quantities(second),
            outputQuantityList=_quantities(first),
        ),
    ]
    assert repository.capture_document(_document(rework)).success

    result = repository.trace(first, direction="downstream")

    assert result.identifiers == _canonical(first, second)
    assert result.truncated is False
    assert _numbers(result.events) == [1, 2]
    assert len(result.edges) == 2


def test_trace_depth_limit(repository: EventRepository) -> None:
    lots = _lots(6)
    steps = [
        _event(
            index + 1,
            "TransformationEvent",
            inputQuantityList=_quantities(lots[index]),
            outputQuantityList=_quantities(lots[index + 1]),
        )
        for index in range(5)
    ]
    assert repository.capture_document(_document(steps)).success

    cut = repository.trace(lots[0], direction="downstream", max_depth=2)
    whole = repository.trace(lots[0], direction="downstream", max_depth=5)
    upstream = repository.trace(lots[5], direction="upstream", max_depth=1)

    assert cut.identifiers == _canonical(*lots[:3])
    assert cut.truncated is True
    assert whole.identifiers == _canonical(*lots)
    assert whole.truncated is False
    assert upstream.identifiers == _canonical(lots[5], lots[4])
    assert upstream.truncated is True


def test_trace_event_limit(chain: EventRepository) -> None:
    result = chain.trace(COCOA, direction="downstream", max_events=2)

    assert result.truncated is True
    assert len(result.events) <= 2


def test_trace_bad_arguments(chain: EventRepository) -> None:
    with pytest.raises(ValueError, match="direction"):
        chain.trace(COCOA, direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_depth"):
        chain.trace(COCOA, direction="upstream", max_depth=0)


def test_trace_wide_tier(repository: EventRepository) -> None:
    # 600 serials leave one transformation and enter 600 aggregations: one tier of the trace
    # handles them together.
    serials = [f"urn:epc:id:sgtin:4012345.000020.{index}" for index in range(600)]
    events = [
        _event(
            1, "TransformationEvent", inputQuantityList=_quantities(COCOA), outputEPCList=serials
        ),
        *[
            {
                **_event(
                    2,
                    "AggregationEvent",
                    action="ADD",
                    parentID=f"urn:epc:id:sscc:4012345.{index:010d}",
                    childEPCs=[serial],
                ),
                "eventID": f"urn:uuid:00000000-0000-4000-9000-{index:012d}",
            }
            for index, serial in enumerate(serials)
        ],
    ]
    assert repository.capture_document(_document(events)).success

    result = repository.trace(COCOA, direction="downstream")

    assert len(result.identifiers) == 1 + 600 + 600
    assert len(result.events) == 601
    assert result.truncated is False


def test_trace_events_keep_document_context(chain: EventRepository) -> None:
    result = chain.trace(COCOA, direction="downstream")
    assert result.events
    assert all(event["@context"] == CONTEXT for event in result.events)
    assert result.events[0] == chain.get_event(result.events[0]["eventID"])

"""The demo's traceability events: the event repository and the DTE credentials agree."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from valuetrace.demo import build_textile_chain, run_demo
from valuetrace.demo._textile import product_link
from valuetrace.epcis import EventRepository, canonical_identifier, dte_to_events
from valuetrace.store import Store
from valuetrace.vc import decode_envelope

GARMENT_LOT = product_link(6, "TS-2026-0042")
SEED_LOTS = (product_link(1, "SC-A-2026"), product_link(2, "SC-B-2026"))
PRODUCTION_EVENTS = 6
SHIPPING_EVENTS = 6


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built by ``valuetrace demo``, the same way the command builds it."""
    path = tmp_path_factory.mktemp("demo-events") / "demo.sqlite"
    quiet = Console(file=io.StringIO())
    verified = run_demo(
        path, console=quiet, status_console=Console(file=io.StringIO()), keep_store=True
    )
    assert verified
    return path


def dte_payloads(path: Path) -> list[dict[str, Any]]:
    with Store.open(path) as store:
        stored = store.find_credentials(credential_type="DigitalTraceabilityEvent")
    return [decode_envelope(json.loads(item.content)).payload for item in stored]


def test_repository_holds_every_event(demo_path: Path) -> None:
    with EventRepository.open(demo_path) as repository:
        count = repository.count_events()
    assert count == PRODUCTION_EVENTS + SHIPPING_EVENTS


def test_upstream_trace_reaches_farms(demo_path: Path) -> None:
    with EventRepository.open(demo_path) as repository:
        result = repository.trace(GARMENT_LOT, direction="upstream")
    reached = set(result.identifiers)

    assert not result.truncated
    for seed_lot in SEED_LOTS:
        assert canonical_identifier(seed_lot) in reached


def test_dte_event_ids_in_repository(demo_path: Path) -> None:
    payloads = dte_payloads(demo_path)
    assert len(payloads) == PRODUCTION_EVENTS + SHIPPING_EVENTS

    with EventRepository.open(demo_path) as repository:
        for payload in payloads:
            for event in dte_to_events(payload):
                stored = repository.get_event(event["eventID"])
                assert stored is not None, f"{payload['id']}: {event['eventID']} not captured"
                assert stored["type"] == event["type"]


def test_dte_ids_are_event_ids(demo_path: Path) -> None:
    for payload in dte_payloads(demo_path):
        events = dte_to_events(payload)
        subject_ids = [subject["id"] for subject in payload["credentialSubject"]]
        assert subject_ids == [event["eventID"] for event in events]


def test_dte_items_keep_product_names(demo_path: Path) -> None:
    harvest = next(
        payload
        for payload in dte_payloads(demo_path)
        if payload["id"].endswith("/dte-harvesting-seed-a.json")
    )
    (subject,) = harvest["credentialSubject"]
    assert subject["quantityList"][0]["productName"] == "Seed cotton, Sabarkantha"


def test_rebuild_reuses_captured_events(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    now = datetime.now(UTC).replace(microsecond=0)
    with Store.open(path) as store, EventRepository.open(path) as repository:
        first = build_textile_chain(store, now=now, key_secret=b"x", repository=repository)
        second = build_textile_chain(store, now=now, key_secret=b"x", repository=repository)
        count = repository.count_events()

    assert second.event_ids == first.event_ids
    assert count == PRODUCTION_EVENTS + SHIPPING_EVENTS

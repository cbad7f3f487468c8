"""Benchmark the upstream trace of the EPCIS event repository in a large repository.

The script fills a fresh repository with N events. One product's upstream is a full binary tree
of transformations over 10 tiers. Each product of tiers 0 to 9 is the output of a
TransformationEvent with two input lots of the next tier. Each of the 1,024 lots of tier 10 has
a commissioning ObjectEvent. That is 1,023 + 1,024 = 2,047 events, spread evenly through the
repository. Every other event is unrelated noise from the capture benchmark's generator.

The fill bypasses capture, which would take too long: the script computes the rows that the
repository writes with the repository's own code and inserts them with ``executemany`` in
batches of 1,000. It then times 20 upstream traces from the root product (after one untimed
trace) and, in the same run, single indexed lookups of random events with ``get_event``. It
checks the trace result and prints percentiles and their ratio; it asserts no absolute time.

    python bench/epcis_trace.py [--events N] [--db sqlite|postgresql] [--runs R]

SQLite is a file in a temporary folder. A PostgreSQL database is created as
``valuetrace_bench_<random>`` on the server of ``VALUETRACE_BENCH_POSTGRES`` (see
``bench/epcis_capture.py``) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy
from epcis_capture import (
    EPCIS_CONTEXT,
    FIRST_EVENT_TIME,
    cpu_model,
    fresh_database,
    insert_prepared,
    make_event,
    postgres_version,
)

from valuetrace.epcis import EventRepository, canonical_identifier
from valuetrace.epcis._repository import _prepare, _PreparedEvent
from valuetrace.store._store import create_store_engine

DEFAULT_EVENTS = 1_000_000
DEFAULT_RUNS = 20
LOOKUPS = 1_000
TIERS = 10
# Transformations above the leaves (1 + 2 + ... + 512) and the leaves' commissioning events.
CHAIN_TRANSFORMATIONS = 2**TIERS - 1
CHAIN_LEAVES = 2**TIERS
CHAIN_EVENTS = CHAIN_TRANSFORMATIONS + CHAIN_LEAVES
AIM_TRACE_P95_MS = 50.0
# Events per fill transaction.
FILL_CHUNK = 10_000
# The company prefix of the traced product. The noise uses other prefixes.
CHAIN_COMPANY = "9521234"


def chain_lot(tier: int, index: int) -> str:
    """Return the lot of product ``index`` (0-based) of ``tier``. Tier 0 contains only the root."""
    return f"urn:epc:class:lgtin:{CHAIN_COMPANY}.{100000 + tier:06d}.T{tier}N{index}"


def chain_events() -> list[dict[str, Any]]:
    """Generate the traced product's upstream, deepest tier first, as events in time order."""
    generated: list[dict[str, Any]] = []
    moment = FIRST_EVENT_TIME
    for index in range(CHAIN_LEAVES):
        generated.append(
            {
                "type": "ObjectEvent",
                "eventTime": moment.isoformat(timespec="milliseconds"),
                "eventTimeZoneOffset": "+01:00",
                "quantityList": [
                    {"epcClass": chain_lot(TIERS, index), "quantity": 1000, "uom": "KGM"}
                ],
                "action": "ADD",
                "bizStep": "commissioning",
                "disposition": "active",
                "readPoint": {"id": f"urn:epc:id:sgln:{CHAIN_COMPANY}.{index % 64 + 1:05d}.0"},
            }
        )
        moment += timedelta(seconds=1)
    for tier in range(TIERS - 1, -1, -1):
        for index in range(2**tier):
            generated.append(
                {
                    "type": "TransformationEvent",
                    "eventTime": moment.isoformat(timespec="milliseconds"),
                    "eventTimeZoneOffset": "+01:00",
                    "inputQuantityList": [
                        {"epcClass": chain_lot(tier + 1, 2 * index), "quantity": 500, "uom": "KGM"},
                        {
                            "epcClass": chain_lot(tier + 1, 2 * index + 1),
                            "quantity": 500,
                            "uom": "KGM",
                        },
                    ],
                    "outputQuantityList": [
                        {"epcClass": chain_lot(tier, index), "quantity": 980, "uom": "KGM"}
                    ],
                    "bizStep": "commissioning",
                    "disposition": "active",
                    "readPoint": {"id": f"urn:epc:id:sgln:{CHAIN_COMPANY}.{tier + 100:05d}.0"},
                }
            )
            moment += timedelta(seconds=1)
    return generated


def repository_events(total: int, seed: int) -> Iterator[dict[str, Any]]:
    """Yield ``total`` events with eventIDs: the chain spread evenly through the noise."""
    rng = random.Random(seed)
    chain = chain_events()
    step = total / len(chain)
    chain_positions = {int(number * step): event for number, event in enumerate(chain)}
    noise_number = 0
    for position in range(total):
        event = chain_positions.get(position)
        if event is None:
            event = make_event(noise_number, rng)
            noise_number += 1
        event["eventID"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        yield event


def fill(url: str, total: int, seed: int) -> tuple[float, list[str]]:
    """Insert ``total`` events' rows and return the seconds taken and every eventID."""
    engine, _ = create_store_engine(url)
    event_ids: list[str] = []
    started = time.perf_counter()
    key = 1
    chunk: list[_PreparedEvent] = []
    record_time = datetime.now(UTC)
    try:
        for event in repository_events(total, seed):
            chunk.append(_prepare(event, EPCIS_CONTEXT, record_time, None))
            if len(chunk) == FILL_CHUNK:
                key = _insert_chunk(engine, chunk, key, event_ids)
                chunk = []
                if len(event_ids) % 100_000 == 0:
                    elapsed = time.perf_counter() - started
                    print(f"  filled {len(event_ids):,} events in {elapsed:.0f} s", flush=True)
        if chunk:
            _insert_chunk(engine, chunk, key, event_ids)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - started, event_ids


def _insert_chunk(
    engine: sqlalchemy.Engine, chunk: list[_PreparedEvent], key: int, event_ids: list[str]
) -> int:
    with engine.begin() as connection:
        key = insert_prepared(connection, chunk, key)
    event_ids += [item.event_id for item in chunk]
    return key


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile ``share`` (0 to 1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def measure(url: str, event_ids: Sequence[str], runs: int, seed: int) -> int:
    """Time the traces and lookups, check the trace result and print the figures."""
    root = chain_lot(0, 0)
    with EventRepository.open(url) as repository:
        result = repository.trace(root, direction="upstream")
        problems = []
        if len(result.events) != CHAIN_EVENTS:
            problems.append(f"{len(result.events)} events, expected {CHAIN_EVENTS}")
        if len(result.identifiers) != CHAIN_EVENTS:
            problems.append(f"{len(result.identifiers)} identifiers, expected {CHAIN_EVENTS}")
        if len(result.edges) != 2 * CHAIN_TRANSFORMATIONS:
            problems.append(f"{len(result.edges)} edges, expected {2 * CHAIN_TRANSFORMATIONS}")
        if result.truncated:
            problems.append("the trace is truncated")
        if result.root != canonical_identifier(root):
            problems.append(f"root {result.root}, expected {canonical_identifier(root)}")
        if problems:
            print("trace result is wrong: " + "; ".join(problems))
            return 1
        print(
            f"trace result checked: {len(result.events):,} events, "
            f"{len(result.identifiers):,} identifiers, {len(result.edges):,} edges"
        )

        trace_ms: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            repository.trace(root, direction="upstream")
            trace_ms.append((time.perf_counter() - started) * 1000)

        rng = random.Random(seed + 1)
        lookup_ms: list[float] = []
        for event_id in rng.sample(list(event_ids), min(LOOKUPS, len(event_ids))):
            started = time.perf_counter()
            found = repository.get_event(event_id)
            lookup_ms.append((time.perf_counter() - started) * 1000)
            if found is None:
                print(f"get_event did not find stored event {event_id}")
                return 1

    trace_p50 = percentile(trace_ms, 0.5)
    trace_p95 = percentile(trace_ms, 0.95)
    lookup_p50 = percentile(lookup_ms, 0.5)
    lookup_p95 = percentile(lookup_ms, 0.95)
    print(
        f"trace upstream, {runs} runs: p50 {trace_p50:.1f} ms, p95 {trace_p95:.1f} ms "
        f"(min {min(trace_ms):.1f}, max {max(trace_ms):.1f})"
    )
    print(
        f"get_event, {len(lookup_ms)} random events: p50 {lookup_p50:.3f} ms, "
        f"p95 {lookup_p95:.3f} ms"
    )
    print(
        f"ratio trace p95 / get_event p95: {trace_p95 / lookup_p95:,.0f}; trace p95 per event "
        f"of the result: {trace_p95 / CHAIN_EVENTS * 1000:.1f} µs"
    )
    verdict = "met" if trace_p95 < AIM_TRACE_P95_MS else "not met"
    print(f"aim trace p95 < {AIM_TRACE_P95_MS:.0f} ms: {verdict}")
    return 0


def profile_trace(url: str, runs: int) -> None:
    """Trace ``runs`` more times under cProfile and print where the time goes."""
    with EventRepository.open(url) as repository:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            repository.trace(chain_lot(0, 0), direction="upstream")
        profiler.disable()
    output = io.StringIO()
    stats = pstats.Stats(profiler, stream=output)
    stats.sort_stats("cumulative").print_stats(25)
    print(output.getvalue())
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[3] for key, entry in entries.items() if key[2] == "trace_graph")
    parts = {
        "SQL statements (Connection.execute)": ("base.py", "execute"),
        "matching_event_keys": ("_trace.py", "matching_event_keys"),
        "load (events and their entries)": ("_trace.py", "load"),
        "step (edges in Python)": ("_trace.py", "step"),
        "_full_events (content of the result)": ("_trace.py", "_full_events"),
        "event_from_row (json.loads)": ("_repository.py", "event_from_row"),
    }
    print(f"profile of {runs} traces, cumulative seconds and share of trace_graph:")
    for label, (file_name, function_name) in parts.items():
        seconds = sum(
            entry[3]
            for key, entry in entries.items()
            if key[0].endswith(file_name) and key[2] == function_name
        )
        share = seconds / total * 100 if total else 0.0
        print(f"  {label:40} {seconds:7.2f} s {share:6.1f} %")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"the number of events in the repository (default: {DEFAULT_EVENTS:,})",
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the database kind (default: sqlite)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=DEFAULT_RUNS,
        help=f"timed traces (default: {DEFAULT_RUNS})",
    )
    parser.add_argument("--seed", type=int, default=1, help="the seed of the noise (default: 1)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="trace as many times again under cProfile and print the top functions and a breakdown",
    )
    arguments = parser.parse_args(argv)
    if arguments.events < CHAIN_EVENTS:
        parser.error(f"--events must be at least {CHAIN_EVENTS:,}, the traced product's events")
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")

    print(
        f"machine: {cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}"
    )
    if arguments.db == "postgresql":
        print(f"PostgreSQL {postgres_version()}")
    with fresh_database(arguments.db) as url:
        seconds, event_ids = fill(url, arguments.events, arguments.seed)
        print(
            f"filled {len(event_ids):,} events ({CHAIN_EVENTS:,} in the traced upstream) "
            f"on {arguments.db} in {seconds:.0f} s ({len(event_ids) / seconds:,.0f} events/s)"
        )
        status = measure(url, event_ids, arguments.runs, arguments.seed)
        if status == 0 and arguments.profile:
            profile_trace(url, arguments.runs)
        return status


if __name__ == "__main__":
    sys.exit(main())

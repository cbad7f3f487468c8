"""Benchmark EPCIS capture against a bare batched insert of the same rows.

The script generates EPCIS 2.0 documents of 1,000 events each (object and transformation events
with EPCs, quantities, business transactions, sources and destinations, and no eventID). It
captures them with ``EventRepository.capture_document``, which validates, hashes and stores
them. In the same run and on the same kind of database, it inserts the rows that the repository
writes for the same events, computed beforehand, into the repository's own tables with one
``executemany`` per table and batch of 1,000. It prints events/s of both and their ratio, and
never asserts an absolute time.

    python bench/epcis_capture.py [--db sqlite|postgresql|both] [--events N] [--repeat K]
        [--profile]

SQLite databases are files in a temporary folder. PostgreSQL databases are created as
``valuetrace_bench_<random>`` on the server of ``VALUETRACE_BENCH_POSTGRES`` (default
``postgresql://127.0.0.1:5432/postgres``, trust authentication) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from psycopg import sql
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import make_url

from valuetrace.epcis import EventRepository, document_context
from valuetrace.epcis._repository import _prepare, _PreparedEvent
from valuetrace.epcis._tables import (
    capture_jobs,
    event_epcs,
    event_parties,
    event_transactions,
    events,
)
from valuetrace.store._store import create_store_engine

DEFAULT_EVENTS = 20_000
DEFAULT_REPEAT = 3
# Events per captured document, and rows per executemany call of the bare insert.
BATCH = 1_000
TARGET_RATIO = 0.5
AIM_EVENTS_PER_SECOND = 5_000
POSTGRES_ADMIN_URL = os.environ.get(
    "VALUETRACE_BENCH_POSTGRES", "postgresql://127.0.0.1:5432/postgres"
)
DATABASE_PREFIX = "valuetrace_bench_"

EPCIS_CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
# GS1 company prefixes of the generated trading partners (7 digits each).
COMPANY_PREFIXES = ("4012345", "0614141", "9520123", "5412345")
EVENT_ZONE = timezone(timedelta(hours=1))
FIRST_EVENT_TIME = datetime(2024, 3, 1, 6, 0, tzinfo=EVENT_ZONE)


# Event generation


def _sgtin(company: str, item: int, serial: int) -> str:
    return f"urn:epc:id:sgtin:{company}.{item:06d}.{serial}"


def _lgtin(company: str, item: int, lot: str) -> str:
    return f"urn:epc:class:lgtin:{company}.{item:06d}.{lot}"


def _sgln(company: str, location: int) -> str:
    return f"urn:epc:id:sgln:{company}.{location:05d}.0"


def _pgln(company: str, party: int) -> str:
    return f"urn:epc:id:pgln:{company}.{party:05d}"


def _gln13(company: str, party: int) -> str:
    """Return the 13-digit GLN with its check digit, as business transaction URNs use it."""
    digits = f"{company}{party:05d}"
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _event_time(number: int) -> str:
    moment = FIRST_EVENT_TIME + timedelta(seconds=number, milliseconds=number % 1000)
    return moment.isoformat(timespec="milliseconds")


def _transactions(rng: random.Random, company: str, number: int) -> list[dict[str, str]]:
    buyer = _gln13(company, rng.randrange(1, 50))
    return [
        {"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:{buyer}:PO-{number // 7}"},
        {"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{buyer}:ASN-{number}"},
    ]


def _parties(rng: random.Random, side: str, company: str) -> list[dict[str, str]]:
    return [
        {"type": "owning_party", side: _pgln(company, rng.randrange(1, 50))},
        {"type": "location", side: _sgln(company, rng.randrange(1, 200))},
    ]


def make_event(
    number: int, rng: random.Random, *, companies: Sequence[str] = COMPANY_PREFIXES
) -> dict[str, Any]:
    """Generate event ``number``: 30 % transformations, the rest commissioning, shipping and
    receiving object events, all with identifiers as EPC URNs and CBV values as bare words."""
    company = companies[number % len(companies)]
    partner = companies[(number + 1) % len(companies)]
    item = 1000 + number % 400
    serials = [_sgtin(company, item, number * 10 + offset) for offset in range(5)]
    lot = _lgtin(company, item, f"L{number}")
    kind = number % 10
    event: dict[str, Any] = {
        "type": "TransformationEvent" if kind < 3 else "ObjectEvent",
        "eventTime": _event_time(number),
        "eventTimeZoneOffset": "+01:00",
    }

    if kind < 3:
        event["inputQuantityList"] = [
            {
                "epcClass": _lgtin(company, item + 400, f"A{number}"),
                "quantity": 250.5,
                "uom": "KGM",
            },
            {"epcClass": _lgtin(partner, item + 800, f"B{number}"), "quantity": 12, "uom": "KGM"},
        ]
        event["outputEPCList"] = serials
        event["outputQuantityList"] = [{"epcClass": lot, "quantity": 260, "uom": "KGM"}]
        event["bizStep"] = "commissioning"
        event["disposition"] = "active"
    elif kind < 6:
        event["epcList"] = serials
        event["action"] = "ADD"
        event["bizStep"] = "commissioning"
        event["disposition"] = "active"
    else:
        shipping = kind < 8
        event["epcList"] = serials
        event["quantityList"] = [{"epcClass": lot, "quantity": 40, "uom": "KGM"}]
        event["action"] = "OBSERVE"
        event["bizStep"] = "shipping" if shipping else "receiving"
        event["disposition"] = "in_transit" if shipping else "in_progress"
        event["bizTransactionList"] = _transactions(rng, partner, number)
        event["sourceList"] = _parties(rng, "source", company)
        event["destinationList"] = _parties(rng, "destination", partner)

    event["readPoint"] = {"id": _sgln(company, number % 200 + 1)}
    event["bizLocation"] = {"id": _sgln(company, number % 20 + 1)}
    return event


def make_document(event_list: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap events in an EPCISDocument with the EPCIS 2.0 context."""
    return {
        "@context": EPCIS_CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-02T00:00:00.000Z",
        "epcisBody": {"eventList": event_list},
    }


def make_documents(count: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """Generate ``count`` events in documents of ``BATCH`` events."""
    rng = random.Random(seed)
    event_list = [make_event(number, rng) for number in range(count)]
    return [make_document(event_list[start : start + BATCH]) for start in range(0, count, BATCH)]


# The repository's rows


def prepare_document(document: dict[str, Any], job_id: str | None) -> list[_PreparedEvent]:
    """Compute the rows that capture writes for a document's events, with the repository's code."""
    context = document_context(document)
    record_time = datetime.now(UTC)
    return [
        _prepare(event, context, record_time, job_id)
        for event in document["epcisBody"]["eventList"]
    ]


def insert_prepared(
    connection: Connection, prepared: Sequence[_PreparedEvent], first_key: int
) -> int:
    """Insert prepared events with keys from ``first_key`` on, ``BATCH`` rows per executemany.

    Returns the next free key. The keys are given, so no statement needs RETURNING.
    """
    event_rows: list[dict[str, Any]] = []
    index_rows: dict[sqlalchemy.Table, list[dict[str, Any]]] = {
        event_epcs: [],
        event_transactions: [],
        event_parties: [],
    }
    key = first_key
    for item in prepared:
        event_rows.append({**item.row, "id": key})
        index_rows[event_epcs] += [{"event_pk": key, **row} for row in item.epcs]
        index_rows[event_transactions] += [{"event_pk": key, **row} for row in item.transactions]
        index_rows[event_parties] += [{"event_pk": key, **row} for row in item.parties]
        key += 1
    for table, rows in ((events, event_rows), *index_rows.items()):
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start : start + BATCH])
    return key


def finished_job_row(job_id: str, captured: int) -> dict[str, Any]:
    """Return the capture_jobs row of a successful capture of ``captured`` events."""
    moment = datetime.now(UTC)
    return {
        "id": job_id,
        "running": False,
        "success": True,
        "captured": captured,
        "errors": [],
        "created_at": moment,
        "finished_at": moment,
    }


def table_counts(connection: Connection) -> dict[str, int]:
    """Count the rows of the repository's tables."""
    tables = (capture_jobs, events, event_epcs, event_transactions, event_parties)
    return {
        table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        for table in tables
    }


# Databases


@contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """Create a database ``valuetrace_bench_<random>``, yield its URL and drop it afterwards."""
    name = DATABASE_PREFIX + secrets.token_hex(8)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``kind`` ("sqlite" or "postgresql")."""
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="valuetrace-bench-") as folder:
        yield f"sqlite+pysqlite:///{Path(folder) / 'events.sqlite'}"


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the machine type elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def postgres_version() -> str:
    """Return the server version of the benchmark's PostgreSQL server, or why it is missing."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5) as admin:
            row = admin.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        return f"not reachable ({error})"
    return str(row[0]) if row else "unknown"


# Measurements


@dataclass
class Round:
    """One capture run and one bare insert run of the same events."""

    capture_seconds: float
    bare_seconds: float
    events: int

    @property
    def capture_rate(self) -> float:
        return self.events / self.capture_seconds

    @property
    def bare_rate(self) -> float:
        return self.events / self.bare_seconds

    @property
    def ratio(self) -> float:
        return self.capture_rate / self.bare_rate


def run_capture(url: str, documents: Sequence[dict[str, Any]]) -> tuple[float, dict[str, int]]:
    """Capture every document; return the seconds spent in capture_document and the row counts."""
    seconds = 0.0
    with EventRepository.open(url) as repository:
        for number, document in enumerate(documents):
            started = time.perf_counter()
            job = repository.capture_document(document)
            seconds += time.perf_counter() - started
            if not job.success:
                raise SystemExit(
                    f"capture of generated document {number} failed: {job.errors[:3]}. Fix the "
                    "event generator make_event in bench/epcis_capture.py"
                )
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as connection:
                counts = table_counts(connection)
        finally:
            engine.dispose()
    return seconds, counts


def run_bare(url: str, documents: Sequence[dict[str, Any]]) -> tuple[float, dict[str, int]]:
    """Insert the rows of every document, one transaction per document, and time the inserts."""
    job_ids = [str(uuid.uuid4()) for _ in documents]
    prepared = [
        prepare_document(document, job_id)
        for document, job_id in zip(documents, job_ids, strict=True)
    ]
    engine, _ = create_store_engine(url)
    seconds = 0.0
    try:
        key = 1
        for job_id, items in zip(job_ids, prepared, strict=True):
            started = time.perf_counter()
            with engine.begin() as connection:
                connection.execute(insert(capture_jobs), finished_job_row(job_id, len(items)))
                key = insert_prepared(connection, items, key)
            seconds += time.perf_counter() - started
        with engine.connect() as connection:
            counts = table_counts(connection)
    finally:
        engine.dispose()
    return seconds, counts


def warm_up() -> None:
    """Capture a small document into an in-memory database, so that loading and compiling the
    bundled schemas and contexts stays out of the timed runs."""
    rng = random.Random(0)
    with EventRepository.open("sqlite://") as repository:
        job = repository.capture_document(make_document([make_event(n, rng) for n in range(10)]))
    if not job.success:
        raise SystemExit(f"capture of the warm-up document failed: {job.errors[:3]}")


def measure(kind: str, documents: Sequence[dict[str, Any]], repeat: int) -> list[Round]:
    """Run ``repeat`` rounds of capture and bare insert, each into fresh databases."""
    total = sum(len(document["epcisBody"]["eventList"]) for document in documents)
    warm_up()
    rounds: list[Round] = []
    for number in range(repeat):
        with fresh_database(kind) as url:
            capture_seconds, capture_counts = run_capture(url, documents)
        with fresh_database(kind) as url:
            bare_seconds, bare_counts = run_bare(url, documents)
        if capture_counts != bare_counts:
            raise SystemExit(
                f"the bare insert wrote other rows than capture: {bare_counts} against "
                f"{capture_counts}. Update prepare_document and insert_prepared to the rows "
                "that the repository writes"
            )
        if number == 0:
            print(f"  {kind}: both runs wrote the same rows per table: {capture_counts}")
        result = Round(capture_seconds, bare_seconds, total)
        rounds.append(result)
        print(
            f"  {kind} round {number + 1}: capture {result.capture_rate:,.0f} events/s, "
            f"bare insert {result.bare_rate:,.0f} events/s, ratio {result.ratio:.3f}"
        )
    return rounds


def profile_capture(kind: str, documents: Sequence[dict[str, Any]]) -> None:
    """Capture the documents once more under cProfile and print where the time goes."""
    with fresh_database(kind) as url, EventRepository.open(url) as repository:
        profiler = cProfile.Profile()
        profiler.enable()
        for document in documents:
            repository.capture_document(document)
        profiler.disable()
    output = io.StringIO()
    stats = pstats.Stats(profiler, stream=output)
    stats.sort_stats("cumulative").print_stats(30)
    print(output.getvalue())
    parts: dict[str, Callable[[str, str], bool]] = {
        "validate_document": lambda file, name: name == "validate_document",
        "event_hash": lambda file, name: name == "event_hash",
        "_prepare (eventID, index rows, JSON)": lambda file, name: name == "_prepare",
        "_store_events (SQL)": lambda file, name: name == "_store_events",
    }
    total = max(
        (entry[3] for key, entry in stats.stats.items() if key[2] == "capture_document"),  # type: ignore[attr-defined]
        default=0.0,
    )
    print(f"profile of capture on {kind}, cumulative seconds and share of capture_document:")
    for label, matches in parts.items():
        seconds = sum(
            entry[3]
            for key, entry in stats.stats.items()  # type: ignore[attr-defined]
            if matches(key[0], key[2])
        )
        share = seconds / total * 100 if total else 0.0
        print(f"  {label:40} {seconds:8.2f} s {share:6.1f} %")


def _summary(kind: str, rounds: Sequence[Round]) -> None:
    capture = statistics.median(item.capture_rate for item in rounds)
    bare = statistics.median(item.bare_rate for item in rounds)
    ratio = statistics.median(item.ratio for item in rounds)
    low = min(item.ratio for item in rounds)
    high = max(item.ratio for item in rounds)
    print(
        f"{kind}: capture {capture:,.0f} events/s, bare insert {bare:,.0f} events/s, "
        f"ratio {ratio:.3f} (range {low:.3f} to {high:.3f}, {len(rounds)} rounds, medians)"
    )
    print(
        f"  ratio target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'not met'}; "
        f"aim {AIM_EVENTS_PER_SECOND:,} events/s: "
        f"{'met' if capture >= AIM_EVENTS_PER_SECOND else 'not met'}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="the database kinds to measure (default: both)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"the number of events, in documents of {BATCH:,} (default: {DEFAULT_EVENTS:,})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"rounds per database kind; the summary shows medians (default: {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="capture once more under cProfile and print the top functions and a breakdown",
    )
    arguments = parser.parse_args(argv)
    if arguments.events < 1 or arguments.repeat < 1:
        parser.error("--events and --repeat must be at least 1")

    kinds = ["sqlite", "postgresql"] if arguments.db == "both" else [arguments.db]
    print(
        f"machine: {cpu_model()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}"
    )
    if "postgresql" in kinds:
        print(f"PostgreSQL {postgres_version()}")
    started = time.perf_counter()
    documents = make_documents(arguments.events)
    print(
        f"generated {arguments.events:,} events in {len(documents)} documents "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for kind in kinds:
        rounds = measure(kind, documents, arguments.repeat)
        _summary(kind, rounds)
        if arguments.profile:
            profile_capture(kind, documents)
    return 0


if __name__ == "__main__":
    sys.exit(main())

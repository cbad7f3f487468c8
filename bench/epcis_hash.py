"""Benchmark ``valuetrace.epcis.event_hash`` against the reference Python generator.

The reference is ``epcis-event-hash-generator`` from PyPI, installed by this script into its
own virtual environment ``bench/.venv-reference`` (with ``python -m venv`` and pip), never into
the project's environment. It runs in a separate process of that environment, which serves the
JSON-LD contexts from the copies the package ships and cannot open network connections.

Both sides hash the same parsed documents in the same run: the JSON-LD vector documents of
the reference generator's tests (bundled in ``tests/data/epcis/hash-vectors``), repeated,
and generated documents of the capture benchmark's events. valuetrace calls ``event_hash``
for each event with the document's ``@context``. The reference runs its whole JSON pipeline
on each document: JSON-LD expansion for bare CBV words, conversion and pre-hash strings. The
script prints events/s of both and their ratio, and asserts no absolute time.

It also checks the hashes: on every vector event where the reference returns the published
hash, valuetrace must return the same hash, or the script exits with 1.

    python bench/epcis_hash.py [--events N] [--vector-repeat R] [--repeat K]

This file also holds the reference side (``--reference-worker``), which imports only the
standard library and the reference package, so that the reference's environment runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REFERENCE_VENV = BENCH / ".venv-reference"
REFERENCE_PACKAGE = "epcis-event-hash-generator"
REFERENCE_VERSION = "1.9.3"
VECTORS = BENCH.parent / "tests" / "data" / "epcis" / "hash-vectors"
DEFAULT_EVENTS = 5_000
DEFAULT_VECTOR_REPEAT = 50
DEFAULT_REPEAT = 3
# Events per generated document.
DOCUMENT_EVENTS = 100
TARGET_RATIO = 20.0
# The context files that the reference package ships, by the URL they stand for.
REFERENCE_CONTEXT_FILES = {
    "https://gs1.github.io/EPCIS/epcis-context.jsonld": (
        "14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861.jsonld"
    ),
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld": (
        "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"
    ),
}


# The reference side, run in the reference's environment.


def _block_network() -> None:
    """Make every socket connection and name lookup of this process fail."""

    def reject_connection(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("network access is disabled in the reference hash worker")

    socket.socket.connect = reject_connection  # type: ignore[method-assign]
    socket.socket.connect_ex = reject_connection  # type: ignore[method-assign]
    socket.create_connection = reject_connection
    socket.getaddrinfo = reject_connection


def _offline_loader() -> Any:
    """Return a PyLD document loader that serves only the contexts the package ships."""
    import importlib.resources

    from pyld.jsonld import JsonLdError

    def load(url: str, options: Any = None) -> dict[str, Any]:
        name = REFERENCE_CONTEXT_FILES.get(url)
        if name is None:
            raise JsonLdError(
                f"context {url} is not available offline in the benchmark",
                "jsonld.LoadDocumentError",
                code="loading document failed",
            )
        files = importlib.resources.files("epcis_event_hash_generator")
        document = json.loads((files / name).read_text("utf-8"))
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
        }

    return load


def reference_worker(input_path: Path, output_path: Path) -> None:
    """Hash the documents of ``input_path`` with the reference and write hashes and timings."""
    import logging

    _block_network()
    # The reference logs a warning per ambiguous bare word, on every document.
    logging.disable(logging.WARNING)
    from epcis_event_hash_generator import hash_generator, json_to_py  # type: ignore[import-not-found]
    from pyld import jsonld

    # Importing the package installs a loader that falls back to the web, so replace it.
    jsonld.set_document_loader(_offline_loader())

    job = json.loads(input_path.read_text("utf-8"))
    texts = [json.dumps(document) for document in job["documents"]]
    seconds: list[float] = []
    hashes: list[list[str] | None] = []
    for round_number in range(job["rounds"]):
        # The reference changes the documents it hashes, so every round parses its own copies.
        documents = [json.loads(text) for text in texts]
        round_hashes: list[list[str] | None] = []
        started = time.perf_counter()
        for document in documents:
            try:
                event_list = json_to_py.event_list_from_epcis_document_json(document)
                round_hashes.append(hash_generator.epcis_hashes_from_events(event_list))
            except Exception as error:  # the reference raises on some inputs
                round_hashes.append(None)
                logging.getLogger(__name__).error("reference failed on a document: %s", error)
        seconds.append(time.perf_counter() - started)
        if round_number == 0:
            hashes = round_hashes
    output_path.write_text(json.dumps({"seconds": seconds, "hashes": hashes}), "utf-8")


# The valuetrace side.


def ensure_reference_venv() -> Path:
    """Create ``bench/.venv-reference`` with the reference package unless it is there already."""
    python = REFERENCE_VENV / "bin" / "python"
    check = [str(python), "-c", "import epcis_event_hash_generator"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {REFERENCE_VENV} with {REFERENCE_PACKAGE}=={REFERENCE_VERSION}", flush=True)
    create = [sys.executable, "-m", "venv", "--clear", str(REFERENCE_VENV)]
    if subprocess.run(create).returncode != 0:
        raise SystemExit(f"python -m venv {REFERENCE_VENV} failed; see the output above")
    install = [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        f"{REFERENCE_PACKAGE}=={REFERENCE_VERSION}",
    ]
    result = subprocess.run(install, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"pip install of {REFERENCE_PACKAGE}=={REFERENCE_VERSION} into {REFERENCE_VENV} "
            f"failed:\n{result.stderr}\nCheck the package index, or delete the folder and retry."
        )
    return python


def reference_version(python: Path) -> str:
    """Return the installed version of the reference package."""
    code = f"import importlib.metadata as m; print(m.version({REFERENCE_PACKAGE!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def _ignore_fields(document: dict[str, Any]) -> list[str]:
    """Return the fields a vector document leaves out of the hash (a ``…:ignoreFields`` member)."""
    results = document["epcisBody"].get("queryResults", {})
    for container in (document, results):
        for key, value in container.items():
            if key.endswith(":ignoreFields"):
                return list(value)
    return []


def vector_documents() -> list[tuple[str, dict[str, Any], list[str]]]:
    """Return (file name, document, published hashes) for each JSON-LD vector file."""
    index = json.loads((VECTORS / "hash-vectors-index.json").read_text("utf-8"))
    found: list[tuple[str, dict[str, Any], list[str]]] = []
    for vector_set in index["vector_sets"]:
        for source in vector_set["inputs"]:
            if source.endswith(".jsonld"):
                path = VECTORS / "examples" / Path(source).name
                document = json.loads(path.read_text("utf-8"))
                found.append((path.name, document, list(vector_set["expected_hashes"])))
    return found


def generated_documents(count: int) -> list[dict[str, Any]]:
    """Generate ``count`` events of the capture benchmark in documents of DOCUMENT_EVENTS."""
    import random

    from epcis_capture import make_document, make_event

    rng = random.Random(2)
    events = [make_event(number, rng) for number in range(count)]
    return [
        make_document(events[start : start + DOCUMENT_EVENTS])
        for start in range(0, count, DOCUMENT_EVENTS)
    ]


def valuetrace_hashes(documents: Sequence[dict[str, Any]]) -> tuple[float, list[list[str]]]:
    """Hash every event with ``event_hash`` and return the seconds taken and the hashes."""
    from valuetrace.epcis import canonical_identifier, document_context, document_events, event_hash

    # Every round starts cold, as capture of new events does: the identifier cache would
    # otherwise hold every identifier of the previous round.
    canonical_identifier.cache_clear()
    hashes: list[list[str]] = []
    started = time.perf_counter()
    for document in documents:
        context = document_context(document)
        hashes.append([event_hash(event, context=context) for event in document_events(document)])
    return time.perf_counter() - started, hashes


def run_reference(
    python: Path, documents: Sequence[dict[str, Any]], rounds: int
) -> tuple[list[float], list[list[str] | None]]:
    """Run the reference worker on the documents and return its round times and hashes."""
    with tempfile.TemporaryDirectory(prefix="valuetrace-hash-bench-") as folder:
        input_path = Path(folder) / "input.json"
        output_path = Path(folder) / "output.json"
        input_path.write_text(json.dumps({"documents": documents, "rounds": rounds}), "utf-8")
        command = [
            str(python),
            str(Path(__file__).resolve()),
            "--reference-worker",
            str(input_path),
            str(output_path),
        ]
        # The worker's environment gets no proxy settings, so that nothing points it elsewhere.
        environment = {
            key: value for key, value in os.environ.items() if "proxy" not in key.lower()
        }
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        if result.returncode != 0:
            raise SystemExit(f"the reference worker failed:\n{result.stderr}")
        if result.stderr.strip():
            print(f"reference worker messages:\n{result.stderr.strip()}")
        output = json.loads(output_path.read_text("utf-8"))
    return output["seconds"], output["hashes"]


def check_vectors(python: Path) -> tuple[int, set[str]]:
    """Compare both sides on the published vectors.

    Returns the number of events where valuetrace differs from a reference hash that equals
    the published one, and the names of the files that the reference can hash at all.
    """
    from valuetrace.epcis import document_context, document_events, event_hash

    vectors = vector_documents()
    _, reference = run_reference(python, [document for _, document, _ in vectors], 1)
    usable = 0
    total = 0
    disagreements = 0
    hashable: set[str] = set()
    for (name, document, published), reference_hashes in zip(vectors, reference, strict=True):
        context = document_context(document)
        ignore = _ignore_fields(document)
        events = document_events(document)
        total += len(published)
        if reference_hashes is None or len(reference_hashes) != len(events):
            print(f"  {name}: the reference returns no hash for some events")
            continue
        hashable.add(name)
        for index, expected in enumerate(published):
            if reference_hashes[index] != expected:
                print(f"  {name} event {index}: the reference differs from the published hash")
                continue
            usable += 1
            ours = event_hash(events[index], context=context, ignore_fields=ignore)
            if ours != expected:
                disagreements += 1
                print(f"  {name} event {index}: valuetrace {ours}, reference {expected}")
    print(
        f"vectors: the reference returns the published hash for {usable} of {total} JSON-LD "
        f"vector events; valuetrace returns the same hash on {usable - disagreements} of them"
    )
    return disagreements, hashable


def compare_generated(
    ours: Sequence[Sequence[str]], reference: Sequence[Sequence[str] | None]
) -> str:
    """Count the generated events on which both sides return the same hash."""
    same = 0
    total = 0
    for our_hashes, reference_hashes in zip(ours, reference, strict=True):
        total += len(our_hashes)
        if reference_hashes is not None and len(reference_hashes) == len(our_hashes):
            same += sum(a == b for a, b in zip(our_hashes, reference_hashes, strict=True))
    return f"{same:,} of {total:,}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"generated events in the speed run (default: {DEFAULT_EVENTS:,})",
    )
    parser.add_argument(
        "--vector-repeat",
        type=int,
        default=DEFAULT_VECTOR_REPEAT,
        help=f"copies of the vector documents in the speed run (default: {DEFAULT_VECTOR_REPEAT})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"timed rounds of each side; the summary shows medians (default: {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--reference-worker",
        nargs=2,
        metavar=("INPUT", "OUTPUT"),
        type=Path,
        help=argparse.SUPPRESS,
    )
    arguments = parser.parse_args(argv)
    if arguments.reference_worker:
        reference_worker(*arguments.reference_worker)
        return 0
    if arguments.events < 0 or arguments.vector_repeat < 0 or arguments.repeat < 1:
        parser.error("--events and --vector-repeat must not be negative, --repeat at least 1")

    from epcis_capture import cpu_model

    from valuetrace.epcis import document_events

    python = ensure_reference_venv()
    print(
        f"machine: {cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}; "
        f"reference {REFERENCE_PACKAGE} {reference_version(python)}"
    )
    disagreements, hashable = check_vectors(python)
    if disagreements:
        print("valuetrace and the reference disagree on published vectors")
        return 1

    # Only documents that the reference hashes whole, so that both sides do the same work.
    vector_copies = [
        document for name, document, _ in vector_documents() if name in hashable
    ] * arguments.vector_repeat
    generated = generated_documents(arguments.events)
    documents = vector_copies + generated
    events = sum(len(document_events(document)) for document in documents)
    print(
        f"speed run: {events:,} events in {len(documents):,} documents "
        f"({len(vector_copies):,} vector documents, {arguments.events:,} generated events)"
    )

    ours_seconds: list[float] = []
    ours_hashes: list[list[str]] = []
    for _ in range(arguments.repeat):
        seconds, ours_hashes = valuetrace_hashes(documents)
        ours_seconds.append(seconds)
    reference_seconds, reference_hashes = run_reference(python, documents, arguments.repeat)

    ours_rate = events / statistics.median(ours_seconds)
    reference_rate = events / statistics.median(reference_seconds)
    ratio = ours_rate / reference_rate
    rounds = f"{arguments.repeat} rounds, median"
    print(f"valuetrace event_hash: {ours_rate:,.0f} events/s ({rounds})")
    print(f"reference generator:   {reference_rate:,.0f} events/s ({rounds})")
    print(f"ratio valuetrace / reference: {ratio:.1f}")
    print(f"ratio target >= {TARGET_RATIO:.0f}: {'met' if ratio >= TARGET_RATIO else 'not met'}")
    generated_start = len(vector_copies)
    print(
        "same hash on generated events (information, not a check): "
        + compare_generated(ours_hashes[generated_start:], reference_hashes[generated_start:])
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

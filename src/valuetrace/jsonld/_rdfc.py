"""RDF Dataset Canonicalization (RDFC-1.0) with a time limit, on top of pyoxigraph.

RDFC-1.0 is cheap unless blank nodes look alike: blank nodes whose first-degree hashes are
equal go through the N-degree hashing step, which tries permutations and can take exponential
time (the "poison" graphs of the W3C rdf-canon test suite). pyoxigraph 0.5.13 has no work limit
and its canonicalization cannot be interrupted, so this module decides before canonicalizing:

- When no two blank nodes that share a first-degree hash occur in the same quad, N-degree
  hashing finds every related blank node already named, never recurses and never permutes.
  Such datasets, which include every credential of the demo chain, are canonicalized in this
  process.
- Any other dataset is canonicalized in a child process, which is killed when it runs longer
  than the time limit. The caller then gets a :class:`CanonicalizationError`.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

import pyoxigraph

from valuetrace.errors import ValuetraceError
from valuetrace.jsonld._rdf import Quad, jsonld_to_quads, quads_to_nquads

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "CanonicalizationError",
    "HashAlgorithm",
    "canonicalize_jsonld",
    "canonicalize_nquads",
    "canonicalize_quads",
]

LOGGER = logging.getLogger(__name__)

HashAlgorithm = Literal["sha256", "sha384"]
"""The hash function RDFC-1.0 uses to name blank nodes."""

DEFAULT_TIME_LIMIT: Final = 5.0
"""Seconds that canonicalization of a dataset with look-alike blank nodes may take.

Credentials need milliseconds even there, while the rdf-canon poison graph (a clique of ten
blank nodes) runs for minutes, so the limit is far from both.
"""

_ALGORITHMS: Final = {
    "sha256": pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0,
    "sha384": pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0_SHA_384,
}


class CanonicalizationError(ValuetraceError):
    """RDF that could not be canonicalized: invalid N-Quads, or a dataset over the time limit.

    ``code`` is ``rdfc.time_limit`` when the time limit stopped the work, and ``rdfc.failed``
    otherwise.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def canonicalize_jsonld(
    document: Mapping[str, Any],
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> str:
    """Convert a JSON-LD document to RDF offline and return its RDFC-1.0 canonical N-Quads.

    Contexts come only from the bundled and registered documents. Raises
    :class:`~valuetrace.jsonld.JsonLdError` when the document cannot be converted without
    dropping data, and :class:`CanonicalizationError` when canonicalization fails or exceeds
    ``time_limit`` seconds.
    """
    return canonicalize_quads(
        jsonld_to_quads(document), hash_algorithm=hash_algorithm, time_limit=time_limit
    )


def canonicalize_nquads(
    nquads: str,
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> str:
    """Return the RDFC-1.0 canonical form of an N-Quads document.

    Raises :class:`CanonicalizationError` for text that is not N-Quads, and when
    canonicalization fails or exceeds ``time_limit`` seconds.
    """
    try:
        parsed = list(pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise CanonicalizationError(
            "rdfc.failed", f"the input is not valid N-Quads: {exc}. Fix the line it names."
        ) from exc
    quads = [
        (
            str(quad.subject),
            str(quad.predicate),
            str(quad.object),
            "" if isinstance(quad.graph_name, pyoxigraph.DefaultGraph) else str(quad.graph_name),
        )
        for quad in parsed
    ]
    return canonicalize_quads(quads, hash_algorithm=hash_algorithm, time_limit=time_limit)


def canonicalize_quads(
    quads: Iterable[Quad],
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> str:
    """Return the RDFC-1.0 canonical N-Quads of quads in the form of :data:`~._rdf.Quad`.

    The result has one line per distinct quad, ``\\n``-terminated and sorted by code point.
    Raises :class:`CanonicalizationError` when pyoxigraph rejects a term, and when a dataset
    with look-alike blank nodes takes longer than ``time_limit`` seconds.
    """
    algorithm = _ALGORITHMS.get(hash_algorithm)
    if algorithm is None:
        raise ValueError(f"hash_algorithm must be 'sha256' or 'sha384', not {hash_algorithm!r}")
    if not time_limit > 0:
        raise ValueError(f"time_limit must be a positive number of seconds, not {time_limit!r}")
    distinct = list(dict.fromkeys(quads))
    nquads = quads_to_nquads(distinct)
    if _is_simple(distinct):
        return _canonicalize_text(nquads, hash_algorithm)
    LOGGER.debug(
        "canonicalizing %d quads with look-alike blank nodes in a child process", len(distinct)
    )
    return _canonicalize_in_child(nquads, hash_algorithm, time_limit)


def _is_simple(quads: list[Quad]) -> bool:
    """Return whether N-degree hashing will not recurse: see the module documentation.

    Two blank nodes have equal first-degree hashes exactly when the quads that mention them
    are equal after replacing the node itself by ``_:a`` and every other blank node by
    ``_:z``. That is what the signatures compare, without hashing.
    """
    mentions: dict[str, list[tuple[str, ...]]] = {}
    linking: list[Quad] = []
    for quad in quads:
        # A predicate is always an IRI, so only the other three terms can be blank nodes.
        subject, _, obj, graph = quad
        blank_nodes = {term for term in (subject, obj, graph) if term.startswith("_:")}
        if not blank_nodes:
            continue
        if len(blank_nodes) > 1:
            linking.append(quad)
        for blank_node in blank_nodes:
            mentions.setdefault(blank_node, []).append(_masked(quad, blank_node))
    if not mentions:
        return True

    signatures = {node: tuple(sorted(found)) for node, found in mentions.items()}
    counts = Counter(signatures.values())
    look_alike = {node for node, signature in signatures.items() if counts[signature] > 1}
    if not look_alike:
        return True
    return all(len({term for term in terms if term in look_alike}) <= 1 for terms in linking)


def _masked(quad: Quad, blank_node: str) -> tuple[str, ...]:
    """Return ``quad`` with ``blank_node`` written as ``_:a`` and other blank nodes as ``_:z``."""
    masked = []
    for term in quad:
        if not term.startswith("_:"):
            masked.append(term)
        elif term == blank_node:
            masked.append("_:a")
        else:
            masked.append("_:z")
    return tuple(masked)


def _canonicalize_text(nquads: str, hash_algorithm: str) -> str:
    try:
        dataset = pyoxigraph.Dataset(pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise CanonicalizationError(
            "rdfc.failed",
            f"the RDF contains a term that is not valid N-Quads: {exc}. Check the IRIs and "
            "language tags of the document.",
        ) from exc
    dataset.canonicalize(_ALGORITHMS[hash_algorithm])
    serialized = pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS)
    assert serialized is not None
    # Split on "\n" only: str.splitlines would also split inside literals at U+0085, U+2028 …
    lines = serialized.decode("utf-8").split("\n")
    lines.pop()
    if not lines:
        return ""
    lines.sort()
    lines.append("")
    return "\n".join(lines)


def _canonicalize_in_child(nquads: str, hash_algorithm: str, time_limit: float) -> str:
    """Canonicalize in a new Python process, and kill it at the time limit.

    A plain subprocess, not multiprocessing: it does not re-import the caller's main module,
    and it is safe in programs that run threads. Starting the child and importing pyoxigraph
    took 75 to 200 ms per call in the rdf-canon tests on a 2-core AMD EPYC, and that time
    counts against the time limit.
    """
    if not sys.executable:
        raise CanonicalizationError(
            "rdfc.failed",
            "canonicalization of this dataset needs a child Python process, but the path of "
            "the Python interpreter (sys.executable) is unknown in this program",
        )
    package_root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [package_root, *filter(None, [environment.get("PYTHONPATH")])]
    )
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "valuetrace.jsonld._rdfc", hash_algorithm],
            input=nquads.encode("utf-8"),
            capture_output=True,
            timeout=time_limit,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        LOGGER.warning("RDFC-1.0 canonicalization stopped at the time limit of %g s", time_limit)
        raise CanonicalizationError(
            "rdfc.time_limit",
            f"RDFC-1.0 canonicalization did not finish within the time limit of {time_limit:g} "
            "s: the RDF has many blank nodes that look alike, and canonicalizing them takes "
            "exponential time. Such a document cannot be signed or verified. Give the nodes "
            "identifiers or distinct properties.",
        ) from exc
    except OSError as exc:
        raise CanonicalizationError(
            "rdfc.failed",
            f"canonicalization of this dataset needs a child process ({sys.executable}), which "
            f"could not be started: {exc}",
        ) from exc
    if completed.returncode != 0:
        problem = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CanonicalizationError(
            "rdfc.failed",
            f"the canonicalization child process failed with exit code {completed.returncode}: "
            f"{problem[-1] if problem else 'no message'}",
        )
    return completed.stdout.decode("utf-8")


def _main() -> None:
    """Canonicalize N-Quads from standard input: the child process of the slow path."""
    nquads = sys.stdin.buffer.read().decode("utf-8")
    try:
        result = _canonicalize_text(nquads, sys.argv[1])
    except CanonicalizationError as exc:
        sys.exit(str(exc))
    sys.stdout.buffer.write(result.encode("utf-8"))


if __name__ == "__main__":
    _main()

"""Reading EPCIS 2.0 JSON documents: size, encoding, syntax and nesting limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from valuetrace.errors import InputError

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "EPCISDocumentError",
    "EPCISProblem",
    "document_context",
    "document_events",
    "load_document",
]

DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64

ProblemKind = Literal["invalid", "too_large", "not_utf8", "not_json", "too_deep"]


@dataclass(frozen=True)
class EPCISProblem:
    """One problem in an EPCIS document or event.

    ``path`` is a JSON path such as ``$.epcisBody.eventList[3].parentID``; ``rule`` is a stable
    identifier (``schema``, ``cbv-term``, ``epc-or-quantity``, …) that programs can match on.
    """

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}  {self.rule}  {self.message}"


class EPCISDocumentError(InputError):
    """An EPCIS document that cannot be read or is invalid.

    ``kind`` is one of ``invalid``, ``too_large``, ``not_utf8``, ``not_json`` and ``too_deep``;
    ``problems`` lists every problem found (one for the kinds other than ``invalid``).
    """

    def __init__(
        self, message: str, *, kind: ProblemKind, problems: list[EPCISProblem] | None = None
    ) -> None:
        super().__init__(message)
        self.kind: ProblemKind = kind
        self.problems: list[EPCISProblem] = (
            list(problems) if problems else [EPCISProblem("$", kind.replace("_", "-"), message)]
        )


def _max_depth_exceeded(value: Any, max_depth: int) -> bool:
    """Check the nesting depth of parsed JSON with an explicit stack (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > max_depth:
            return True
        if isinstance(current, dict):
            stack.extend((child, depth + 1) for child in current.values())
        elif isinstance(current, list):
            stack.extend((child, depth + 1) for child in current)
    return False


def _too_deep(max_depth: int) -> EPCISDocumentError:
    return EPCISDocumentError(
        f"the document nests objects and arrays more than {max_depth} levels deep: "
        "flatten it; EPCIS documents need far fewer levels",
        kind="too_deep",
    )


def load_document(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """Parse an EPCIS JSON document from bytes, checking size, encoding, syntax and nesting.

    Raises EPCISDocumentError with ``kind`` ``too_large`` (checked before parsing),
    ``not_utf8``, ``not_json``, ``too_deep`` or ``invalid`` (the top level is not an object).
    The document is not validated against the EPCIS schema: see :func:`validate_document`.
    """
    if len(data) > max_bytes:
        raise EPCISDocumentError(
            f"the document is {len(data):,} bytes, more than the limit of {max_bytes:,} bytes: "
            "split the events over several documents",
            kind="too_large",
        )

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EPCISDocumentError(
            f"the document is not valid UTF-8: byte offset {error.start} "
            f"(0x{data[error.start]:02x}) cannot be decoded; save it as UTF-8",
            kind="not_utf8",
        ) from None

    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise EPCISDocumentError(
            f"the document is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}",
            kind="not_json",
        ) from None
    except RecursionError:
        # The C decoder gives up on nesting near the interpreter's recursion limit, which is
        # far beyond any sensible max_depth, so this is the same error as the walk below.
        raise _too_deep(max_depth) from None

    if _max_depth_exceeded(document, max_depth):
        raise _too_deep(max_depth)
    if not isinstance(document, dict):
        raise EPCISDocumentError(
            f"the document is a JSON {type(document).__name__}, not an object: an EPCIS "
            "document is a JSON object with @context, type and epcisBody",
            kind="invalid",
        )
    return document


def document_events(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the events of an EPCISDocument or EPCISQueryDocument, in document order.

    The list contains the document's own event objects, not copies. A missing or malformed
    event list gives an empty list.
    """
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        return []
    events = body.get("eventList")
    if events is None:
        results = body.get("queryResults")
        results_body = results.get("resultsBody") if isinstance(results, Mapping) else None
        events = results_body.get("eventList") if isinstance(results_body, Mapping) else None
    if not isinstance(events, list):
        return []
    return [event for event in events if isinstance(event, dict)]


def document_context(document: Mapping[str, Any]) -> Any:
    """Return the ``@context`` that the document's events inherit (None when absent)."""
    return document.get("@context")

"""Reading JSON request bodies with a media type check and a size limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from valuetrace.api._problems import (
    CAPTURE_LIMIT_EXCEEDED,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    ProblemError,
    problems_to_json,
)
from valuetrace.epcis import EPCISDocumentError, load_document

__all__ = ["JSON_MEDIA_TYPES", "read_json_body"]

JSON_MEDIA_TYPES = frozenset({"application/json", "application/ld+json"})


def _check_media_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in JSON_MEDIA_TYPES:
        received = media_type or "none"
        raise ProblemError(
            415,
            UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            f"the request body has media type {received}; send JSON with Content-Type "
            "application/json or application/ld+json",
        )


def _too_large(max_bytes: int, received: str) -> ProblemError:
    return ProblemError(
        413,
        CAPTURE_LIMIT_EXCEEDED,
        "Payload too large",
        f"the request body is {received}, more than the limit of {max_bytes} bytes; "
        "split the events into several requests",
        headers={"GS1-EPCIS-Capture-File-Size-Limit": str(max_bytes)},
    )


async def read_limited(
    request: Request,
    max_bytes: int,
    too_large: Callable[[int, str], ProblemError] = _too_large,
) -> bytes:
    """Read the request body, raising ``too_large(max_bytes, size)`` once it exceeds the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        # Reject before reading anything: the client announced more than the limit.
        raise too_large(max_bytes, f"{int(declared)} bytes")

    chunks: list[bytes] = []
    received = 0
    # Count while streaming, because Content-Length may be missing (chunked) or wrong.
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise too_large(max_bytes, f"over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: Request, max_bytes: int) -> dict[str, Any]:
    """Read the request body as one JSON object of at most ``max_bytes`` bytes.

    Raises ProblemError with status 415 for a media type other than JSON or JSON-LD, 413 when
    the body is too large and 400 when it is not UTF-8, not JSON, nested too deep or no object.
    """
    _check_media_type(request)
    data = await read_limited(request, max_bytes)
    try:
        # Parsing a large body takes a while, so it runs off the event loop.
        return await run_in_threadpool(load_document, data, max_bytes=max_bytes)
    except EPCISDocumentError as error:
        if error.kind == "too_large":
            raise _too_large(max_bytes, f"{len(data)} bytes") from error
        raise ProblemError(
            400,
            VALIDATION,
            "Unreadable request body",
            str(error),
            extensions={"problems": problems_to_json(error.problems)},
        ) from error

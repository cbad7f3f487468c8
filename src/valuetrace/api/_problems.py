"""RFC 9457 problem responses with the exception types of the EPCIS 2.0 REST binding."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from valuetrace.epcis import DuplicateEventError, EPCISProblem, QueryParameterError

__all__ = [
    "CAPTURE_LIMIT_EXCEEDED",
    "IMPLEMENTATION",
    "NO_SUCH_NAME",
    "PROBLEM_MEDIA_TYPE",
    "QUERY_PARAMETER",
    "RESOURCE_ALREADY_EXISTS",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION",
    "ProblemError",
    "install_problem_handlers",
    "problem_response",
    "problems_to_json",
]

LOGGER = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Problem type URIs as the EPCIS 2.0 OpenAPI document spells them.
VALIDATION = "epcisException:ValidationException"
QUERY_PARAMETER = "epcisException:QueryParameterException"
NO_SUCH_NAME = "epcisException:NoSuchNameException"
RESOURCE_ALREADY_EXISTS = "epcisException:ResourceAlreadyExistsException"
CAPTURE_LIMIT_EXCEEDED = "epcisException:CaptureLimitExceededException"
UNSUPPORTED_MEDIA_TYPE = "epcisException:UnsupportedMediaTypeException"
IMPLEMENTATION = "epcisException:ImplementationException"

# RFC 9457 section 4.2.1: "about:blank" means the problem has no semantics beyond the status.
_GENERIC = "about:blank"

_TYPE_FOR_STATUS = {
    400: VALIDATION,
    404: NO_SUCH_NAME,
    409: RESOURCE_ALREADY_EXISTS,
    413: CAPTURE_LIMIT_EXCEEDED,
    415: UNSUPPORTED_MEDIA_TYPE,
    500: IMPLEMENTATION,
}


class ProblemError(Exception):
    """An HTTP error that the application turns into a problem response.

    ``extensions`` are extra members of the problem object, such as ``problems`` or
    ``parameter``; ``headers`` are added to the response.
    """

    def __init__(
        self,
        status: int,
        problem_type: str,
        title: str,
        detail: str,
        *,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.problem_type = problem_type
        self.title = title
        self.detail = detail
        self.extensions = dict(extensions or {})
        self.headers = dict(headers or {})


def problems_to_json(problems: Iterable[EPCISProblem]) -> list[dict[str, str]]:
    """Convert EPCIS problems to the JSON members ``path``, ``rule`` and ``message``."""
    return [
        {"path": problem.path, "rule": problem.rule, "message": problem.message}
        for problem in problems
    ]


def problem_response(
    request: Request,
    status: int,
    problem_type: str,
    title: str,
    detail: str,
    *,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Build an ``application/problem+json`` response to ``request``."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extensions or {})
    # The request log line already records the status at INFO, so the detail goes to DEBUG.
    LOGGER.debug("%s %s: %d %s: %s", request.method, request.url.path, status, problem_type, detail)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request,
        exc.status,
        exc.problem_type,
        exc.title,
        exc.detail,
        extensions=exc.extensions,
        headers=exc.headers,
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404:
        detail = f"no resource at {request.url.path}; check the path and its URL encoding"
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    return problem_response(
        request,
        status,
        _TYPE_FOR_STATUS.get(status, _GENERIC),
        _status_title(status),
        detail,
        headers=exc.headers,
    )


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    messages = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()))
        messages.append(f"{location}: {error.get('msg', 'invalid value')}")
    return problem_response(
        request,
        400,
        QUERY_PARAMETER,
        "Invalid request parameter",
        "; ".join(messages) or "a request parameter is invalid",
    )


async def _on_query_parameter(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueryParameterError)
    return problem_response(
        request,
        400,
        QUERY_PARAMETER,
        "Invalid query parameter",
        str(exc),
        extensions={"parameter": exc.parameter, "value": exc.value},
    )


async def _on_duplicate_event(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DuplicateEventError)
    return problem_response(
        request,
        409,
        RESOURCE_ALREADY_EXISTS,
        "Event already exists",
        f"an event with eventID {exc.event_id!r} is stored already; events cannot be replaced",
        extensions={"eventID": exc.event_id},
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    LOGGER.exception("%s %s failed", request.method, request.url.path)
    return problem_response(
        request,
        500,
        IMPLEMENTATION,
        "Internal server error",
        "the server failed to process the request; the server log has the details",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error response of ``app`` an RFC 9457 problem."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(QueryParameterError, _on_query_parameter)
    app.add_exception_handler(DuplicateEventError, _on_duplicate_event)
    app.add_exception_handler(Exception, _on_unexpected)

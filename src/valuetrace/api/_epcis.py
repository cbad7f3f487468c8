"""EPCIS 2.0 REST endpoints: capture, events, event types, EPCs and trace."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from valuetrace.api._body import read_json_body
from valuetrace.api._problems import (
    NO_SUCH_NAME,
    QUERY_PARAMETER,
    RESOURCE_ALREADY_EXISTS,
    VALIDATION,
    ProblemError,
    problems_to_json,
)
from valuetrace.epcis import (
    DUPLICATE_EVENT_RULE,
    CaptureJob,
    EPCISDocumentError,
    EPCISProblem,
    EventRepository,
    QueryPage,
    TraceResult,
)
from valuetrace.errors import InputError

__all__ = [
    "DEFAULT_PER_PAGE",
    "EPCIS_CONTEXT",
    "MAX_PER_PAGE",
    "MAX_TRACE_DEPTH",
    "STANDARD_EVENT_TYPES",
    "router",
]

LOGGER = logging.getLogger(__name__)

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
STANDARD_EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
DEFAULT_PER_PAGE = 30
# Larger perPage values are lowered to this; the binding lets a server return fewer events.
MAX_PER_PAGE = 1000
MAX_TRACE_DEPTH = 1000
DEFAULT_TRACE_DEPTH = 50

router = APIRouter()


# -- helpers ---------------------------------------------------------------------------------


def _repository(request: Request) -> EventRepository:
    repository: EventRepository = request.app.state.repository
    return repository


def _max_document_bytes(request: Request) -> int:
    limit: int = request.app.state.max_document_bytes
    return limit


def _validation_problem(
    subject: str, problems: list[EPCISProblem], *, capture_id: str | None = None
) -> ProblemError:
    extensions: dict[str, Any] = {"problems": problems_to_json(problems)}
    if capture_id is not None:
        extensions["captureID"] = capture_id
    if problems:
        summary = f"{len(problems)} problem(s), the first at {problems[0].path}: "
        summary += problems[0].message
    else:
        summary = "problems"
    return ProblemError(
        400,
        VALIDATION,
        f"Invalid EPCIS {subject}",
        f"the {subject} was rejected with {summary}. Nothing was captured: fix every listed "
        "problem and send it again",
        extensions=extensions,
    )


def _parameter_problem(parameter: str, value: str, detail: str) -> ProblemError:
    return ProblemError(
        400,
        QUERY_PARAMETER,
        "Invalid query parameter",
        detail,
        extensions={"parameter": parameter, "value": value},
    )


def _single_value(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise _parameter_problem(
            name, values[1], f"{name} is given {len(values)} times; give it once"
        )
    return values[0]


def _positive_int(request: Request, name: str, default: int, maximum: int | None) -> int:
    raw = _single_value(request, name)
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if number < 1:
        raise _parameter_problem(name, raw, f"{name} must be a positive integer, not {raw!r}")
    if maximum is not None and number > maximum:
        raise _parameter_problem(name, raw, f"{name} must be at most {maximum}, not {number}")
    return number


def _reject_unknown(request: Request, allowed: frozenset[str]) -> None:
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            expected = ", ".join(sorted(allowed)) or "none"
            raise _parameter_problem(
                name, value, f"unknown query parameter {name}; this resource accepts: {expected}"
            )


def _raw_path(request: Request) -> str:
    """Return the request path as sent, still percent-encoded."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1").split("?", 1)[0]
    return quote(request.url.path)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _event_location(event_id: str) -> str:
    return "/events/" + quote(event_id, safe=":")


def _query_document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _timestamp(datetime.now(UTC)),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
    }


def _job_json(job: CaptureJob) -> dict[str, Any]:
    body: dict[str, Any] = {
        "captureID": job.id,
        "createdAt": _timestamp(job.created_at),
        "running": job.running,
        "success": job.success,
        "captureErrorBehaviour": "rollback",
        "captured": job.captured,
        "errors": [
            {
                "type": VALIDATION,
                "title": problem.rule,
                "detail": problem.message,
                "path": problem.path,
                "rule": problem.rule,
            }
            for problem in job.errors
        ],
    }
    if job.finished_at is not None:
        body["finishedAt"] = _timestamp(job.finished_at)
    return body


def _trace_json(result: TraceResult) -> dict[str, Any]:
    return {
        "root": result.root,
        "direction": result.direction,
        "truncated": result.truncated,
        "identifiers": result.identifiers,
        "edges": [
            {"from": source, "to": target, "eventID": event_id}
            for source, target, event_id in result.edges
        ],
        "events": result.events,
    }


# -- queries ---------------------------------------------------------------------------------

_PAGING_PARAMETERS = ("perPage", "nextPageToken")


def _query_parameters(request: Request, fixed: dict[str, str]) -> dict[str, list[str]]:
    """Group the query string into EPCIS query parameters, without the paging ones.

    ``fixed`` contains parameters that the resource path sets, so the query string may not.
    """
    parameters: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name in _PAGING_PARAMETERS:
            continue
        if name in fixed:
            raise _parameter_problem(
                name, value, f"{name} is set by the resource path here; leave it out of the query"
            )
        parameters.setdefault(name, []).append(value)
    for name, value in fixed.items():
        parameters[name] = [value]
    return parameters


def _next_link(request: Request, per_page: int, token: str) -> str:
    items = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name not in _PAGING_PARAMETERS
    ]
    items.extend([("perPage", str(per_page)), ("nextPageToken", token)])
    return f'<{_raw_path(request)}?{urlencode(items)}>; rel="next"'


def _run_query(request: Request, fixed: dict[str, str]) -> JSONResponse:
    parameters = _query_parameters(request, fixed)
    per_page = min(_positive_int(request, "perPage", DEFAULT_PER_PAGE, None), MAX_PER_PAGE)
    token = _single_value(request, "nextPageToken")
    page: QueryPage = _repository(request).query(parameters, per_page=per_page, page_token=token)
    headers: dict[str, str] = {}
    if page.next_page_token is not None:
        headers["Link"] = _next_link(request, per_page, page.next_page_token)
    return JSONResponse(_query_document(page.events), headers=headers)


# -- capture ---------------------------------------------------------------------------------


@router.post("/capture", status_code=202)
async def capture(request: Request) -> JSONResponse:
    """Capture an EPCISDocument or EPCISQueryDocument: all its events or none.

    Capture runs before the response is sent, so a rejected document gets 400 with every
    problem right away. Its failed job is recorded too, under the ``captureID`` of the problem.
    """
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").strip()
    if behaviour != "rollback":
        raise ProblemError(
            400,
            VALIDATION,
            "Unsupported capture error behaviour",
            f"GS1-Capture-Error-Behaviour {behaviour!r} is not supported; this repository "
            "captures all events of a document or none, so send 'rollback' or leave it out",
        )
    document = await read_json_body(request, _max_document_bytes(request))
    job = await run_in_threadpool(_repository(request).capture_document, document)
    if not job.success:
        if job.errors and all(error.rule == DUPLICATE_EVENT_RULE for error in job.errors):
            raise ProblemError(
                409,
                RESOURCE_ALREADY_EXISTS,
                "Events already captured",
                f"{len(job.errors)} event(s) of the document are stored already, the first at "
                f"{job.errors[0].path}, so nothing was captured: leave them out and send the "
                "document again",
                extensions={"problems": problems_to_json(job.errors), "captureID": job.id},
            )
        raise _validation_problem("document", job.errors, capture_id=job.id)

    return JSONResponse(
        _job_json(job), status_code=202, headers={"Location": f"/capture/{quote(job.id)}"}
    )


@router.get("/capture")
def list_capture_jobs(request: Request) -> JSONResponse:
    """List the capture jobs, newest first."""
    _reject_unknown(request, frozenset(_PAGING_PARAMETERS))
    # All jobs come on one page (the newest 1,000), and perPage and nextPageToken are accepted
    # but unused.
    jobs: list[CaptureJob] = _repository(request).list_capture_jobs()
    return JSONResponse([_job_json(job) for job in jobs])


@router.get("/capture/{capture_id}")
def get_capture_job(capture_id: str, request: Request) -> JSONResponse:
    """Return one capture job."""
    _reject_unknown(request, frozenset())
    job = _repository(request).get_capture_job(capture_id)
    if job is None:
        raise ProblemError(
            404,
            NO_SUCH_NAME,
            "Capture job not found",
            f"no capture job with ID {capture_id!r}; GET /capture lists the known jobs",
        )
    return JSONResponse(_job_json(job))


# -- events ----------------------------------------------------------------------------------


@router.post("/events", status_code=201)
async def capture_event(request: Request) -> JSONResponse:
    """Capture one event. An event without its own ``@context`` gets the EPCIS 2.0 context."""
    event = await read_json_body(request, _max_document_bytes(request))
    context = event.get("@context", [EPCIS_CONTEXT])
    repository = _repository(request)
    try:
        event_id = await run_in_threadpool(repository.capture_event, event, context=context)
    except EPCISDocumentError as error:
        raise _validation_problem("event", error.problems) from error

    stored = await run_in_threadpool(repository.get_event, event_id)
    LOGGER.info("captured event %s", event_id)
    return JSONResponse(
        stored if stored is not None else event,
        status_code=201,
        headers={"Location": _event_location(event_id)},
    )


@router.get("/events")
def query_events(request: Request) -> JSONResponse:
    """Run a SimpleEventQuery given as query string parameters."""
    return _run_query(request, {})


@router.get("/events/{event_id:path}")
def get_event(event_id: str, request: Request) -> JSONResponse:
    """Return one event, in an EPCISQueryDocument as the REST binding specifies."""
    _reject_unknown(request, frozenset())
    event = _repository(request).get_event(event_id)
    if event is None:
        raise ProblemError(
            404,
            NO_SUCH_NAME,
            "Event not found",
            f"no event with eventID {event_id!r}; URL-encode the eventID in the path",
        )
    return JSONResponse(_query_document([event]))


# -- event types and EPCs --------------------------------------------------------------------


def _known_event_types(request: Request) -> list[str]:
    stored = _repository(request).event_types()
    extra = sorted(set(stored) - set(STANDARD_EVENT_TYPES))
    return [*STANDARD_EVENT_TYPES, *extra]


@router.get("/eventTypes")
def list_event_types(request: Request) -> JSONResponse:
    """List the five standard event types and any other type stored in the repository."""
    _reject_unknown(request, frozenset(_PAGING_PARAMETERS))
    return JSONResponse(
        {"@context": EPCIS_CONTEXT, "type": "Collection", "member": _known_event_types(request)}
    )


@router.get("/eventTypes/{event_type}/events")
def query_events_of_type(event_type: str, request: Request) -> JSONResponse:
    """Run a SimpleEventQuery limited to one event type."""
    known = _known_event_types(request)
    if event_type not in known:
        raise ProblemError(
            404,
            NO_SUCH_NAME,
            "Event type not found",
            f"no event type {event_type!r} in this repository; known types: {', '.join(known)}",
        )
    return _run_query(request, {"eventType": event_type})


@router.get("/epcs/{epc:path}/events")
def query_events_of_epc(epc: str, request: Request) -> JSONResponse:
    """Run a SimpleEventQuery for events that name an EPC (URN or GS1 Digital Link)."""
    # NOTE: this matches instance-level EPCs (MATCH_anyEPC); a class such as an LGTIN needs
    # GET /events?MATCH_anyEPCClass=... instead.
    return _run_query(request, {"MATCH_anyEPC": epc})


# -- trace -----------------------------------------------------------------------------------


def _trace(request: Request, direction: Literal["upstream", "downstream"]) -> JSONResponse:
    _reject_unknown(request, frozenset({"epc", "maxDepth"}))
    epc = _single_value(request, "epc")
    if epc is None or not epc.strip():
        raise _parameter_problem(
            "epc", epc or "", "the epc query parameter is missing; give an EPC URN or Digital Link"
        )
    max_depth = _positive_int(request, "maxDepth", DEFAULT_TRACE_DEPTH, MAX_TRACE_DEPTH)
    try:
        result = _repository(request).trace(epc, direction=direction, max_depth=max_depth)
    except (ValueError, InputError) as error:
        detail = f"the epc {epc!r} is not a valid identifier: {error}"
        raise _parameter_problem("epc", epc, detail) from error

    return JSONResponse(_trace_json(result))


@router.get("/trace/upstream")
def trace_upstream(request: Request) -> JSONResponse:
    """Follow the events that produced or contained an EPC, back to its sources."""
    return _trace(request, "upstream")


@router.get("/trace/downstream")
def trace_downstream(request: Request) -> JSONResponse:
    """Follow the events that consumed or contained an EPC, on to what it became."""
    return _trace(request, "downstream")

"""The EPCIS event repository: all-or-nothing capture, the standard queries and trace."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from valuetrace.epcis._cbv import canonical_cbv
from valuetrace.epcis._document import (
    EPCISDocumentError,
    EPCISProblem,
    document_context,
    document_events,
)
from valuetrace.epcis._hash import event_hash
from valuetrace.epcis._identifiers import canonical_identifier
from valuetrace.epcis._jobs import CaptureJob, job_from_row, problems_to_json
from valuetrace.epcis._query import (
    QueryPage,
    QueryParameterError,
    build_conditions,
    class_of,
    decode_page_token,
    encode_page_token,
)
from valuetrace.epcis._tables import (
    capture_jobs,
    event_epcs,
    event_parties,
    event_transactions,
    events,
)
from valuetrace.epcis._trace import TraceResult, trace_graph
from valuetrace.epcis._validate import validate_document, validate_event
from valuetrace.errors import StoreError, ValuetraceError
from valuetrace.store._errors import describe_database_error
from valuetrace.store._store import create_store_engine

__all__ = ["DuplicateEventError", "EventRepository"]

LOGGER = logging.getLogger(__name__)

MAX_PER_PAGE = 10000
# Rows per INSERT batch, so that one statement stays well below PostgreSQL's 65,535 bound
# parameters.
_BATCH = 1000

# Identifier lists of an event and the role their entries get in the index.
_EPC_LISTS = {
    "epcList": "epc",
    "childEPCs": "child",
    "inputEPCList": "input",
    "outputEPCList": "output",
}
_QUANTITY_LISTS = {
    "quantityList": "epcClass",
    "childQuantityList": "childEPCClass",
    "inputQuantityList": "inputEPCClass",
    "outputQuantityList": "outputEPCClass",
}


# The rule of the problem that rejects a document because one of its events is stored already.
DUPLICATE_EVENT_RULE = "duplicate-event-id"


class DuplicateEventError(ValuetraceError):
    """An event whose eventID the repository has stored already."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(
            f"event {event_id} is already stored: the repository keeps each eventID once, "
            "so send a corrected event with a new eventID and an errorDeclaration instead"
        )


@dataclass
class _PreparedEvent:
    """One event ready to insert: its row and the rows of its index tables."""

    event_id: str
    row: dict[str, Any]
    path: str = "$"  # where the event sits in its document, for problems
    epcs: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _now() -> datetime:
    """Return the current UTC time at millisecond precision, as recordTime has it."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_time(moment: datetime) -> str:
    """Format a datetime as an EPCIS timestamp in UTC with milliseconds."""
    return _utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # The schema requires an offset, so a timestamp without one was written in UTC.
    return _utc(moment)


def _cbv(vocabulary: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return canonical_cbv(vocabulary, value)
    except ValueError:
        # Validation accepts some values that are no CBV term, and those are indexed as sent.
        return value


def _identifier(value: Any) -> str | None:
    return canonical_identifier(value) if isinstance(value, str) else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _quantity(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _index_epcs(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    parent = _identifier(event.get("parentID"))
    if parent is not None:
        rows.append({"role": "parent", "identifier": parent, "class_identifier": class_of(parent)})
    for key, role in _EPC_LISTS.items():
        for value in event.get(key) or []:
            canonical = _identifier(value)
            if canonical is not None:
                rows.append(
                    {"role": role, "identifier": canonical, "class_identifier": class_of(canonical)}
                )
    for key, role in _QUANTITY_LISTS.items():
        for element in event.get(key) or []:
            if not isinstance(element, Mapping):
                continue
            canonical = _identifier(element.get("epcClass"))
            if canonical is None:
                continue
            rows.append(
                {
                    "role": role,
                    "identifier": canonical,
                    "class_identifier": class_of(canonical),
                    "quantity": _quantity(element.get("quantity")),
                    "uom": element.get("uom") if isinstance(element.get("uom"), str) else None,
                }
            )
    for row in rows:
        row.setdefault("quantity", None)
        row.setdefault("uom", None)
    return rows


def _index_parties(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for side, key in (("source", "sourceList"), ("destination", "destinationList")):
        for element in event.get(key) or []:
            if not isinstance(element, Mapping):
                continue
            party_type = _cbv("sourceDestType", element.get("type"))
            party_id = _identifier(element.get(side))
            if party_type is not None and party_id is not None:
                rows.append({"side": side, "party_type": party_type, "party_id": party_id})
    return rows


def _index_transactions(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for element in event.get("bizTransactionList") or []:
        if not isinstance(element, Mapping):
            continue
        transaction_id = _identifier(element.get("bizTransaction"))
        if transaction_id is None:
            continue
        transaction_type = _cbv("bizTransactionType", element.get("type")) or ""
        rows.append({"transaction_type": transaction_type, "transaction_id": transaction_id})
    return rows


def _prepare(
    event: Mapping[str, Any], context: Any, record_time: datetime, job_id: str | None
) -> _PreparedEvent:
    """Compute the eventID and the index rows of one valid event."""
    given_id = event.get("eventID")
    event_id = given_id if isinstance(given_id, str) else event_hash(event, context=context)
    error = event.get("errorDeclaration")
    error = error if isinstance(error, Mapping) else {}
    event_time = _parse_time(event.get("eventTime"))
    if event_time is None:  # pragma: no cover - validation requires eventTime
        raise ValueError(f"event {event_id} has no valid eventTime")
    read_point = event.get("readPoint")
    biz_location = event.get("bizLocation")
    row = {
        "event_id": event_id,
        "event_type": str(event.get("type")),
        "event_time": event_time,
        "record_time": record_time,
        "action": event.get("action") if isinstance(event.get("action"), str) else None,
        "biz_step": _cbv("bizStep", event.get("bizStep")),
        "disposition": _cbv("disposition", event.get("disposition")),
        "read_point": _identifier(read_point.get("id"))
        if isinstance(read_point, Mapping)
        else None,
        "biz_location": _identifier(biz_location.get("id"))
        if isinstance(biz_location, Mapping)
        else None,
        "transformation_id": _identifier(event.get("transformationID")),
        "error_declaration_time": _parse_time(error.get("declarationTime")),
        "error_reason": _cbv("errorReason", error.get("reason")),
        "capture_job_id": job_id,
        "content": _dumps(event),
        "context": None if context is None else _dumps(context),
    }
    return _PreparedEvent(
        event_id=event_id,
        row=row,
        epcs=_index_epcs(event),
        transactions=_index_transactions(event),
        parties=_index_parties(event),
    )


def event_from_row(row: Any, context_cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a stored event in EPCIS JSON: as captured, with eventID and recordTime set.

    An event captured inside a document gets that document's ``@context`` back when it has
    none of its own, so that its extension fields stay defined outside the document.
    """
    event: dict[str, Any] = json.loads(row.content)
    context = getattr(row, "context", None)
    if "@context" not in event and context is not None:
        # Events of one document share one context; with a cache they share its parsed form
        # too, so callers must not change it.
        if context_cache is None:
            parsed = json.loads(context)
        elif context in context_cache:
            parsed = context_cache[context]
        else:
            parsed = context_cache[context] = json.loads(context)
        event["@context"] = parsed  # after the captured fields, in their order
    event["eventID"] = row.event_id
    event["recordTime"] = format_time(row.record_time)
    return event


def _problem(path: str, rule: str, message: str) -> EPCISProblem:
    return EPCISProblem(path=path, rule=rule, message=message)


class EventRepository:
    """A repository of EPCIS 2.0 events in the valuetrace database (SQLite or PostgreSQL).

    Open it with :meth:`open`. It shares the database, and the migrations, with
    :class:`valuetrace.store.Store`.
    """

    def __init__(self, engine: Engine, location: str) -> None:
        self._engine = engine
        self.location = location

    @classmethod
    def open(cls, url: str | Path) -> EventRepository:
        """Open the repository at a file path or SQLAlchemy URL, creating a new database's tables.

        The location rules are those of :meth:`valuetrace.store.Store.open`. Raises StoreError
        when the database cannot be opened or needs ``valuetrace db upgrade``.
        """
        engine, location = create_store_engine(url)
        LOGGER.info("opened EPCIS repository %s", location)
        return cls(engine, location)

    def close(self) -> None:
        """Close all database connections. An in-memory repository loses its events."""
        self._engine.dispose()

    def __enter__(self) -> EventRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot {action} in {self.location}: {describe_database_error(error)}"
            ) from error

    # Capture

    def capture_document(self, document: Mapping[str, Any]) -> CaptureJob:
        """Validate an EPCISDocument or EPCISQueryDocument and store all its events, or none.

        An event without eventID gets its CBV 2.0 event hash. An event that appears twice in
        the document is stored once. The document is rejected whole when it is invalid, when
        one eventID names two different events, or when an eventID is stored already. Returns
        the finished capture job, which is also recorded.
        """
        job_id = str(uuid.uuid4())
        created_at = _now()
        problems = list(validate_document(document))
        prepared: list[_PreparedEvent] = []
        if not problems:
            prepared, problems = self._prepare_document(document, job_id)
        if not problems:
            try:
                return self._store_events(job_id, created_at, prepared)
            except _Rejected as rejected:
                problems = rejected.problems
        return self._record_failure(job_id, created_at, problems)

    def _prepare_document(
        self, document: Mapping[str, Any], job_id: str
    ) -> tuple[list[_PreparedEvent], list[EPCISProblem]]:
        context = document_context(document)
        record_time = _now()
        prepared: list[_PreparedEvent] = []
        first_index: dict[str, int] = {}
        first_events: dict[str, Mapping[str, Any]] = {}
        problems: list[EPCISProblem] = []
        list_path = (
            "$.epcisBody.eventList"
            if isinstance(document.get("epcisBody"), Mapping)
            and "eventList" in document["epcisBody"]
            else "$.epcisBody.queryResults.resultsBody.eventList"
        )
        for index, event in enumerate(document_events(document)):
            item = _prepare(event, context, record_time, job_id)
            if item.event_id in first_index:
                # Serialised with sorted keys only when an eventID repeats, to compare contents.
                first = json.dumps(
                    first_events[item.event_id], sort_keys=True, default=_json_default
                )
                if first != json.dumps(event, sort_keys=True, default=_json_default):
                    problems.append(
                        _problem(
                            f"{list_path}[{index}].eventID",
                            DUPLICATE_EVENT_RULE,
                            f"eventID {item.event_id} names two different events, the first at "
                            f"index {first_index[item.event_id]}: give each event its own eventID",
                        )
                    )
                continue
            first_index[item.event_id] = index
            first_events[item.event_id] = event
            item.path = f"{list_path}[{index}]"
            prepared.append(item)
        return prepared, problems

    def _store_events(
        self, job_id: str, created_at: datetime, prepared: list[_PreparedEvent]
    ) -> CaptureJob:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(capture_jobs),
                    {
                        "id": job_id,
                        "running": True,
                        "success": False,
                        "captured": 0,
                        "errors": [],
                        "created_at": created_at,
                        "finished_at": None,
                    },
                )
                existing = self._stored_ids(connection, [item.event_id for item in prepared])
                if existing:
                    raise _Rejected(
                        [
                            _problem(
                                f"{item.path}.eventID",
                                DUPLICATE_EVENT_RULE,
                                f"event {item.event_id} is already stored, so the document was "
                                "rejected whole: leave it out, or send a corrected event with "
                                "a new eventID and an errorDeclaration",
                            )
                            for item in prepared
                            if item.event_id in existing
                        ]
                    )
                self._insert(connection, prepared)
                finished_at = _now()
                connection.execute(
                    update(capture_jobs)
                    .where(capture_jobs.c.id == job_id)
                    .values(
                        running=False,
                        success=True,
                        captured=len(prepared),
                        finished_at=finished_at,
                    )
                )
        except IntegrityError as error:
            raise _Rejected(
                [
                    _problem(
                        "$.epcisBody",
                        DUPLICATE_EVENT_RULE,
                        "another capture stored one of these events at the same time, so the "
                        f"document was rejected whole: send it again ({error.orig})",
                    )
                ]
            ) from error
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot store events in {self.location}: {describe_database_error(error)}"
            ) from error
        LOGGER.info("capture job %s stored %d events", job_id, len(prepared))
        return CaptureJob(
            id=job_id,
            running=False,
            success=True,
            captured=len(prepared),
            errors=[],
            created_at=created_at,
            finished_at=finished_at,
        )

    @staticmethod
    def _stored_ids(connection: Connection, event_ids: Sequence[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(event_ids), _BATCH):
            chunk = event_ids[start : start + _BATCH]
            found += connection.execute(
                select(events.c.event_id).where(events.c.event_id.in_(chunk))
            ).scalars()
        return sorted(found)

    @staticmethod
    def _insert(connection: Connection, prepared: list[_PreparedEvent]) -> None:
        for start in range(0, len(prepared), _BATCH):
            batch = prepared[start : start + _BATCH]
            keys = connection.execute(
                insert(events).returning(events.c.id, sort_by_parameter_order=True),
                [item.row for item in batch],
            ).scalars()
            epc_rows: list[dict[str, Any]] = []
            transaction_rows: list[dict[str, Any]] = []
            party_rows: list[dict[str, Any]] = []
            for key, item in zip(keys, batch, strict=True):
                epc_rows += [{"event_pk": key, **row} for row in item.epcs]
                transaction_rows += [{"event_pk": key, **row} for row in item.transactions]
                party_rows += [{"event_pk": key, **row} for row in item.parties]
            for table, rows in (
                (event_epcs, epc_rows),
                (event_transactions, transaction_rows),
                (event_parties, party_rows),
            ):
                for row_start in range(0, len(rows), _BATCH):
                    connection.execute(insert(table), rows[row_start : row_start + _BATCH])

    def _record_failure(
        self, job_id: str, created_at: datetime, problems: list[EPCISProblem]
    ) -> CaptureJob:
        finished_at = _now()
        row = {
            "id": job_id,
            "running": False,
            "success": False,
            "captured": 0,
            "errors": problems_to_json(problems),
            "created_at": created_at,
            "finished_at": finished_at,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(capture_jobs), row)
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot record the failed capture job {job_id} in {self.location}: "
                f"{describe_database_error(error)}"
            ) from error
        LOGGER.info("capture job %s rejected the document: %d problems", job_id, len(problems))
        return CaptureJob(
            id=job_id,
            running=False,
            success=False,
            captured=0,
            errors=problems,
            created_at=created_at,
            finished_at=finished_at,
        )

    def capture_event(self, event: Mapping[str, Any], *, context: Any = None) -> str:
        """Validate and store one event and return its eventID.

        ``context`` is the JSON-LD @context the event inherits, as in its document. Raises
        DuplicateEventError when the eventID is stored already, and EPCISDocumentError with
        every problem when the event is invalid.
        """
        problems = list(validate_event(event, context=context))
        if problems:
            raise EPCISDocumentError(
                f"the event is invalid ({len(problems)} problems, the first is {problems[0]})",
                kind="invalid",
                problems=problems,
            )
        item = _prepare(event, context, _now(), None)
        try:
            with self._engine.begin() as connection:
                if self._stored_ids(connection, [item.event_id]):
                    raise DuplicateEventError(item.event_id)
                self._insert(connection, [item])
        except IntegrityError as error:
            raise DuplicateEventError(item.event_id) from error
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot store event {item.event_id} in {self.location}: "
                f"{describe_database_error(error)}"
            ) from error
        return item.event_id

    def get_capture_job(self, job_id: str) -> CaptureJob | None:
        """Return the capture job with this id, or None."""
        with self._reading(f"read capture job {job_id}") as connection:
            row = connection.execute(
                select(capture_jobs).where(capture_jobs.c.id == job_id)
            ).first()
        return None if row is None else job_from_row(row)

    def list_capture_jobs(self, *, limit: int = 1000) -> list[CaptureJob]:
        """Return the most recent capture jobs, newest first, at most ``limit`` of them."""
        with self._reading("list capture jobs") as connection:
            rows = connection.execute(
                select(capture_jobs)
                .order_by(capture_jobs.c.created_at.desc(), capture_jobs.c.id.desc())
                .limit(limit)
            ).all()
        return [job_from_row(row) for row in rows]

    # Query

    def query(
        self,
        parameters: Mapping[str, Sequence[str]],
        *,
        per_page: int = 30,
        page_token: str | None = None,
    ) -> QueryPage:
        """Run an EPCIS 2.0 simple event query and return one page of events in capture order.

        ``parameters`` maps parameter names such as ``EQ_bizStep`` to values, where ``|``
        separates alternatives. Pass the returned ``next_page_token`` with the same parameters
        and ``per_page`` to get the next page. Raises QueryParameterError on an unknown
        parameter, a bad value or an altered token.
        """
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise QueryParameterError(
                "perPage", str(per_page), f"give a page size from 1 to {MAX_PER_PAGE}"
            )
        conditions = build_conditions(parameters)
        if page_token is not None:
            conditions.append(events.c.id > decode_page_token(page_token, parameters, per_page))
        statement = (
            select(
                events.c.id,
                events.c.event_id,
                events.c.record_time,
                events.c.content,
                events.c.context,
            )
            .where(*conditions)
            .order_by(events.c.id)
            .limit(per_page + 1)
        )
        with self._reading("query events") as connection:
            rows = list(connection.execute(statement))
        next_token = None
        if len(rows) > per_page:
            rows = rows[:per_page]
            next_token = encode_page_token(rows[-1].id, parameters, per_page)
        contexts: dict[str, Any] = {}
        return QueryPage(
            events=[event_from_row(row, contexts) for row in rows], next_page_token=next_token
        )

    def event_types(self) -> list[str]:
        """Return the event types of the stored events, sorted."""
        with self._reading("list event types") as connection:
            types = connection.execute(
                select(events.c.event_type).distinct().order_by(events.c.event_type)
            ).scalars()
            return list(types)

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """Return the event with this eventID in EPCIS JSON, or None."""
        with self._reading(f"read event {event_id}") as connection:
            row = connection.execute(
                select(
                    events.c.event_id, events.c.record_time, events.c.content, events.c.context
                ).where(events.c.event_id == event_id)
            ).first()
        return None if row is None else event_from_row(row)

    def count_events(self) -> int:
        """Return the number of stored events."""
        with self._reading("count events") as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())

    # Trace

    def trace(
        self,
        identifier: str,
        *,
        direction: Literal["upstream", "downstream"],
        max_depth: int = 50,
        max_events: int = 10000,
    ) -> TraceResult:
        """Follow an identifier through transformations, aggregations and associations.

        Downstream follows inputs to outputs and children to parents, upstream the reverse.
        Stops after ``max_depth`` steps or ``max_events`` events, with ``truncated`` set.
        Raises ValueError for an unknown direction or a limit below 1.
        """
        if direction not in ("upstream", "downstream"):
            raise ValueError(f"direction must be 'upstream' or 'downstream', not {direction!r}")
        if max_depth < 1 or max_events < 1:
            raise ValueError(
                f"max_depth and max_events must be at least 1, got {max_depth} and {max_events}"
            )
        with self._reading(f"trace {identifier}") as connection:
            return trace_graph(
                connection,
                canonical_identifier(identifier),
                direction=direction,
                max_depth=max_depth,
                max_events=max_events,
            )


class _Rejected(Exception):
    """Internal: the capture transaction found problems and rolled back."""

    def __init__(self, problems: list[EPCISProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems

"""Upstream and downstream trace over the event index, one tier of set-based queries at a time.

Each tier takes the identifiers reached in the previous tier (the frontier) and runs a fixed
number of queries for all of them together. They fetch the index entries that match the
frontier, the events of those entries, the events that share their transformationID, and all
index entries of these events. So the number of queries grows with the depth of the graph, not
with its size.

Identifiers match when they are equal, or when one is the GTIN-level class of the other: a
serial or lot of a product (``https://id.gs1.org/01/<GTIN>/21/<serial>``) belongs to the class
``https://id.gs1.org/01/<GTIN>``, which quantity lists and EPC patterns name. Two serials of
one GTIN do not match each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, select, union

from valuetrace.epcis._query import class_of
from valuetrace.epcis._tables import event_epcs, events

__all__ = ["TraceResult", "trace_graph"]

# Identifiers per IN (...) list: below SQLite's 32,766 bound parameters (3.32 and later) and
# PostgreSQL's 65,535, with three lists in one statement.
_CHUNK = 5000

_GTIN_CLASS = re.compile(r"https://id\.gs1\.org/01/[0-9]{14}")
_INPUT_ROLES = frozenset({"input", "inputEPCClass"})
_OUTPUT_ROLES = frozenset({"output", "outputEPCClass"})
_CHILD_ROLES = frozenset({"child", "childEPCClass"})
_PARENT_ROLES = frozenset({"parent"})
_CONTAINER_TYPES = frozenset({"AggregationEvent", "AssociationEvent"})


@dataclass(frozen=True)
class TraceResult:
    """The events and identifiers reachable from ``root`` in one direction.

    ``edges`` are (from identifier, to identifier, eventID) in the direction of the trace: for
    a downstream trace from an input to an output or from a child to its parent, for an
    upstream trace the reverse. ``truncated`` is true when the depth or event limit cut the
    trace short.
    """

    root: str
    direction: str
    events: list[dict[str, Any]]
    identifiers: list[str]
    edges: list[tuple[str, str, str]]
    truncated: bool


@dataclass
class _EventInfo:
    key: int
    event_id: str
    event_type: str
    transformation_id: str | None
    entries: list[tuple[str, str]] = field(default_factory=list)  # (role, identifier)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _matches(frontier: set[str], identifier: str) -> bool:
    if identifier in frontier:
        return True
    identifier_class = class_of(identifier)
    return identifier_class is not None and identifier_class in frontier


def _frontier_matches(
    frontier: set[str], frontier_classes: dict[str, set[str]], identifier: str
) -> list[str]:
    """Return the frontier identifiers that ``identifier`` (an event's entry) matches."""
    found: list[str] = []
    if identifier in frontier:
        found.append(identifier)
    identifier_class = class_of(identifier)
    if identifier_class is not None and identifier_class in frontier:
        found.append(identifier_class)
    found += sorted(frontier_classes.get(identifier, ()))
    return found


class _Tracer:
    def __init__(
        self,
        connection: Connection,
        direction: Literal["upstream", "downstream"],
        max_events: int,
    ) -> None:
        self.connection = connection
        self.max_events = max_events
        if direction == "downstream":
            self.transform_from, self.transform_to = _INPUT_ROLES, _OUTPUT_ROLES
            self.container_from, self.container_to = _CHILD_ROLES, _PARENT_ROLES
        else:
            self.transform_from, self.transform_to = _OUTPUT_ROLES, _INPUT_ROLES
            self.container_from, self.container_to = _PARENT_ROLES, _CHILD_ROLES
        self.events: dict[int, _EventInfo] = {}
        self.truncated = False

    def matching_event_keys(self, frontier: set[str]) -> set[int]:
        """Return the keys of the events with an index entry that matches the frontier."""
        keys: set[int] = set()
        for chunk in _chunks(sorted(frontier)):
            conditions = [event_epcs.c.identifier.in_(chunk)]
            # class_identifier holds only GTIN-level links (see class_of), so only those can
            # match it. Leaving the others out keeps PostgreSQL on the index: it estimates each
            # value as common as a class.
            gtin_classes = [value for value in chunk if _GTIN_CLASS.fullmatch(value)]
            if gtin_classes:
                conditions.append(event_epcs.c.class_identifier.in_(gtin_classes))
            classes = sorted({c for c in map(class_of, chunk) if c is not None})
            if classes:
                conditions.append(event_epcs.c.identifier.in_(classes))
            # One SELECT per condition: PostgreSQL scans the whole table for their OR.
            statement = union(
                *(select(event_epcs.c.event_pk).where(condition) for condition in conditions)
            )
            keys |= set(self.connection.execute(statement).scalars())
        return keys

    def load(self, keys: set[int]) -> None:
        """Load new events, the events sharing their transformationID, and their entries."""
        new_keys = sorted(keys - self.events.keys())
        if not new_keys:
            return
        loaded = self._load_events(events.c.id.in_, new_keys)
        transformation_ids = sorted(
            {info.transformation_id for info in loaded if info.transformation_id}
        )
        if transformation_ids:
            loaded += self._load_events(events.c.transformation_id.in_, transformation_ids)
        fresh = [info for info in loaded if info.key not in self.events]
        for info in fresh:
            self.events[info.key] = info
        if len(self.events) > self.max_events:
            self.truncated = True
        self._load_entries([info.key for info in fresh])

    def _load_events(self, column_in: Any, values: Sequence[Any]) -> list[_EventInfo]:
        loaded: list[_EventInfo] = []
        for start in range(0, len(values), _CHUNK):
            rows = self.connection.execute(
                select(
                    events.c.id, events.c.event_id, events.c.event_type, events.c.transformation_id
                ).where(column_in(values[start : start + _CHUNK]))
            )
            loaded += [
                _EventInfo(row.id, row.event_id, row.event_type, row.transformation_id)
                for row in rows
                if row.id not in self.events
            ]
        return loaded

    def _load_entries(self, keys: Sequence[int]) -> None:
        for start in range(0, len(keys), _CHUNK):
            rows = self.connection.execute(
                select(event_epcs.c.event_pk, event_epcs.c.role, event_epcs.c.identifier)
                .where(event_epcs.c.event_pk.in_(keys[start : start + _CHUNK]))
                .order_by(event_epcs.c.id)
            )
            for row in rows:
                self.events[row.event_pk].entries.append((row.role, row.identifier))

    def step(self, frontier: set[str]) -> list[tuple[str, str, str]]:
        """Return the edges from the frontier to the identifiers one step further."""
        frontier_classes: dict[str, set[str]] = {}
        for identifier in frontier:
            identifier_class = class_of(identifier)
            if identifier_class is not None:
                frontier_classes.setdefault(identifier_class, set()).add(identifier)

        groups: dict[str, list[_EventInfo]] = {}
        for info in self.events.values():
            if info.transformation_id:
                groups.setdefault(info.transformation_id, []).append(info)

        edges: list[tuple[str, str, str]] = []
        for info in sorted(self.events.values(), key=lambda item: item.key):
            if not any(_matches_entry(frontier, frontier_classes, i) for _, i in info.entries):
                continue
            if info.event_type in _CONTAINER_TYPES:
                edges += self._edges(
                    [info], frontier, frontier_classes, self.container_from, self.container_to
                )
            group = groups.get(info.transformation_id or "", [info])
            if info.event_type == "TransformationEvent" or info.transformation_id:
                edges += self._edges(
                    group, frontier, frontier_classes, self.transform_from, self.transform_to
                )
        return list(dict.fromkeys(edges))

    @staticmethod
    def _edges(
        group: list[_EventInfo],
        frontier: set[str],
        frontier_classes: dict[str, set[str]],
        from_roles: frozenset[str],
        to_roles: frozenset[str],
    ) -> list[tuple[str, str, str]]:
        sources: list[str] = []
        for info in group:
            for role, identifier in info.entries:
                if role in from_roles:
                    sources += _frontier_matches(frontier, frontier_classes, identifier)
        edges: list[tuple[str, str, str]] = []
        for source in dict.fromkeys(sources):
            for info in group:
                for role, identifier in info.entries:
                    if role in to_roles and identifier != source:
                        edges.append((source, identifier, info.event_id))
        return edges


def _matches_entry(frontier: set[str], frontier_classes: dict[str, set[str]], entry: str) -> bool:
    return _matches(frontier, entry) or entry in frontier_classes


def _full_events(connection: Connection, keys: Sequence[int]) -> list[dict[str, Any]]:
    from valuetrace.epcis._repository import event_from_row

    rows: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        rows += connection.execute(
            select(
                events.c.id,
                events.c.event_id,
                events.c.event_time,
                events.c.record_time,
                events.c.content,
                events.c.context,
            ).where(events.c.id.in_(keys[start : start + _CHUNK]))
        )
    rows.sort(key=lambda row: (row.event_time, row.id))
    contexts: dict[str, Any] = {}
    return [event_from_row(row, contexts) for row in rows]


def trace_graph(
    connection: Connection,
    root: str,
    *,
    direction: Literal["upstream", "downstream"],
    max_depth: int,
    max_events: int,
) -> TraceResult:
    """Trace the canonical identifier ``root`` through the stored events.

    The events in the result are those that involve a reached identifier, in event time
    order. Already reached identifiers are not followed again, so cycles end the walk.
    """
    tracer = _Tracer(connection, direction, max_events)
    reached: dict[str, None] = {root: None}
    frontier = {root}
    edges: dict[tuple[str, str, str], None] = {}
    depth = 0
    while frontier:
        tracer.load(tracer.matching_event_keys(frontier))
        if tracer.truncated:
            break
        step_edges = tracer.step(frontier)
        next_frontier = {target for _, target, _ in step_edges if target not in reached}
        if depth == max_depth:
            # The events of the last tier are in, and going one step further passes the limit.
            tracer.truncated = bool(next_frontier)
            break
        edges.update(dict.fromkeys(step_edges))
        for target in sorted(next_frontier):
            reached[target] = None
        frontier = next_frontier
        depth += 1

    keys = sorted(tracer.events)
    if len(keys) > max_events:
        keys = keys[:max_events]
    return TraceResult(
        root=root,
        direction=direction,
        events=_full_events(connection, keys),
        identifiers=list(reached),
        edges=list(edges),
        truncated=tracer.truncated,
    )

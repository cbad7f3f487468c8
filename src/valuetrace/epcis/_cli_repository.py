"""The ``capture`` and ``trace`` commands of the EPCIS event repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from valuetrace.epcis._document import EPCISDocumentError, load_document
from valuetrace.epcis._repository import DuplicateEventError, EventRepository
from valuetrace.epcis._validate import EVENT_TYPES
from valuetrace.errors import ValuetraceError
from valuetrace.store._cli import DatabaseOption, database_url, existing_database_url

__all__ = ["register"]

EXIT_REJECTED = 1
EXIT_MISUSE = 2


def _open(db: str | None, *, read_only: bool = False) -> EventRepository:
    url = existing_database_url(db) if read_only else database_url(db)
    try:
        return EventRepository.open(url)
    except ValuetraceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_MISUSE) from None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _capture_one_event(file: Path, event: dict[str, object], db: str | None) -> None:
    with _open(db) as repository:
        try:
            event_id = repository.capture_event(event, context=event.get("@context"))
        except DuplicateEventError as error:
            typer.echo(f"rejected: {file}: event {error.event_id} is stored already", err=True)
            raise typer.Exit(EXIT_REJECTED) from None
        except EPCISDocumentError as error:
            typer.echo(f"rejected: {file}: the event is invalid:", err=True)
            for problem in error.problems:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(EXIT_REJECTED) from None
        except ValuetraceError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(EXIT_MISUSE) from None
    typer.echo(f"captured event {event_id} from {file}")


def register(app: typer.Typer) -> None:
    """Add the ``capture`` and ``trace`` commands to ``app`` (the ``epcis`` command group)."""

    @app.command("capture")
    def capture_command(
        file: Annotated[
            Path, typer.Argument(help="EPCIS 2.0 JSON document, or one event, to capture.")
        ],
        db: DatabaseOption = None,
    ) -> None:
        """Validate an EPCIS document and store all its events, or none when it is rejected.

        A file that contains one event (with its @context) is captured as that event. Exit status:
        0 captured, 1 rejected (every problem is printed), 2 the file or database cannot be
        opened.
        """
        try:
            document = load_document(file.read_bytes())
        except OSError as error:
            typer.echo(f"error: cannot read {file}: {error.strerror}", err=True)
            raise typer.Exit(EXIT_MISUSE) from None
        except EPCISDocumentError as error:
            typer.echo(f"rejected: {file}:", err=True)
            for problem in error.problems:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(EXIT_REJECTED) from None

        if document.get("type") in EVENT_TYPES:
            _capture_one_event(file, document, db)
            return

        with _open(db) as repository:
            try:
                job = repository.capture_document(document)
            except ValuetraceError as error:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(EXIT_MISUSE) from None
        if not job.success:
            typer.echo(
                f"rejected: {file}: capture job {job.id} stored no events, "
                f"{_count(len(job.errors), 'problem')}:",
                err=True,
            )
            for problem in job.errors:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(EXIT_REJECTED)
        typer.echo(f"captured {_count(job.captured, 'event')} from {file} (capture job {job.id})")

    @app.command("trace")
    def trace_command(
        identifier: Annotated[
            str, typer.Argument(help="EPC URN or GS1 Digital Link URI to start from.")
        ],
        db: DatabaseOption = None,
        direction: Annotated[
            str,
            typer.Option(
                "--direction", help="upstream (towards sources) or downstream (towards uses)."
            ),
        ] = "downstream",
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the whole trace result as JSON.")
        ] = False,
        max_depth: Annotated[
            int, typer.Option("--max-depth", min=1, help="Maximum number of steps to follow.")
        ] = 50,
    ) -> None:
        """Print the events and identifiers reachable from an identifier."""
        if direction not in ("upstream", "downstream"):
            typer.echo(
                f"error: --direction must be upstream or downstream, not {direction!r}", err=True
            )
            raise typer.Exit(EXIT_MISUSE)
        chosen: Literal["upstream", "downstream"] = (
            "upstream" if direction == "upstream" else "downstream"
        )
        with _open(db, read_only=True) as repository:
            result = repository.trace(identifier, direction=chosen, max_depth=max_depth)
        if as_json:
            payload = {
                "root": result.root,
                "direction": result.direction,
                "identifiers": result.identifiers,
                "edges": [
                    {"from": source, "to": target, "eventID": event_id}
                    for source, target, event_id in result.edges
                ],
                "truncated": result.truncated,
                "events": result.events,
            }
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        typer.echo(
            f"{result.direction} trace of {result.root}: "
            f"{_count(len(result.identifiers), 'identifier')}, "
            f"{_count(len(result.events), 'event')}"
        )
        if not result.events:
            typer.echo(
                "  no stored event names this identifier; check it, or capture its events first"
            )
        for source, target, event_id in result.edges:
            typer.echo(f"  {source} -> {target}  ({event_id})")
        for event in result.events:
            typer.echo(
                f"  {event.get('eventTime')}  {event.get('type')}  {event.get('bizStep', '')}  "
                f"{event.get('eventID')}"
            )
        if result.truncated:
            typer.echo("  (truncated: the depth or event limit was reached; raise --max-depth)")

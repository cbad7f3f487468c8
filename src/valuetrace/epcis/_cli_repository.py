"""The ``capture`` and ``trace`` commands of the EPCIS event repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from valuetrace.epcis._document import EPCISDocumentError, load_document
from valuetrace.epcis._repository import EventRepository
from valuetrace.errors import ValuetraceError
from valuetrace.store._cli import DatabaseOption, database_url

__all__ = ["register"]

EXIT_REJECTED = 1
EXIT_MISUSE = 2


def _open(db: str | None) -> EventRepository:
    try:
        return EventRepository.open(database_url(db))
    except ValuetraceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_MISUSE) from None


def register(app: typer.Typer) -> None:
    """Add the ``capture`` and ``trace`` commands to ``app`` (the ``epcis`` command group)."""

    @app.command("capture")
    def capture_command(
        file: Annotated[Path, typer.Argument(help="EPCIS 2.0 JSON document to capture.")],
        db: DatabaseOption = None,
    ) -> None:
        """Validate an EPCIS document and store all its events, or none when it is rejected."""
        try:
            document = load_document(file.read_bytes())
        except OSError as error:
            typer.echo(f"error: cannot read {file}: {error.strerror}", err=True)
            raise typer.Exit(EXIT_MISUSE) from None
        except EPCISDocumentError as error:
            typer.echo(f"rejected: {file}: {error}", err=True)
            for problem in error.problems:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(EXIT_REJECTED) from None

        with _open(db) as repository:
            try:
                job = repository.capture_document(document)
            except ValuetraceError as error:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(EXIT_MISUSE) from None
        if not job.success:
            typer.echo(
                f"rejected: {file}: capture job {job.id} stored no events, "
                f"{len(job.errors)} problems:",
                err=True,
            )
            for problem in job.errors:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(EXIT_REJECTED)
        typer.echo(f"captured {job.captured} events from {file} (capture job {job.id})")

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
        with _open(db) as repository:
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
            f"{result.direction} trace of {result.root}: {len(result.identifiers)} identifiers, "
            f"{len(result.events)} events"
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

"""The ``validate`` and ``hash`` commands for EPCIS 2.0 JSON documents."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from valuetrace.epcis._document import (
    EPCISDocumentError,
    EPCISProblem,
    document_context,
    document_events,
    load_document,
)
from valuetrace.epcis._hash import event_hash, event_prehash
from valuetrace.epcis._validate import EVENT_TYPES, validate_document, validate_event

__all__ = ["register"]

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2

FileArgument = Annotated[
    Path, typer.Argument(help="EPCIS 2.0 JSON document (EPCISDocument or EPCISQueryDocument).")
]


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        typer.echo(f"error: cannot read {file}: {error.strerror or error}", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None


def _check(file: Path) -> tuple[dict[str, Any] | None, list[EPCISProblem]]:
    """Load and validate a file; a single event at the top level is validated as an event."""
    try:
        document = load_document(_read(file))
    except EPCISDocumentError as error:
        return None, error.problems
    if document.get("type") in EVENT_TYPES:
        return document, validate_event(document, context=document.get("@context"))
    return document, validate_document(document)


def _reject(file: Path, problems: list[EPCISProblem]) -> NoReturn:
    typer.echo(f"{file}: invalid, {len(problems)} problem(s):", err=True)
    for problem in problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(EXIT_INVALID)


def register(app: typer.Typer) -> None:
    """Add the ``validate`` and ``hash`` commands to ``app`` (the ``epcis`` command group)."""

    @app.command("validate")
    def validate_command(
        file: FileArgument,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the result as a JSON object.")
        ] = False,
    ) -> None:
        """Validate an EPCIS document against the EPCIS 2.0 schema and the CBV rules.

        Exit status: 0 valid, 1 invalid (every problem is printed as PATH  RULE  message),
        2 the file cannot be read.
        """
        _, problems = _check(file)
        if as_json:
            result = {
                "file": str(file),
                "valid": not problems,
                "problems": [dataclasses.asdict(problem) for problem in problems],
            }
            typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        elif problems:
            for problem in problems:
                typer.echo(str(problem))
        else:
            typer.echo(f"{file}: valid")
        raise typer.Exit(EXIT_INVALID if problems else EXIT_VALID)

    @app.command("hash")
    def hash_command(
        file: FileArgument,
        prehash: Annotated[
            bool,
            typer.Option("--prehash", help="Print each event's pre-hash string after its hash."),
        ] = False,
    ) -> None:
        """Print the CBV 2.0 event hash of every event, one line each, in document order.

        Exit status: 0 hashed, 1 the document is invalid (its problems are printed),
        2 the file cannot be read.
        """
        document, problems = _check(file)
        if problems or document is None:
            _reject(file, problems)
        if document.get("type") in EVENT_TYPES:
            events, context = [document], document.get("@context")
        else:
            events, context = document_events(document), document_context(document)
        for event in events:
            typer.echo(event_hash(event, context=context))
            if prehash:
                typer.echo(event_prehash(event, context=context))

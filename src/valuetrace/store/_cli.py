"""The ``valuetrace db`` commands: create, upgrade and inspect the database schema."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from valuetrace.errors import ValuetraceError

__all__ = [
    "DEFAULT_DATABASE",
    "DatabaseOption",
    "database_url",
    "existing_database_url",
    "register",
    "sqlite_file",
]

DEFAULT_DATABASE = "sqlite:///valuetrace.sqlite"
DATABASE_ENV = "VALUETRACE_DB"

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "Database file path or SQLAlchemy URL "
            f"(default: ${DATABASE_ENV}, else {DEFAULT_DATABASE})."
        ),
    ),
]


def database_url(value: str | None) -> str:
    """Return the database given on the command line, else $VALUETRACE_DB, else the default."""
    if value:
        return value
    return os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE


def existing_database_url(value: str | None) -> str:
    """Return the database URL like :func:`database_url`, for commands that only read.

    A read must not create a database: an SQLite file that does not exist ends the command with
    exit code 2 and an error message. Opening it would create an empty database and report
    that it contains nothing.
    """
    url = database_url(value)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        typer.echo(
            f"error: no database at {path}; check --db (or ${DATABASE_ENV}), or create it by "
            "capturing events with 'valuetrace epcis capture' or with 'valuetrace db upgrade'",
            err=True,
        )
        raise typer.Exit(2)
    return url


def sqlite_file(url: str) -> Path | None:
    """Return the file of an SQLite database URL or path, or None for other databases."""
    if "://" not in url:
        return Path(url).expanduser()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group (``upgrade``, ``current``) to ``app``."""
    db_app = typer.Typer(help="Create and upgrade the database schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def upgrade_command(db: DatabaseOption = None) -> None:
        """Create the database's tables, or upgrade them to this version's schema."""
        from valuetrace.store._migrate import upgrade

        url = database_url(db)
        try:
            revision = upgrade(url)
        except ValuetraceError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"database is at revision {revision} (the newest)")

    @db_app.command("current")
    def current_command(db: DatabaseOption = None) -> None:
        """Print the database's schema revision and whether it is the newest."""
        from valuetrace.store._migrate import current_revision, head_revision

        url = existing_database_url(db)
        try:
            revision = current_revision(url)
        except ValuetraceError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        head = head_revision()
        if revision is None:
            typer.echo("database has no valuetrace tables; 'valuetrace db upgrade' creates them")
        elif revision == head:
            typer.echo(f"{revision} (the newest)")
        else:
            typer.echo(f"{revision} (older than {head}: run 'valuetrace db upgrade')")

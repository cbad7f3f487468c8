"""The ``valuetrace db`` commands: create, upgrade and inspect the database schema."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from valuetrace.errors import ValuetraceError

__all__ = ["DEFAULT_DATABASE", "DatabaseOption", "database_url", "register"]

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

        url = database_url(db)
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

"""The ``valuetrace serve`` command: run the EPCIS HTTP application with uvicorn."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_HOST", "DEFAULT_PORT", "register"]

DEFAULT_DATABASE_URL = "sqlite:///valuetrace.sqlite"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DATABASE_ENV = "VALUETRACE_DB"


def serve(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLAlchemy URL or SQLite file of the event repository "
            f"(default: ${DATABASE_ENV}, else {DEFAULT_DATABASE_URL}).",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 0.0.0.0 exposes it to the network."),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
    max_document_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-document-bytes",
            min=1,
            help="Largest request body accepted, in bytes (default: 64 MiB).",
        ),
    ] = None,
) -> None:
    """Serve the EPCIS 2.0 capture, query and trace API over HTTP until interrupted."""
    import uvicorn

    from valuetrace.api import create_app
    from valuetrace.epcis import DEFAULT_MAX_DOCUMENT_BYTES
    from valuetrace.errors import ValuetraceError

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = db or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL
    limit = max_document_bytes or DEFAULT_MAX_DOCUMENT_BYTES
    try:
        application = create_app(url, max_document_bytes=limit)
    except ValuetraceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    # The application logs every request itself, so uvicorn's access log would repeat it.
    uvicorn.run(application, host=host, port=port, access_log=False, log_config=None)


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)

"""The FastAPI application: an EPCIS 2.0 event repository and VC-API endpoints over HTTP."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from valuetrace import __version__
from valuetrace.api._epcis import router as epcis_router
from valuetrace.api._issuing import DEFAULT_SECURING, SECURING_MECHANISMS, IssuerKey
from valuetrace.api._problems import install_problem_handlers
from valuetrace.api._vcapi import router as vcapi_router
from valuetrace.api._verifying import Verifier
from valuetrace.epcis import DEFAULT_MAX_DOCUMENT_BYTES, EventRepository
from valuetrace.store import Store

__all__ = ["create_app"]

LOGGER = logging.getLogger(__name__)

# Versions this server implements, sent on every response as the EPCIS 2.0 REST binding specifies.
EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"


class _RequestLogMiddleware:
    """Log one line per request and add the GS1 version headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["GS1-EPCIS-Version"] = EPCIS_VERSION
                headers["GS1-CBV-Version"] = CBV_VERSION
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            LOGGER.info("%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed_ms)


def create_app(
    database_url: str | Path,
    *,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    issuer: IssuerKey | None = None,
    securing: str = DEFAULT_SECURING,
) -> FastAPI:
    """Create the HTTP application on the event repository and store at ``database_url``.

    The database is opened (and migrated when new) right away, so a wrong URL fails here, and
    closed when the application shuts down. Request bodies over ``max_document_bytes`` get 413.
    ``issuer`` is the key that ``POST /credentials/issue`` signs with; without it that endpoint
    returns 503. ``securing`` names the securing mechanism for requests that choose none.
    Raises ``ValueError`` for an unknown ``securing`` or one that cannot use the issuer's key.
    """
    if max_document_bytes < 1:
        raise ValueError(f"max_document_bytes must be positive, not {max_document_bytes}")
    mechanism = SECURING_MECHANISMS.get(securing)
    if mechanism is None:
        raise ValueError(
            f"securing mechanism {securing!r} is unknown. Use one of {sorted(SECURING_MECHANISMS)}"
        )
    if issuer is not None:
        mechanism.check_key(issuer)
    repository = EventRepository.open(database_url)
    try:
        store = Store.open(database_url)
    except Exception:
        repository.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            repository.close()
            store.close()
            LOGGER.info("closed the event repository and the store")

    app = FastAPI(
        title="valuetrace node",
        version=__version__,
        summary="Capture, query and trace EPCIS 2.0 events; issue and verify credentials.",
        lifespan=lifespan,
    )
    app.state.repository = repository
    app.state.max_document_bytes = max_document_bytes
    app.state.vc_issuer = issuer
    app.state.vc_securing = securing
    app.state.vc_verifier = Verifier(store)
    install_problem_handlers(app)
    app.include_router(epcis_router)
    app.include_router(vcapi_router)
    app.add_middleware(_RequestLogMiddleware)
    return app

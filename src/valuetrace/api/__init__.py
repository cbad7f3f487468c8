"""The HTTP application of a valuetrace node (FastAPI): an EPCIS 2.0 event repository.

``create_app(database_url)`` builds the application; ``valuetrace serve`` runs it with uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from valuetrace.api._app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Import FastAPI only when the application is built, so that registering the ``serve``
    # command keeps every other ``valuetrace`` command quick to start.
    if name == "create_app":
        from valuetrace.api._app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

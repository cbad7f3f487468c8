"""Readable messages for database errors."""

from __future__ import annotations

__all__ = ["describe_database_error"]


def describe_database_error(error: BaseException) -> str:
    """Return the database driver's own message for an SQLAlchemy error, without SQL or links.

    SQLAlchemy wraps the driver's error and appends the statement and a documentation link;
    users need only the driver's sentence (such as "file is not a database").
    """
    original = getattr(error, "orig", None)
    text = str(original) if original is not None else str(error)
    text = text.split("\n(Background on this error")[0]
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__

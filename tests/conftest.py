"""Shared fixtures: databases for the tests that run on both SQLite and PostgreSQL.

PostgreSQL tests use the server at ``VALUETRACE_TEST_POSTGRES`` (default
``postgresql://127.0.0.1:5432/test``, trust authentication) and create and drop a database of
their own for every test, so the server's other data is never touched. When the server cannot be
reached, those tests are skipped with the reason printed, except when ``CI=true``: there a
missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get("VALUETRACE_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
_unavailable_reason: list[str] = []


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_connection() -> object:
    import psycopg

    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    """Check whether the PostgreSQL server accepts connections; fail the run in CI if not."""
    try:
        connection = _admin_connection()
    except Exception as exc:  # any driver or network error means "not available"
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not available: {exc}"
        if _in_ci():
            pytest.fail(reason + " (CI=true requires it)")
        _unavailable_reason.append(reason)
        return False
    connection.close()  # type: ignore[attr-defined]
    return True


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty PostgreSQL database, dropped after the test."""
    if not postgres_available:
        pytest.skip(_unavailable_reason[0] if _unavailable_reason else "PostgreSQL unavailable")
    from sqlalchemy.engine import make_url

    name = f"valuetrace_test_{uuid.uuid4().hex[:16]}"
    admin = _admin_connection()
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    admin.close()  # type: ignore[attr-defined]
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = _admin_connection()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each backend: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'test.sqlite'}"
    else:
        yield request.getfixturevalue("postgres_url")

"""Schema migrations of the valuetrace database with Alembic: check, create and upgrade.

The migration scripts live in the package :mod:`valuetrace.migrations` and cover every table:
the store's (credentials, DID documents, keys, links) and the EPCIS event repository's. A
database that the store created before migrations existed has the store tables but no
``alembic_version`` table, and counts as the first revision.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from valuetrace.errors import StoreError
from valuetrace.store._errors import describe_database_error

__all__ = [
    "BASELINE_REVISION",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "upgrade",
]

LOGGER = logging.getLogger(__name__)

# The revision that creates the store tables as Store.open created them before migrations.
BASELINE_REVISION = "0001_store"
_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Key of the PostgreSQL advisory lock that serialises concurrent schema upgrades.
_UPGRADE_LOCK_KEY = 0x76616C7565  # "value" in ASCII


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest revision of the migration scripts."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its scripts
        raise StoreError(f"no migration scripts found in {_MIGRATIONS}: reinstall valuetrace")
    return head


def _known_revisions() -> set[str]:
    scripts = ScriptDirectory.from_config(_config())
    return {script.revision for script in scripts.walk_revisions()}


def _revision_of(connection: Connection) -> str | None:
    """Return the database's revision, the baseline for a store without version table, or None."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is not None:
        return revision
    if inspect(connection).has_table("credentials"):
        return BASELINE_REVISION
    return None


def _upgrade_connection(connection: Connection, location: str) -> None:
    """Bring the database on ``connection`` to the head revision, inside its transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
    revision = _revision_of(connection)
    head = head_revision()
    if revision == head:
        return
    if revision is not None and revision not in _known_revisions():
        raise StoreError(
            f"the database {location} is at revision {revision}, which this version of "
            "valuetrace does not know: it was written by a newer valuetrace, so upgrade valuetrace"
        )
    config = _config(connection)
    has_version_table = MigrationContext.configure(connection).get_current_revision() is not None
    if revision == BASELINE_REVISION and not has_version_table:
        command.stamp(config, BASELINE_REVISION)
    command.upgrade(config, "head")
    LOGGER.info("upgraded database %s from revision %s to %s", location, revision, head)


def _engine_for(location: str | Path) -> tuple[Engine, str]:
    from valuetrace.store._store import create_plain_engine

    return create_plain_engine(location)


def upgrade(location: str | Path) -> str:
    """Create or upgrade the database at a file path or URL to the newest schema.

    Running it again on an up-to-date database changes nothing. Returns the revision that
    the database is at afterwards. Raises StoreError when the database cannot be reached or
    migrated.
    """
    engine, redacted = _engine_for(location)
    try:
        with engine.begin() as connection:
            _upgrade_connection(connection, redacted)
            return head_revision()
    except SQLAlchemyError as error:
        raise StoreError(
            f"cannot upgrade the database {redacted}: {describe_database_error(error)}"
        ) from error
    finally:
        engine.dispose()


def current_revision(location: str | Path) -> str | None:
    """Return the revision of the database at a file path or URL, or None for an empty one."""
    engine, redacted = _engine_for(location)
    try:
        with engine.connect() as connection:
            return _revision_of(connection)
    except SQLAlchemyError as error:
        raise StoreError(
            f"cannot read the revision of the database {redacted}: {describe_database_error(error)}"
        ) from error
    finally:
        engine.dispose()


def ensure_schema(engine: Engine, location: str) -> None:
    """Create the tables of a new database, or check that an existing one is up to date.

    SQLite databases at an older revision are upgraded here. Other databases at an older
    revision raise StoreError, because an upgrade of a shared server is the operator's call.
    """
    with engine.begin() as connection:
        revision = _revision_of(connection)
        head = head_revision()
        if revision == head:
            return
        if revision is None or engine.dialect.name == "sqlite":
            _upgrade_connection(connection, location)
            return
        if revision not in _known_revisions():
            raise StoreError(
                f"the database {location} is at revision {revision}, which this version of "
                "valuetrace does not know: it was written by a newer valuetrace, so upgrade "
                "valuetrace"
            )
        raise StoreError(
            f"the database {location} is at revision {revision}, older than {head}: run "
            f"'valuetrace db upgrade --db URL' with its URL, then open it again"
        )

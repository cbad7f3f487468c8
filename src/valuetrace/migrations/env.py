"""Alembic environment: runs migrations on the connection that valuetrace passes in.

valuetrace runs Alembic from code (see :mod:`valuetrace.store._migrate`), which puts an open
connection in ``config.attributes["connection"]``. Without one, the URL in the Alembic
configuration's ``sqlalchemy.url`` is used, so that ``alembic`` commands work for developers.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, MetaData, create_engine

from valuetrace.epcis._tables import metadata as epcis_metadata
from valuetrace.store._tables import metadata as store_metadata


def _target_metadata() -> MetaData:
    combined = MetaData()
    for source in (store_metadata, epcis_metadata):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database for the migrations: set sqlalchemy.url in the Alembic configuration, "
            "or run 'valuetrace db upgrade --db URL'"
        )
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run them online")
_run_online()

"""Schema migrations: the same schema as the table definitions, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import MetaData, create_engine, inspect, text
from typer.testing import CliRunner

from valuetrace.epcis import EventRepository
from valuetrace.epcis._tables import metadata as epcis_metadata
from valuetrace.errors import StoreError
from valuetrace.store import Store
from valuetrace.store._cli import register
from valuetrace.store._migrate import (
    BASELINE_REVISION,
    current_revision,
    head_revision,
    upgrade,
)
from valuetrace.store._tables import metadata as store_metadata


def _expected_tables() -> dict[str, Any]:
    return {**store_metadata.tables, **epcis_metadata.tables}


def _type_name(column_type: Any) -> str:
    """Return a type's generic name, which reflection on both databases gives back."""
    name = type(column_type).__name__.upper()
    aliases = {
        "BLOB": "LARGEBINARY",
        "BYTEA": "LARGEBINARY",
        "TIMESTAMP": "DATETIME",
        "VARCHAR": "STRING",
        "NUMERIC": "NUMERIC",
        "INTEGER": "INTEGER",
        "BOOLEAN": "BOOLEAN",
        "JSON": "JSON",
    }
    return aliases.get(name, name)


def _reflect(url: str) -> MetaData:
    engine = create_engine(url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        return reflected
    finally:
        engine.dispose()


def test_migrations_match_tables(database_url: str) -> None:
    upgrade(database_url)
    reflected = _reflect(database_url)

    assert set(reflected.tables) == set(_expected_tables()) | {"alembic_version"}
    for name, expected in _expected_tables().items():
        table = reflected.tables[name]
        assert [c.name for c in table.columns] == [c.name for c in expected.columns], name
        for column in expected.columns:
            actual = table.columns[column.name]
            assert actual.nullable == column.nullable, f"{name}.{column.name}"
            assert actual.primary_key == column.primary_key, f"{name}.{column.name}"
            assert _type_name(actual.type) == _type_name(column.type), f"{name}.{column.name}"
        assert {(i.name, tuple(c.name for c in i.columns)) for i in table.indexes} == {
            (i.name, tuple(c.name for c in i.columns)) for i in expected.indexes
        }, name
        assert {
            (fk.parent.name, fk.column.table.name, fk.column.name, fk.ondelete)
            for fk in table.foreign_keys
        } == {
            (fk.parent.name, fk.column.table.name, fk.column.name, fk.ondelete)
            for fk in expected.foreign_keys
        }, name


def test_migrations_string_lengths(database_url: str) -> None:
    upgrade(database_url)
    reflected = _reflect(database_url)

    for name, expected in _expected_tables().items():
        for column in expected.columns:
            length = getattr(column.type, "length", None)
            if length is not None:
                assert reflected.tables[name].columns[column.name].type.length == length


def test_migrations_identifier_collation(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            collation = connection.execute(
                text(
                    "SELECT collation_name FROM information_schema.columns "
                    "WHERE table_name = 'epcis_event_epcs' AND column_name = 'identifier'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert collation == "C"


def test_upgrade_idempotent(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert upgrade(database_url) == head_revision()
    assert upgrade(database_url) == head_revision()
    assert current_revision(database_url) == head_revision()


def test_new_store_is_at_head(database_url: str) -> None:
    Store.open(database_url).close()
    assert current_revision(database_url) == head_revision()


def test_repository_and_store_share_database(database_url: str) -> None:
    with Store.open(database_url) as store:
        store.put_key("key-1", b"encrypted")
    with EventRepository.open(database_url) as repository:
        assert repository.count_events() == 0
    with Store.open(database_url) as store:
        assert store.list_keys() == ["key-1"]


def _create_legacy_store(url: str) -> None:
    """Create the store tables as Store.open did before migrations: no alembic_version."""
    engine = create_engine(url)
    try:
        store_metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO signing_keys (kid, encrypted_key, stored_at) "
                    "VALUES ('old-key', :blob, '2024-01-01 00:00:00')"
                ),
                {"blob": b"old"},
            )
    finally:
        engine.dispose()


def test_legacy_sqlite_store_upgrades_on_open(tmp_path: Path) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'legacy.sqlite'}"
    _create_legacy_store(url)
    assert current_revision(url) == BASELINE_REVISION

    with Store.open(url) as store:
        assert store.list_keys() == ["old-key"]

    assert current_revision(url) == head_revision()
    assert "epcis_events" in inspect(create_engine(url)).get_table_names()


def test_legacy_postgres_store_needs_upgrade(postgres_url: str) -> None:
    _create_legacy_store(postgres_url)

    with pytest.raises(StoreError, match="valuetrace db upgrade"):
        Store.open(postgres_url)
    with pytest.raises(StoreError, match="valuetrace db upgrade"):
        EventRepository.open(postgres_url)

    assert upgrade(postgres_url) == head_revision()
    with Store.open(postgres_url) as store:
        assert store.list_keys() == ["old-key"]


def test_unknown_revision_rejected(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    finally:
        engine.dispose()

    with pytest.raises(StoreError, match="newer valuetrace"):
        Store.open(database_url)
    with pytest.raises(StoreError, match="newer valuetrace"):
        upgrade(database_url)


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The test application."""

    register(app)
    return app


def test_db_upgrade_command(database_url: str) -> None:
    runner = CliRunner()
    app = _cli()

    before = runner.invoke(app, ["db", "current", "--db", database_url])
    first = runner.invoke(app, ["db", "upgrade", "--db", database_url])
    second = runner.invoke(app, ["db", "upgrade", "--db", database_url])
    after = runner.invoke(app, ["db", "current", "--db", database_url])

    if database_url.startswith("sqlite"):
        # a missing SQLite file is reported, and reading it does not create it
        assert before.exit_code == 2, before.output
        assert "no database at" in before.output
    else:
        assert before.exit_code == 0, before.output
        assert "no valuetrace tables" in before.output
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert head_revision() in second.output
    assert after.output.strip() == f"{head_revision()} (the newest)"


def test_db_command_uses_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'from-env.sqlite'}"
    monkeypatch.setenv("VALUETRACE_DB", url)

    result = CliRunner().invoke(_cli(), ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert current_revision(url) == head_revision()


def test_db_upgrade_bad_url() -> None:
    result = CliRunner().invoke(_cli(), ["db", "upgrade", "--db", "nosuchdialect://x/y"])

    assert result.exit_code == 1
    assert "nosuchdialect" in result.output

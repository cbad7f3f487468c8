"""The store: credentials, DID documents, links and encrypted signing keys in one database."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    Engine,
    Row,
    create_engine,
    delete,
    event,
    func,
    insert,
    make_url,
    select,
    update,
)
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from valuetrace.errors import StoreError
from valuetrace.resolver._digitallink import parse_digital_link
from valuetrace.resolver._linkset import LinkRecord
from valuetrace.store._errors import describe_database_error
from valuetrace.store._migrate import ensure_schema
from valuetrace.store._tables import (
    credential_subjects,
    credentials,
    did_documents,
    links,
    signing_keys,
)

__all__ = ["NewCredential", "Store", "StoredCredential"]

LOGGER = logging.getLogger(__name__)

DEFAULT_MEDIA_TYPE = "application/vc"
# Upper bound of URIs per IN (...) clause, well below SQLite's limit on bound parameters
# (999 before SQLite 3.32).
_IN_CHUNK = 500
# The password part of user:password@ in a URL that SQLAlchemy cannot parse.
_PASSWORD_IN_URL = re.compile(r"(://[^/@:]*:)[^@/]*@")


@dataclass(frozen=True)
class StoredCredential:
    """A credential as stored: its exact bytes, their SHA-256 hex digest and lookup fields."""

    uri: str
    content: bytes
    media_type: str
    sha256: str
    credential_id: str | None
    credential_type: str | None
    issuer: str | None
    stored_at: datetime


@dataclass(frozen=True)
class NewCredential:
    """A credential to insert with :meth:`Store.put_credentials`."""

    uri: str
    content: bytes
    media_type: str = DEFAULT_MEDIA_TYPE
    credential_id: str | None = None
    credential_type: str | None = None
    issuer: str | None = None
    subject_ids: Sequence[str] = ()


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes, and the store writes only UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _credential_from_row(row: Row[Any]) -> StoredCredential:
    return StoredCredential(
        uri=row.uri,
        content=bytes(row.content),
        media_type=row.media_type,
        sha256=row.sha256,
        credential_id=row.credential_id,
        credential_type=row.credential_type,
        issuer=row.issuer,
        stored_at=_utc(row.stored_at),
    )


def _link_from_row(row: Row[Any]) -> LinkRecord:
    return LinkRecord(
        identifier=row.identifier,
        link_type=row.link_type,
        href=row.href,
        title=row.title,
        media_type=row.media_type,
        language=row.language,
        default=bool(row.is_default),
    )


def _check_credential(item: NewCredential) -> None:
    if not isinstance(item.uri, str) or not item.uri:
        raise TypeError(f"credential URI must be a non-empty string, got {item.uri!r}")
    if not isinstance(item.content, bytes):
        raise TypeError(
            f"content of credential {item.uri} must be bytes, got {type(item.content).__name__}: "
            "encode text as UTF-8 before storing it"
        )
    if isinstance(item.subject_ids, str):
        raise TypeError(
            f"subject_ids of credential {item.uri} must be a sequence of strings, not one string"
        )


def _create_private_file(path: Path) -> None:
    """Create a new store file with mode 0600, because the store contains (encrypted) signing keys.

    SQLite gives its journal files the mode of the database file. An existing file is left as
    it is.
    """
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StoreError(
            f"cannot create the store file {path}: {error}. Choose a writable location."
        ) from error
    os.close(descriptor)


def _url_for(location: str | Path) -> URL:
    """Turn a file path or an SQLAlchemy URL into a URL, creating a file's parent directory."""
    text = str(location)
    if isinstance(location, Path) or "://" not in text:
        path = Path(text).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot create the directory {path.parent} for the store {path}: {error}. "
                "Choose a writable location or create the directory first."
            ) from error
        _create_private_file(path)
        return URL.create("sqlite+pysqlite", database=str(path))
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as error:
        redacted_url = _PASSWORD_IN_URL.sub(r"\1***@", text)
        raise StoreError(
            f"invalid database URL {redacted_url!r}: {error}. Pass a file path or a URL such as "
            "sqlite:///valuetrace.db or postgresql+psycopg://user@host/dbname"
        ) from error


def _is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_plain_engine(location: str | Path) -> tuple[Engine, str]:
    """Create the engine of the database at a file path or URL, without checking its schema.

    Returns the engine and the URL with its password hidden, for messages.
    """
    url = _url_for(location)
    redacted_url = url.render_as_string(hide_password=True)
    options: dict[str, Any] = {}
    if _is_sqlite_memory(url):
        # One shared connection, or every new connection would see an empty database.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as error:
        raise StoreError(
            f"cannot open the store {redacted_url}: {error}. Check the URL's dialect and "
            "install its database driver (for PostgreSQL: pip install psycopg)."
        ) from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_pragmas)
    return engine, redacted_url


def create_store_engine(location: str | Path) -> tuple[Engine, str]:
    """Create the engine of the database at a file path or URL, with an up-to-date schema.

    Returns the engine and the URL with its password hidden, for messages. Raises StoreError
    when the database cannot be opened or has a schema that needs ``valuetrace db upgrade``.
    """
    engine, redacted_url = create_plain_engine(location)
    try:
        ensure_schema(engine, redacted_url)
    except SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(
            f"cannot open the store {redacted_url}: {describe_database_error(error)}. Check "
            "that the location is a valuetrace database (or a new file), that it is writable, "
            "and that the database server accepts the connection."
        ) from error
    except StoreError:
        engine.dispose()
        raise
    return engine, redacted_url


class Store:
    """Credentials, DID documents, resolver links and encrypted signing keys in one database.

    Open it with :meth:`open`. SQLite is the default, and any SQLAlchemy URL (PostgreSQL
    included) works. A file or server database may be used from several threads. The
    in-memory database shares one connection, so use it from one thread at a time.
    """

    def __init__(self, engine: Engine, location: str) -> None:
        self._engine = engine
        self.location = location

    @classmethod
    def open(cls, location: str | Path) -> Store:
        """Open the store at a file path or SQLAlchemy URL, creating the tables if missing.

        A file path gives an SQLite file and creates its parent directory. ``sqlite://`` gives
        a private in-memory database that lives until :meth:`close`. A new database gets every
        table through the migrations, and an SQLite database of an older schema is upgraded.
        Raises StoreError naming the location when the database cannot be opened, or when a
        server database has an older schema (run ``valuetrace db upgrade`` then).
        """
        engine, redacted_url = create_store_engine(location)
        LOGGER.info("opened store %s", redacted_url)
        return cls(engine, redacted_url)

    def close(self) -> None:
        """Close all database connections. An in-memory store loses its data."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _writing(self, action: str) -> Iterator[Connection]:
        """Run one transaction, turning database errors into StoreError."""
        try:
            with self._engine.begin() as connection:
                yield connection
        except StoreError:
            raise
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot {action} in the store {self.location}: {describe_database_error(error)}"
            ) from error

    # Credentials

    def put_credential(
        self,
        uri: str,
        content: bytes,
        *,
        media_type: str = DEFAULT_MEDIA_TYPE,
        credential_id: str | None = None,
        credential_type: str | None = None,
        issuer: str | None = None,
        subject_ids: Sequence[str] = (),
        replace: bool = False,
    ) -> StoredCredential:
        """Store a credential's exact bytes under ``uri`` and return the stored record.

        ``subject_ids`` are the credential subject identifiers that :meth:`find_credentials`
        searches. Raises StoreError if ``uri`` is already stored, unless ``replace`` is true.
        """
        item = NewCredential(
            uri=uri,
            content=content,
            media_type=media_type,
            credential_id=credential_id,
            credential_type=credential_type,
            issuer=issuer,
            subject_ids=subject_ids,
        )
        return self._insert_credentials([item], replace=replace)[0]

    def put_credentials(self, items: Iterable[NewCredential], *, replace: bool = False) -> int:
        """Insert many credentials in one transaction and return how many were stored.

        Either all are stored or none. Raises StoreError naming the first URI that is
        already stored or repeated in ``items``, unless ``replace`` is true.
        """
        return len(self._insert_credentials(list(items), replace=replace))

    def _insert_credentials(
        self, items: Sequence[NewCredential], *, replace: bool
    ) -> list[StoredCredential]:
        seen: set[str] = set()
        for item in items:
            _check_credential(item)
            if item.uri in seen:
                raise StoreError(
                    f"credential {item.uri} appears twice in one insert: store each URI once"
                )
            seen.add(item.uri)

        stored_at = datetime.now(UTC)
        records = [
            StoredCredential(
                uri=item.uri,
                content=item.content,
                media_type=item.media_type,
                sha256=hashlib.sha256(item.content).hexdigest(),
                credential_id=item.credential_id,
                credential_type=item.credential_type,
                issuer=item.issuer,
                stored_at=stored_at,
            )
            for item in items
        ]
        subject_rows = [
            {"credential_uri": item.uri, "subject_id": subject_id}
            for item in items
            for subject_id in dict.fromkeys(item.subject_ids)
        ]
        uris = [item.uri for item in items]

        with self._writing("store credentials") as connection:
            if replace:
                for chunk in _chunks(uris):
                    connection.execute(
                        delete(credential_subjects).where(
                            credential_subjects.c.credential_uri.in_(chunk)
                        )
                    )
                    connection.execute(delete(credentials).where(credentials.c.uri.in_(chunk)))
            else:
                self._reject_existing(connection, uris)
            if records:
                try:
                    connection.execute(insert(credentials), [asdict(record) for record in records])
                except IntegrityError as error:
                    # Another writer stored one of these URIs after the check above.
                    raise StoreError(
                        f"another writer stored one of these {len(uris)} credentials "
                        f"(the first is {uris[0]}) during this insert: retry, or pass "
                        "replace=True to overwrite them"
                    ) from error
            if subject_rows:
                connection.execute(insert(credential_subjects), subject_rows)
        LOGGER.debug("stored %d credentials", len(records))
        return records

    @staticmethod
    def _reject_existing(connection: Connection, uris: Sequence[str]) -> None:
        for chunk in _chunks(uris):
            existing = connection.execute(
                select(credentials.c.uri).where(credentials.c.uri.in_(chunk)).limit(1)
            ).scalar()
            if existing is not None:
                raise StoreError(
                    f"credential {existing} is already stored: pass replace=True to "
                    "overwrite it, or store the new credential under another URI"
                )

    def get_credential(self, uri: str) -> StoredCredential | None:
        """Return the credential stored under ``uri``, or None."""
        with self._engine.connect() as connection:
            row = connection.execute(select(credentials).where(credentials.c.uri == uri)).first()
        return None if row is None else _credential_from_row(row)

    def get_credentials(self, uris: Sequence[str]) -> dict[str, StoredCredential]:
        """Return the stored credentials among ``uris`` as a dict keyed by URI.

        URIs that are not stored are absent from the dict. Uses one query per 500 URIs.
        """
        unique = list(dict.fromkeys(uris))
        found: dict[str, StoredCredential] = {}
        with self._engine.connect() as connection:
            for chunk in _chunks(unique):
                rows = connection.execute(select(credentials).where(credentials.c.uri.in_(chunk)))
                for row in rows:
                    found[row.uri] = _credential_from_row(row)
        return found

    def find_credentials(
        self,
        *,
        credential_type: str | None = None,
        issuer: str | None = None,
        subject_id: str | None = None,
    ) -> list[StoredCredential]:
        """Return the credentials that match every given filter, oldest first.

        With no filter, every stored credential is returned.
        """
        conditions: list[ColumnElement[bool]] = []
        if credential_type is not None:
            conditions.append(credentials.c.credential_type == credential_type)
        if issuer is not None:
            conditions.append(credentials.c.issuer == issuer)
        if subject_id is not None:
            subjects = select(credential_subjects.c.credential_uri).where(
                credential_subjects.c.subject_id == subject_id
            )
            conditions.append(credentials.c.uri.in_(subjects))
        query = (
            select(credentials)
            .where(*conditions)
            .order_by(credentials.c.stored_at, credentials.c.uri)
        )
        with self._engine.connect() as connection:
            return [_credential_from_row(row) for row in connection.execute(query)]

    def count_credentials(self) -> int:
        """Return the number of stored credentials."""
        with self._engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(credentials)).scalar_one()
        return int(count)

    # DID documents

    def put_did_document(
        self, did: str, document: Mapping[str, Any], *, replace: bool = True
    ) -> None:
        """Store the DID document of ``did``, replacing an earlier one unless ``replace`` is false.

        Raises StoreError if the document is not JSON-serialisable, or if ``did`` already has
        a document and ``replace`` is false.
        """
        try:
            plain = json.loads(json.dumps(dict(document)))
        except (TypeError, ValueError) as error:
            raise StoreError(
                f"the DID document of {did} cannot be stored as JSON: {error}. "
                "Pass only dicts, lists, strings, numbers, booleans and None."
            ) from error
        row = {"did": did, "document": plain, "stored_at": datetime.now(UTC)}
        with self._writing(f"store the DID document of {did}") as connection:
            exists = connection.execute(
                select(did_documents.c.did).where(did_documents.c.did == did)
            ).first()
            if exists is None:
                connection.execute(insert(did_documents), row)
            elif replace:
                connection.execute(
                    update(did_documents).where(did_documents.c.did == did).values(row)
                )
            else:
                raise StoreError(
                    f"a DID document of {did} is already stored: pass replace=True to overwrite it"
                )

    def get_did_document(self, did: str) -> dict[str, Any] | None:
        """Return the stored DID document of ``did``, or None."""
        with self._engine.connect() as connection:
            document = connection.execute(
                select(did_documents.c.document).where(did_documents.c.did == did)
            ).scalar()
        return None if document is None else dict(document)

    # Signing keys

    def put_key(self, kid: str, encrypted_key: bytes, *, replace: bool = False) -> None:
        """Store an encrypted signing key under the key id ``kid``.

        Raises StoreError if ``kid`` is already stored, unless ``replace`` is true.
        """
        if not isinstance(encrypted_key, bytes):
            raise TypeError(
                f"encrypted key {kid} must be bytes, got {type(encrypted_key).__name__}"
            )
        row = {"kid": kid, "encrypted_key": encrypted_key, "stored_at": datetime.now(UTC)}
        with self._writing(f"store the signing key {kid}") as connection:
            exists = connection.execute(
                select(signing_keys.c.kid).where(signing_keys.c.kid == kid)
            ).first()
            if exists is None:
                connection.execute(insert(signing_keys), row)
            elif replace:
                connection.execute(
                    update(signing_keys).where(signing_keys.c.kid == kid).values(row)
                )
            else:
                raise StoreError(
                    f"signing key {kid} is already stored: pass replace=True to overwrite it, "
                    "or choose another key id"
                )

    def get_key(self, kid: str) -> bytes | None:
        """Return the encrypted signing key stored under ``kid``, or None."""
        with self._engine.connect() as connection:
            blob = connection.execute(
                select(signing_keys.c.encrypted_key).where(signing_keys.c.kid == kid)
            ).scalar()
        return None if blob is None else bytes(blob)

    def list_keys(self) -> list[str]:
        """Return the ids of all stored signing keys, sorted."""
        with self._engine.connect() as connection:
            kids = connection.execute(select(signing_keys.c.kid).order_by(signing_keys.c.kid))
            return list(kids.scalars())

    # Links

    def put_link(self, link: LinkRecord) -> None:
        """Store a resolver link, updating the stored link with the same target if there is one.

        Links are the same when identifier key path, link type, href and language are equal. A
        new default link clears the default flag of the identifier's other links, so that each
        identifier has at most one. Raises DigitalLinkError if the identifier is not a valid
        GS1 Digital Link.
        """
        key_path = parse_digital_link(link.identifier).path
        same_language = (
            links.c.language.is_(None)
            if link.language is None
            else links.c.language == link.language
        )
        row = {
            "key_path": key_path,
            "identifier": link.identifier,
            "link_type": link.link_type,
            "href": link.href,
            "title": link.title,
            "media_type": link.media_type,
            "language": link.language,
            "is_default": link.default,
            "stored_at": datetime.now(UTC),
        }
        with self._writing(f"store a link of {link.identifier}") as connection:
            if link.default:
                connection.execute(
                    update(links).where(links.c.key_path == key_path).values(is_default=False)
                )
            existing = connection.execute(
                select(links.c.id).where(
                    links.c.key_path == key_path,
                    links.c.link_type == link.link_type,
                    links.c.href == link.href,
                    same_language,
                )
            ).scalar()
            if existing is None:
                connection.execute(insert(links), row)
            else:
                connection.execute(update(links).where(links.c.id == existing).values(row))

    def get_links(self, identifier: str) -> list[LinkRecord]:
        """Return the links stored for exactly this identifier, in the order they were added.

        Identifiers match by GS1 key path, so any host names the same identifier. Raises
        DigitalLinkError if ``identifier`` is not a valid GS1 Digital Link.
        """
        key_path = parse_digital_link(identifier).path
        query = select(links).where(links.c.key_path == key_path).order_by(links.c.id)
        with self._engine.connect() as connection:
            return [_link_from_row(row) for row in connection.execute(query)]

    def get_links_by_paths(self, key_paths: Sequence[str]) -> dict[str, list[LinkRecord]]:
        """Return the links stored for many GS1 key paths, in the order they were added."""
        found: dict[str, list[LinkRecord]] = {}
        with self._engine.connect() as connection:
            for chunk in _chunks(list(dict.fromkeys(key_paths))):
                query = select(links).where(links.c.key_path.in_(chunk)).order_by(links.c.id)
                for row in connection.execute(query):
                    found.setdefault(row.key_path, []).append(_link_from_row(row))
        return found

"""The store on SQLite, as a file and in memory. Other databases can join via ``store_url``."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from valuetrace.errors import DigitalLinkError, StoreError
from valuetrace.resolver import LinkRecord
from valuetrace.store import NewCredential, Store, StoredCredential

DPP_URI = "https://credentials.valuetrace.example/dpp/battery-1.json"
ISSUER = "did:web:maker.valuetrace.example"
PRODUCT = "https://id.gs1.org/01/09520123456788/21/SN-0001"
# Bytes that JSON tools would change: key order, spacing, escapes, a trailing newline.
CONTENT = b'{"type": ["VerifiableCredential", "DigitalProductPassport"],  "name":"caf\\u00e9"}\n'


@pytest.fixture(params=["memory", "file-path", "file-url", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Location of an empty store: SQLite in memory, in a file, and a new PostgreSQL database."""
    if request.param == "memory":
        return "sqlite://"
    if request.param == "file-path":
        return tmp_path / "nested" / "dir" / "store.db"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(store_url: str | Path) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


def test_credential_round_trip(store: Store) -> None:
    stored = store.put_credential(
        DPP_URI,
        CONTENT,
        credential_id="urn:uuid:0b1e2f64-1d2c-4c1b-9a57-6c0f3c2b8a10",
        credential_type="DigitalProductPassport",
        issuer=ISSUER,
        subject_ids=[PRODUCT],
    )
    loaded = store.get_credential(DPP_URI)

    assert loaded == stored
    assert loaded is not None
    assert loaded.content == CONTENT
    assert loaded.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert loaded.media_type == "application/vc"
    assert loaded.credential_id == "urn:uuid:0b1e2f64-1d2c-4c1b-9a57-6c0f3c2b8a10"
    assert loaded.credential_type == "DigitalProductPassport"
    assert loaded.issuer == ISSUER


def test_credential_binary_content_exact(store: Store) -> None:
    content = bytes(range(256)) * 4

    store.put_credential(DPP_URI, content, media_type="application/vc+jwt")
    loaded = store.get_credential(DPP_URI)

    assert loaded is not None
    assert loaded.content == content
    assert loaded.media_type == "application/vc+jwt"


def test_credential_stored_at_is_utc(store: Store) -> None:
    before = datetime.now(UTC)
    store.put_credential(DPP_URI, CONTENT)
    loaded = store.get_credential(DPP_URI)

    assert loaded is not None
    assert loaded.stored_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= loaded.stored_at <= datetime.now(UTC)


def test_missing_credential_is_none(store: Store) -> None:
    assert store.get_credential(DPP_URI) is None


def test_duplicate_uri_rejected(store: Store) -> None:
    store.put_credential(DPP_URI, CONTENT)

    with pytest.raises(StoreError, match="already stored") as caught:
        store.put_credential(DPP_URI, b"{}")

    assert DPP_URI in str(caught.value)
    assert "replace=True" in str(caught.value)
    kept = store.get_credential(DPP_URI)
    assert kept is not None
    assert kept.content == CONTENT


def test_replace_overwrites_credential(store: Store) -> None:
    store.put_credential(DPP_URI, CONTENT, issuer=ISSUER, subject_ids=[PRODUCT])

    store.put_credential(DPP_URI, b"{}", issuer="did:web:other.example", replace=True)
    loaded = store.get_credential(DPP_URI)

    assert loaded is not None
    assert loaded.content == b"{}"
    assert loaded.sha256 == hashlib.sha256(b"{}").hexdigest()
    assert store.find_credentials(subject_id=PRODUCT) == []
    assert store.find_credentials(issuer=ISSUER) == []
    assert store.count_credentials() == 1


def test_text_content_rejected(store: Store) -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        store.put_credential(DPP_URI, "{}")  # type: ignore[arg-type]


def test_get_credentials_many(store: Store) -> None:
    uris = [f"https://credentials.valuetrace.example/{index}" for index in range(1200)]
    store.put_credentials(NewCredential(uri=uri, content=uri.encode()) for uri in uris)
    wanted = [*uris[::2], "https://credentials.valuetrace.example/missing", uris[0]]

    found = store.get_credentials(wanted)

    assert set(found) == set(uris[::2])
    assert found[uris[10]].content == uris[10].encode()


def test_find_credentials_filters(store: Store) -> None:
    store.put_credential(
        "https://c.example/dpp",
        b"1",
        credential_type="DigitalProductPassport",
        issuer=ISSUER,
        subject_ids=[PRODUCT, PRODUCT],
    )
    store.put_credential(
        "https://c.example/dcc",
        b"2",
        credential_type="DigitalConformityCredential",
        issuer="did:web:auditor.example",
        subject_ids=[PRODUCT, "https://facility.example/f1"],
    )
    store.put_credential(
        "https://c.example/dfr",
        b"3",
        credential_type="DigitalFacilityRecord",
        issuer=ISSUER,
        subject_ids=["https://facility.example/f1"],
    )

    def uris(found: list[StoredCredential]) -> set[str]:
        return {item.uri for item in found}

    assert uris(store.find_credentials(issuer=ISSUER)) == {
        "https://c.example/dpp",
        "https://c.example/dfr",
    }
    assert uris(store.find_credentials(credential_type="DigitalFacilityRecord")) == {
        "https://c.example/dfr"
    }
    assert uris(store.find_credentials(subject_id=PRODUCT)) == {
        "https://c.example/dpp",
        "https://c.example/dcc",
    }
    assert uris(
        store.find_credentials(subject_id="https://facility.example/f1", issuer=ISSUER)
    ) == {"https://c.example/dfr"}
    assert store.find_credentials(subject_id="https://unknown.example") == []
    assert len(store.find_credentials()) == 3


def test_bulk_insert_ten_thousand(store: Store) -> None:
    items = [
        NewCredential(
            uri=f"https://credentials.valuetrace.example/dte/{index}",
            content=b'{"n": %d}' % index,
            credential_type="DigitalTraceabilityEvent",
            issuer=ISSUER,
            subject_ids=(f"https://id.gs1.org/01/09520123456788/21/{index}",),
        )
        for index in range(10_000)
    ]

    assert store.put_credentials(items) == 10_000
    assert store.count_credentials() == 10_000
    last = store.get_credential("https://credentials.valuetrace.example/dte/9999")
    assert last is not None
    assert last.content == b'{"n": 9999}'
    by_subject = store.find_credentials(subject_id="https://id.gs1.org/01/09520123456788/21/42")
    assert [item.uri for item in by_subject] == ["https://credentials.valuetrace.example/dte/42"]


def test_bulk_insert_is_atomic(store: Store) -> None:
    store.put_credential("https://c.example/3", b"old")
    items = [NewCredential(uri=f"https://c.example/{index}", content=b"new") for index in range(5)]

    with pytest.raises(StoreError, match=re.escape("https://c.example/3 is already stored")):
        store.put_credentials(items)

    assert store.count_credentials() == 1


def test_bulk_insert_repeated_uri_rejected(store: Store) -> None:
    items = [NewCredential(uri="https://c.example/1", content=b"a")] * 2

    with pytest.raises(StoreError, match=re.escape("https://c.example/1 appears twice")):
        store.put_credentials(items)

    assert store.count_credentials() == 0


def test_bulk_insert_replace(store: Store) -> None:
    store.put_credential("https://c.example/1", b"old")
    items = [NewCredential(uri=f"https://c.example/{index}", content=b"new") for index in range(3)]

    assert store.put_credentials(items, replace=True) == 3

    replaced = store.get_credential("https://c.example/1")
    assert replaced is not None
    assert replaced.content == b"new"
    assert store.count_credentials() == 3


def test_did_document_round_trip(store: Store) -> None:
    did = "did:web:maker.valuetrace.example"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [{"id": f"{did}#key-1", "type": "JsonWebKey", "n": 1.5}],
    }

    store.put_did_document(did, document)

    assert store.get_did_document(did) == document
    assert store.get_did_document("did:web:unknown.example") is None


def test_did_document_replace(store: Store) -> None:
    did = "did:web:maker.valuetrace.example"
    store.put_did_document(did, {"id": did, "version": 1})

    store.put_did_document(did, {"id": did, "version": 2})
    assert store.get_did_document(did) == {"id": did, "version": 2}

    with pytest.raises(StoreError, match="already stored"):
        store.put_did_document(did, {"id": did, "version": 3}, replace=False)
    assert store.get_did_document(did) == {"id": did, "version": 2}


def test_did_document_not_json_rejected(store: Store) -> None:
    with pytest.raises(StoreError, match="cannot be stored as JSON"):
        store.put_did_document("did:web:a.example", {"created": datetime.now(UTC)})


def test_signing_keys(store: Store) -> None:
    store.put_key("did:web:b.example#key-2", b"\x00encrypted-2")
    store.put_key("did:web:a.example#key-1", b"\x00encrypted-1")

    assert store.get_key("did:web:a.example#key-1") == b"\x00encrypted-1"
    assert store.get_key("did:web:missing.example#key-1") is None
    assert store.list_keys() == ["did:web:a.example#key-1", "did:web:b.example#key-2"]


def test_signing_key_duplicate_rejected(store: Store) -> None:
    store.put_key("kid-1", b"first")

    with pytest.raises(StoreError, match="signing key kid-1 is already stored"):
        store.put_key("kid-1", b"second")
    assert store.get_key("kid-1") == b"first"

    store.put_key("kid-1", b"second", replace=True)
    assert store.get_key("kid-1") == b"second"


def test_links_match_any_host(store: Store) -> None:
    link = LinkRecord(
        identifier="https://id.valuetrace.example/01/09520123456788",
        link_type="https://test.uncefact.org/vocabulary/linkTypes/dpp",
        href="https://credentials.valuetrace.example/dpp/1.json",
        title="Product passport",
    )
    store.put_link(link)

    assert store.get_links("https://id.gs1.org/01/9520123456788") == [link]
    assert store.get_links("https://id.gs1.org/01/09520123456788/10/L1") == []


def test_link_stored_again_is_updated(store: Store) -> None:
    identifier = "https://id.valuetrace.example/01/09520123456788"
    first = LinkRecord(identifier, "https://ref.gs1.org/voc/pip", "https://a.example/1", "Old")
    second = LinkRecord(identifier, "https://ref.gs1.org/voc/pip", "https://a.example/2", "Two")
    store.put_link(first)
    store.put_link(second)

    renamed = LinkRecord(identifier, "https://ref.gs1.org/voc/pip", "https://a.example/1", "New")
    store.put_link(renamed)

    assert store.get_links(identifier) == [renamed, second]


def test_link_invalid_identifier_rejected(store: Store) -> None:
    link = LinkRecord("https://id.gs1.org/01/09520123456789", "https://x.example/t", "h", "t")

    with pytest.raises(DigitalLinkError, match="check digit"):
        store.put_link(link)


def test_file_store_persists(tmp_path: Path) -> None:
    location = tmp_path / "store.db"
    with Store.open(location) as store:
        store.put_credential(DPP_URI, CONTENT)
        store.put_key("kid-1", b"blob")

    with Store.open(location) as reopened:
        loaded = reopened.get_credential(DPP_URI)
        assert loaded is not None
        assert loaded.content == CONTENT
        assert reopened.list_keys() == ["kid-1"]


def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    location = tmp_path / "store.db"
    with Store.open(location) as store:
        store.put_key("kid-1", b"blob")

    with sqlite3.connect(location) as connection:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_sqlite_foreign_keys_enabled(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store.db") as store, store._engine.connect() as connection:
        enabled = connection.execute(text("PRAGMA foreign_keys")).scalar()
    assert enabled == 1


def test_open_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")

    with pytest.raises(StoreError, match="cannot create the directory") as caught:
        Store.open(blocker / "store.db")

    assert str(blocker) in str(caught.value)


def test_open_unknown_dialect() -> None:
    with pytest.raises(StoreError, match="nosuchdb://") as caught:
        Store.open("nosuchdb://user:secret@127.0.0.1/db")

    assert "secret" not in str(caught.value)
    assert "install" in str(caught.value)


def test_open_malformed_url() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        Store.open("not a url://")


def test_open_malformed_url_hides_password() -> None:
    with pytest.raises(StoreError, match="invalid database URL") as caught:
        Store.open("postgresql://user:secret@127.0.0.1:port/db")

    assert "secret" not in str(caught.value)
    assert "user:***@" in str(caught.value)


def test_new_store_file_private(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    with Store.open(path) as store:
        store.put_key("did:web:a.valuetrace.example#key-1", b"encrypted")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

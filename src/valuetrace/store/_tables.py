"""Table definitions of the store, in portable SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "credential_subjects",
    "credentials",
    "did_documents",
    "links",
    "metadata",
    "signing_keys",
]

metadata = MetaData()

credentials = Table(
    "credentials",
    metadata,
    Column("uri", Text, primary_key=True),
    # The exact bytes as published, because link hashes are computed over them.
    Column("content", LargeBinary, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("credential_id", Text),
    Column("credential_type", String(255)),
    Column("issuer", Text),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    Index("ix_credentials_credential_id", "credential_id"),
    Index("ix_credentials_type_issuer", "credential_type", "issuer"),
    Index("ix_credentials_issuer", "issuer"),
)

credential_subjects = Table(
    "credential_subjects",
    metadata,
    Column(
        "credential_uri",
        Text,
        ForeignKey("credentials.uri", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("subject_id", Text, primary_key=True),
    Index("ix_credential_subjects_subject_id", "subject_id"),
)

did_documents = Table(
    "did_documents",
    metadata,
    Column("did", Text, primary_key=True),
    Column("document", JSON, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

# Contains encrypted private keys. The store cannot check that a blob is encrypted, so
# callers encrypt before Store.put_key.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("encrypted_key", LargeBinary, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The host-independent GS1 key path such as /01/09520123456788/10/ABC1, used for lookups.
    Column("key_path", Text, nullable=False),
    Column("identifier", Text, nullable=False),
    Column("link_type", Text, nullable=False),
    Column("href", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("language", String(35)),
    Column("is_default", Boolean, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    Index("ix_links_key_path", "key_path"),
)

"""Create the store tables: credentials, credential subjects, DID documents, signing keys, links.

These are the tables that Store.open created before the database had migrations, so a store
without an ``alembic_version`` table is at this revision.

Revision ID: 0001_store
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_store"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.Text(), nullable=True),
        sa.Column("credential_type", sa.String(length=255), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uri"),
    )
    op.create_index("ix_credentials_credential_id", "credentials", ["credential_id"])
    op.create_index("ix_credentials_issuer", "credentials", ["issuer"])
    op.create_index("ix_credentials_type_issuer", "credentials", ["credential_type", "issuer"])

    op.create_table(
        "credential_subjects",
        sa.Column("credential_uri", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["credential_uri"], ["credentials.uri"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("credential_uri", "subject_id"),
    )
    op.create_index("ix_credential_subjects_subject_id", "credential_subjects", ["subject_id"])

    op.create_table(
        "did_documents",
        sa.Column("did", sa.Text(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("did"),
    )

    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.Text(), nullable=False),
        sa.Column("encrypted_key", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid"),
    )

    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_path", sa.Text(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("link_type", sa.Text(), nullable=False),
        sa.Column("href", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_links_key_path", "links", ["key_path"])


def downgrade() -> None:
    op.drop_table("links")
    op.drop_table("signing_keys")
    op.drop_table("did_documents")
    op.drop_table("credential_subjects")
    op.drop_table("credentials")

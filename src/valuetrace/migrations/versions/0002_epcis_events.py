"""Create the EPCIS event repository tables: capture jobs, events and their query indexes.

Revision ID: 0002_epcis_events
Revises: 0001_store
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_epcis_events"
down_revision: str | None = "0001_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _identifier() -> sa.types.TypeEngine[str]:
    # Bytewise comparison on PostgreSQL too, so that prefix matches can use the indexes.
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "epcis_capture_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("captured", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "epcis_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", _identifier(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("biz_step", _identifier(), nullable=True),
        sa.Column("disposition", _identifier(), nullable=True),
        sa.Column("read_point", _identifier(), nullable=True),
        sa.Column("biz_location", _identifier(), nullable=True),
        sa.Column("transformation_id", _identifier(), nullable=True),
        sa.Column("error_declaration_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_reason", _identifier(), nullable=True),
        sa.Column("capture_job_id", sa.String(length=36), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["capture_job_id"], ["epcis_capture_jobs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    for column in (
        "action",
        "biz_location",
        "biz_step",
        "capture_job_id",
        "disposition",
        "event_time",
        "event_type",
        "read_point",
        "record_time",
        "transformation_id",
    ):
        op.create_index(f"ix_epcis_events_{column}", "epcis_events", [column])

    op.create_table(
        "epcis_event_epcs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("identifier", _identifier(), nullable=False),
        sa.Column("class_identifier", _identifier(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("uom", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["event_pk"], ["epcis_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_epcis_event_epcs_class_identifier", "epcis_event_epcs", ["class_identifier"]
    )
    op.create_index("ix_epcis_event_epcs_event_pk", "epcis_event_epcs", ["event_pk"])
    op.create_index(
        "ix_epcis_event_epcs_identifier_role", "epcis_event_epcs", ["identifier", "role"]
    )

    op.create_table(
        "epcis_event_parties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("party_type", _identifier(), nullable=False),
        sa.Column("party_id", _identifier(), nullable=False),
        sa.ForeignKeyConstraint(["event_pk"], ["epcis_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_epcis_event_parties_event_pk", "epcis_event_parties", ["event_pk"])
    op.create_index(
        "ix_epcis_event_parties_side_type_id",
        "epcis_event_parties",
        ["side", "party_type", "party_id"],
    )

    op.create_table(
        "epcis_event_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("transaction_type", _identifier(), nullable=False),
        sa.Column("transaction_id", _identifier(), nullable=False),
        sa.ForeignKeyConstraint(["event_pk"], ["epcis_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_epcis_event_transactions_event_pk", "epcis_event_transactions", ["event_pk"]
    )
    op.create_index(
        "ix_epcis_event_transactions_type_id",
        "epcis_event_transactions",
        ["transaction_type", "transaction_id"],
    )


def downgrade() -> None:
    op.drop_table("epcis_event_transactions")
    op.drop_table("epcis_event_parties")
    op.drop_table("epcis_event_epcs")
    op.drop_table("epcis_events")
    op.drop_table("epcis_capture_jobs")

"""Tables of the EPCIS event repository, in portable SQLAlchemy Core (SQLite and PostgreSQL).

``epcis_events`` keeps every event as captured. The other tables index the fields that the
standard queries and the trace filter on, always in canonical form: identifiers as GS1 Digital
Link URIs on https://id.gs1.org and CBV values as https://ref.gs1.org/cbv/ URIs.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

__all__ = [
    "ROLES",
    "capture_jobs",
    "event_epcs",
    "event_parties",
    "event_transactions",
    "events",
    "metadata",
]

metadata = MetaData()

# Identifier columns compare bytewise on both databases: SQLite's default collation is binary,
# and PostgreSQL needs the "C" collation so that prefix matches (LIKE 'abc%') can use an index.
IdentifierText = Text().with_variant(Text(collation="C"), "postgresql")

# The role of an identifier in an event, one per EPCIS list it came from.
ROLES = (
    "epc",  # epcList
    "parent",  # parentID
    "child",  # childEPCs
    "input",  # inputEPCList
    "output",  # outputEPCList
    "epcClass",  # quantityList
    "childEPCClass",  # childQuantityList
    "inputEPCClass",  # inputQuantityList
    "outputEPCClass",  # outputQuantityList
)

capture_jobs = Table(
    "epcis_capture_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("running", Boolean, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("captured", Integer, nullable=False),
    # A list of {"path", "rule", "message"} objects, empty when the capture succeeded.
    Column("errors", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

events = Table(
    "epcis_events",
    metadata,
    # Capture order, which is also the stable order of query results and page tokens.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", IdentifierText, nullable=False, unique=True),
    Column("event_type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("record_time", DateTime(timezone=True), nullable=False),
    Column("action", String(16)),
    Column("biz_step", IdentifierText),
    Column("disposition", IdentifierText),
    Column("read_point", IdentifierText),
    Column("biz_location", IdentifierText),
    Column("transformation_id", IdentifierText),
    Column("error_declaration_time", DateTime(timezone=True)),
    Column("error_reason", IdentifierText),
    Column("capture_job_id", String(36), ForeignKey("epcis_capture_jobs.id")),
    # The event exactly as captured, as JSON text, so that key order and values come back as sent.
    Column("content", Text, nullable=False),
    # The JSON-LD @context that the event inherited from its document, as JSON text, or null.
    Column("context", Text),
    Index("ix_epcis_events_event_time", "event_time"),
    Index("ix_epcis_events_record_time", "record_time"),
    Index("ix_epcis_events_event_type", "event_type"),
    Index("ix_epcis_events_action", "action"),
    Index("ix_epcis_events_biz_step", "biz_step"),
    Index("ix_epcis_events_disposition", "disposition"),
    Index("ix_epcis_events_read_point", "read_point"),
    Index("ix_epcis_events_biz_location", "biz_location"),
    Index("ix_epcis_events_transformation_id", "transformation_id"),
    Index("ix_epcis_events_capture_job_id", "capture_job_id"),
)

event_epcs = Table(
    "epcis_event_epcs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_pk", Integer, ForeignKey("epcis_events.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("identifier", IdentifierText, nullable=False),
    # The class an instance or lot belongs to (the GTIN level https://id.gs1.org/01/<GTIN>),
    # or null when the identifier has no class.
    Column("class_identifier", IdentifierText),
    # Exact decimal quantity and UN/ECE unit code of a quantity list entry.
    Column("quantity", Numeric(38, 12)),
    Column("uom", String(8)),
    Index("ix_epcis_event_epcs_identifier_role", "identifier", "role"),
    Index("ix_epcis_event_epcs_class_identifier", "class_identifier"),
    Index("ix_epcis_event_epcs_event_pk", "event_pk"),
)

event_transactions = Table(
    "epcis_event_transactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_pk", Integer, ForeignKey("epcis_events.id", ondelete="CASCADE"), nullable=False),
    # The canonical CBV type URI, or "" when the business transaction has no type.
    Column("transaction_type", IdentifierText, nullable=False),
    Column("transaction_id", IdentifierText, nullable=False),
    Index("ix_epcis_event_transactions_type_id", "transaction_type", "transaction_id"),
    Index("ix_epcis_event_transactions_event_pk", "event_pk"),
)

# Sources and destinations of events.
event_parties = Table(
    "epcis_event_parties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_pk", Integer, ForeignKey("epcis_events.id", ondelete="CASCADE"), nullable=False),
    # "source" or "destination".
    Column("side", String(16), nullable=False),
    Column("party_type", IdentifierText, nullable=False),
    Column("party_id", IdentifierText, nullable=False),
    Index("ix_epcis_event_parties_side_type_id", "side", "party_type", "party_id"),
    Index("ix_epcis_event_parties_event_pk", "event_pk"),
)

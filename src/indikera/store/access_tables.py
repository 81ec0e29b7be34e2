"""Access tables: CPUA agreements with consumers and the append-only audit log.

``audit_log`` refuses UPDATE and DELETE through database triggers (migration 0003): rows are only added.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text

from .metadata import metadata
from .tables import Id

agreements = Table(
    "agreements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("consumer_hsa_id", String(100), nullable=False),
    Column("reference", String(200), nullable=False),  # the CPUA agreement's reference
    Column("indicator_id", Id, ForeignKey("indicators.id")),  # NULL: every restricted indicator
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),  # inclusive; NULL: open-ended
    Column("note", Text, nullable=False, server_default=""),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_by", String(200)),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_agreements_consumer_hsa_id", "consumer_hsa_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("channel", String(20), nullable=False),  # soap | opendata | web | admin | cli
    Column("operation", String(100), nullable=False),
    Column("platform_id", String(200)),
    Column("consumer_hsa_id", String(100)),
    Column("actor", String(200)),  # who did an admin/CLI action (token name, certificate HSA-id, OS user)
    Column("correlation_id", String(200)),
    Column("logical_address", String(200)),
    Column("requested", JSON),  # requested measure ids, period, parameters (never secrets)
    Column("returned", Integer, nullable=False, server_default="0"),
    Column("withheld", Integer, nullable=False, server_default="0"),
    Column("outcome", String(50), nullable=False),
    Column("duration_ms", Integer),
    Column("detail", Text),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_consumer_hsa_id", "consumer_hsa_id"),
)

# Admin API tokens made with ``indikera admin token create`` (migration 0007). Only the SHA-256 of each token
# is kept: the token is shown once, when it is made. A token is valid until ``expires_at`` or revocation.
admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),  # what the audit log records as the actor
    Column("token_sha256", String(64), nullable=False, unique=True),  # hex; the token itself is never stored
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_by", String(200)),
    Column("revoked_at", DateTime(timezone=True)),
)

"""Core tables: organisations, indicators, source systems, import batches and measurements.

Table modules of other areas (``catalog_tables``, ``access_tables``) share :data:`metadata`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from .metadata import metadata

# An id column that is BIGINT on PostgreSQL and INTEGER (the rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

organisations = Table(
    "organisations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # "hsa:<hsa-id>" or "oid:<root>:<extension>": how an organisation is found again on import.
    Column("key", String(200), nullable=False, unique=True),
    Column("type", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("hsa_id", String(100)),
    Column("org_root", String(100)),
    Column("org_extension", String(100)),
    Column("parent_id", Id, ForeignKey("organisations.id")),
    Index("ix_organisations_parent_id", "parent_id"),
)

indicators = Table(
    "indicators",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("measure_id", String(64), nullable=False, unique=True),  # KIK id (measureId extension)
    Column("version", Integer, nullable=False),  # current major version
    Column("title", String(500), nullable=False),
    Column("unit_type", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("frequency", String(30), nullable=False),
    Column("levels", JSON, nullable=False),  # list of OrgType values
    Column("parent_measure_id", String(64)),
    Column("sex", String(1)),
    Column("display_threshold", Integer),
)

source_systems = Table(
    "source_systems",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("root", String(100), nullable=False),
    Column("extension", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    UniqueConstraint("root", "extension"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("registry_hsa_id", String(100), nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(20), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # applied | approved | depublished
    Column("approved_by", String(200)),
    Column("approved_at", DateTime(timezone=True)),
    Column("depublished_by", String(200)),
    Column("depublished_at", DateTime(timezone=True)),
    Column("added", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("removed", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Index("ix_batches_registry_hsa_id", "registry_hsa_id"),
)

measurements = Table(
    "measurements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("indicator_id", Id, ForeignKey("indicators.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("organisation_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("stratum", String(30), nullable=False, server_default=""),
    Column("kind", String(20), nullable=False),  # proportion | continuous | cohort | missing
    Column("rate", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("value", Float),
    Column("population", Float),
    Column("cohort", Float),
    Column("reason_code", String(3)),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("standard_deviation", Float),
    Column("coverage", Float),
    Column("exclusions", Float),
    Column("reference_interval", Float),
    Column("first_encounter", Date),
    Column("last_encounter", Date),
    Column("source_system_id", Id, ForeignKey("source_systems.id"), nullable=False),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False),
    # SHA-256 (hex) of the measurement's canonical form; the answer checksum is computed from these
    # alone, so a checksum-only answer never builds the measurements (see contracts.checksum).
    Column("content_hash", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # When the value, as it is now, became visible to the public (approval, opening, correction): the open
    # data's updatedAt/updatedSince (migration 0008, publish.timeline). Null until its batch is approved.
    Column("visible_since", DateTime(timezone=True)),
    UniqueConstraint("indicator_id", "period_start", "period_end", "organisation_id", "stratum"),
    CheckConstraint("kind IN ('proportion','continuous','cohort','missing')", name="kind"),
    # Covers the producer's query (ids + enclosed period) and the checksum (index-only on PostgreSQL).
    Index("ix_measurements_batch_id", "batch_id"),
    Index("ix_measurements_updated_at", "updated_at"),
    Index("ix_measurements_visible_since", "visible_since", "id"),
)

# Every add/change/remove of a measurement, with the values before and after (JSON snapshots).
measurement_history = Table(
    "measurement_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False),
    Column("indicator_id", Id, ForeignKey("indicators.id"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("organisation_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("stratum", String(30), nullable=False, server_default=""),
    Column("operation", String(10), nullable=False),  # added | changed | removed
    Column("before", JSON),
    Column("after", JSON),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_measurement_history_batch_id", "batch_id"),
    Index("ix_measurement_history_recorded_at", "recorded_at"),
    # The removals of one batch, which the change feed lists (migration 0012): without it, every seal of the
    # open data read each approved batch's whole history.
    Index("ix_measurement_history_removed", "batch_id", "id", postgresql_where=text("operation = 'removed'"),
          sqlite_where=text("operation = 'removed'")),
)

# An import's change or removal of a value that is already approved waits here until its batch is approved
# (issue #16: no gap while a correction waits); the value columns are the new row's (migration 0008).
pending_changes = Table(
    "pending_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False),
    Column("measurement_id", Id, nullable=False),
    Column("operation", String(10), nullable=False),  # change | remove
    Column("version", Integer),
    Column("kind", String(20)),
    *(Column(c, Float) for c in ("rate", "numerator", "denominator", "value", "population", "cohort")),
    Column("reason_code", String(3)),
    *(Column(c, Float) for c in ("ci_low", "ci_high", "standard_deviation", "coverage", "exclusions", "reference_interval")),
    Column("first_encounter", Date),
    Column("last_encounter", Date),
    Column("source_system_id", Id),
    Column("content_hash", String(64)),
    Column("updated_at", DateTime(timezone=True)),
    CheckConstraint("operation IN ('change','remove')", name="operation"),
    UniqueConstraint("measurement_id", "batch_id"),
    Index("ix_pending_changes_batch_id", "batch_id"),
)

# Tombstones: the open-data key of every value that stopped being public, when and why (depublished | closed |
# restricted | removed), written with the action; ``/api/v1/results/removed`` lists them (migration 0008).
result_removals = Table(
    "result_removals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("indicator_id", Id, ForeignKey("indicators.id"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("organisation_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("stratum", String(30), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(20), nullable=False),
    Index("ix_result_removals_at", "at", "id"),
)

# Per-database settings that must survive restarts (e.g. the demo marker).
settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# A counter the database bumps (by triggers, migration 0004) on every change to a table an answer depends
# on. Readers use it to know a cached result is still exact; no writer has to remember to invalidate.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# The only tables whose writes do not move ``data_version`` (every other table has the triggers of migrations
# 0004/0006; tests/test_data_version.py checks both lists): what no answer, ETag, page or open data shows.
UNVERSIONED: dict[str, str] = {
    "data_version": "the counter itself",
    "audit_log": "written by every request; no answer or page shows it",
    "settings": "per-database markers (the demo flag) and generated secrets (the cursor key): fixed once written; no answer shows them",
    "admin_tokens": "admin API credentials (hashed); they decide who may write, not what any answer contains",
    "value_groups": "derived from measurements by its triggers (migration 0012), in the same statement as the write that bumps",
    "value_members": "derived from measurements by its triggers (migration 0012), in the same statement as the write that bumps",
}


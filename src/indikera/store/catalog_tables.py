"""Catalogue tables: versioned indicator descriptions and publication control."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from .metadata import metadata
from .tables import Id

# One row per description version (major.minor). The document is the catalogue JSON of one indicator.
indicator_descriptions = Table(
    "indicator_descriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("measure_id", String(64), nullable=False),
    Column("version_major", Integer, nullable=False),
    Column("version_minor", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Review (migration 0009): draft | in_review | approved | published | superseded | rejected. Only
    # published (and superseded) versions reach any channel; a row written without a status is published.
    Column("status", String(20), nullable=False, server_default="published"),
    Column("reason", Text),  # why this version was written
    Column("reviewed_by", String(200)),  # the approver
    Column("reviewed_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),
    Column("next_review_date", Date),
    UniqueConstraint("measure_id", "version_major", "version_minor"),
)

# Append-only history of every review transition of a description version: who, when, why.
description_review_log = Table(
    "description_review_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("description_id", Id, nullable=False),  # no foreign key: the history outlives a version removed by hand
    Column("measure_id", String(64), nullable=False),
    Column("version_major", Integer, nullable=False),
    Column("version_minor", Integer, nullable=False),
    Column("action", String(20), nullable=False),  # create | submit | approve | reject | publish | supersede
    Column("status_before", String(20)),
    Column("status_after", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    Index("ix_description_review_log_measure_id", "measure_id"),
)

# The current publication level of an indicator, optionally narrowed to a period range.
# A rule with a period applies to measurements lying inside that range and wins over the
# indicator-wide rule (period_start NULL). No rule at all means "unpublished".
publication_rules = Table(
    "publication_rules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("indicator_id", Id, ForeignKey("indicators.id"), nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("level", String(20), nullable=False),  # unpublished | restricted | open
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("indicator_id", "period_start", "period_end"),
)

# Append-only log of every publication change (who, when, why), including de-publications.
publication_log = Table(
    "publication_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(30), nullable=False),  # publish | depublish | approve | ...
    Column("indicator_id", Id, ForeignKey("indicators.id")),
    Column("batch_id", Id, ForeignKey("batches.id")),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("level_before", String(20)),
    Column("level_after", String(20)),
    Column("reason", Text, nullable=False),
    Index("ix_publication_log_at", "at"),
)

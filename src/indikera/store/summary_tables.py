"""Summaries of ``measurements`` that the database keeps itself (migration 0012's triggers), so that the
open data can seal its state (``opendata.view_cache``) by reading a few thousand rows, not every value.

* ``value_groups``: one row per (indicator, batch, period) — the unit visibility works in, since the rule
  (``publish.visibility``) decides on the indicator, the period and the batch. ``n`` and ``id_sum`` are the
  count and id sum of the rows in the group; ``revision`` moves on every write to one of them (insert,
  update, delete); ``last_change`` is the newest ``updated_at``/``visible_since`` ever written there. A
  group that loses its last row keeps its row with ``n = 0``: the revision never restarts.
* ``value_members``: which organisation and source system an (indicator, batch) has values for, and how many.
  Only rows with ``n > 0`` exist.

Neither is written by application code. Bulk paths that switch the triggers off (the SQLite import, the scale
generator) rebuild the groups they touched with :func:`store.value_summaries.rebuild`, and
``indikera db check`` compares both with a fresh aggregate of ``measurements``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, PrimaryKeyConstraint, Table

from .metadata import metadata
from .tables import Id

GROUP_KEY = ("indicator_id", "batch_id", "period_start", "period_end")
MEMBER_KEY = ("indicator_id", "batch_id", "organisation_id", "source_system_id")

value_groups = Table(
    "value_groups",
    metadata,
    Column("indicator_id", Id, nullable=False),
    Column("batch_id", Id, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("id_sum", BigInteger, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("last_change", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint(*GROUP_KEY),
)

value_members = Table(
    "value_members",
    metadata,
    Column("indicator_id", Id, nullable=False),
    Column("batch_id", Id, nullable=False),
    Column("organisation_id", Id, nullable=False),
    Column("source_system_id", Id, nullable=False),
    Column("n", BigInteger, nullable=False),
    PrimaryKeyConstraint(*MEMBER_KEY),
)

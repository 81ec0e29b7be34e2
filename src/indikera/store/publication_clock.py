"""The clock of visibility changes, below every use case that changes what the public sees.

``publish.timeline`` (approval, opening, de-publication) and ``ingest.writes.rehash`` (a rename shown at once
in every published value) both stamp ``visible_since`` with it, so the order of stamps is the order of commits:
a consumer that resumes after the newest ``updatedAt`` it saw can never miss a value committed later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select, text

from .repositories import utcnow
from .tables import measurements, result_removals

PUBLICATION_LOCK_KEY = 0x696E_6470  # "indp": PostgreSQL advisory lock serialising visibility changes


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def clock(conn: Connection) -> datetime:
    """The time of a visibility change: strictly after every ``visible_since`` and tombstone written before."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLICATION_LOCK_KEY})
    now = utcnow()
    stamps = [conn.execute(select(func.max(measurements.c.visible_since))).scalar(),
              conn.execute(select(func.max(result_removals.c.at))).scalar()]
    last = max((_utc(t) for t in stamps if isinstance(t, datetime)), default=None)
    if last is not None and now <= last:
        now = last + timedelta(microseconds=1)
    return now

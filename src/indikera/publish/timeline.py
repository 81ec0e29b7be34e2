"""Visibility over time (issues #15, #16): when each public value became visible, what stopped being public,
and corrections swapped in atomically.

Every action that changes what the public sees runs through here, inside the action's transaction:

* :func:`clock` serialises those actions (an advisory lock on PostgreSQL; SQLite's write lock is held already)
  and gives a time later than every stamp written before, so the order of stamps is the order of commits: a
  consumer that resumes after the newest ``updatedAt`` it saw can never miss a value committed later.
* :func:`apply_pending` (approval) applies the batch's waiting corrections (``ingest.pending``) in place and
  stamps every value of the batch ``visible_since``; removals leave a tombstone.
* :func:`revert` (de-publishing an approved batch) brings back what the batch replaced (the history's
  before-images) and turns its corrections into waiting ones again, so a later re-approval re-applies them.
* :func:`public_rows` / :func:`settle` compare what the public saw before and after an action: newly visible
  values get ``visible_since``, values no longer visible get a tombstone in ``result_removals``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Connection, DateTime, String, delete, insert, literal, select, tuple_, update

from ..store import bulk
from ..store.publication_clock import PUBLICATION_LOCK_KEY, clock  # noqa: F401  (re-exported)
from ..store.tables import measurement_history, measurements, pending_changes, result_removals
from .visibility import PUBLIC, visible_measurements

M, P = measurements.c, pending_changes.c
KEY = (M.indicator_id, M.period_start, M.period_end, M.organisation_id, M.stratum)
KEY_NAMES = ("indicator_id", "period_start", "period_end", "organisation_id", "stratum")
PENDING_VALUES = tuple(c.name for c in pending_changes.c if c.name not in ("id", "batch_id", "measurement_id", "operation"))
RESTORED = ("version", "kind", "rate", "numerator", "denominator", "value", "population", "cohort", "reason_code",
            "ci_low", "ci_high", "standard_deviation", "coverage", "exclusions", "reference_interval",
            "source_system_id", "batch_id", "content_hash")  # ``ingest.writes.SNAPSHOT``: the before-images
Key = tuple[int, date, date, int, str]


def public_rows(conn: Connection, indicator_ids: Iterable[int] | None, *where) -> dict[Key, tuple[int, str]]:
    """key → (id, content hash) of every value the public sees now, narrowed by ``where``."""
    ids = None if indicator_ids is None else sorted(set(indicator_ids))
    clauses = [visible_measurements(conn, PUBLIC, ids), *where]
    if ids is not None:
        clauses.append(M.indicator_id.in_(ids))
    return {tuple(r[:5]): (r.id, r.content_hash) for r in conn.execute(select(*KEY, M.id, M.content_hash).where(*clauses))}


def public_rows_by_id(conn: Connection, ids: Iterable[int]) -> dict[Key, tuple[int, str]]:
    out: dict[Key, tuple[int, str]] = {}
    ids = sorted(set(ids))
    for i in range(0, len(ids), 500):
        out.update(public_rows(conn, None, M.id.in_(ids[i:i + 500])))
    return out


def settle(conn: Connection, before: dict[Key, tuple[int, str]], after: dict[Key, tuple[int, str]], now: datetime,
           reason: str) -> None:
    """Stamp the values that became visible (or visible with other contents); tombstone the ones that went."""
    fresh = sorted(v[0] for k, v in after.items() if before.get(k) != v)
    for i in range(0, len(fresh), 500):
        conn.execute(update(measurements).where(M.id.in_(fresh[i:i + 500])).values(visible_since=now))
    gone = [k for k in before if k not in after]
    tombstones(conn, gone, now, reason)


def tombstones(conn: Connection, keys: list[Key], now: datetime, reason: str) -> None:
    # one COPY on PostgreSQL: one INSERT per tombstone made de-publishing a 40 000-value batch take 10 s
    bulk.insert_dicts(conn, result_removals, [dict(zip(KEY_NAMES, k), at=now, reason=reason) for k in keys])


def apply_pending(conn: Connection, batch_id: int, now: datetime) -> None:
    """Approval: swap the batch's waiting corrections in, stamp every value of the batch (same transaction)."""
    removes = select(P.measurement_id).where(P.batch_id == batch_id, P.operation == "remove")
    visible = visible_measurements(conn, PUBLIC)
    conn.execute(insert(result_removals).from_select(
        [*KEY_NAMES, "at", "reason"],
        select(*KEY, literal(now, DateTime(timezone=True)), literal("removed", String)).where(M.id.in_(removes), visible)))
    conn.execute(delete(measurements).where(M.id.in_(removes)))
    conn.execute(update(measurements).values({**{c: P[c] for c in PENDING_VALUES}, "batch_id": batch_id}).where(
        M.id == P.measurement_id, P.batch_id == batch_id, P.operation == "change"))
    conn.execute(delete(pending_changes).where(P.batch_id == batch_id))
    conn.execute(update(measurements).where(M.batch_id == batch_id).values(visible_since=now))


def revert(conn: Connection, batch_id: int, now: datetime) -> list[int]:
    """De-publishing an approved batch: each value it changed or removed gets its before-image back (when no
    later batch has written it since), and the batch's own values wait in ``pending_changes`` again. The ids
    of the restored rows (the caller settles the tombstones once the batch's status has changed)."""
    h = measurement_history.c
    restored: list[int] = []
    last_id = 0
    while True:
        events = conn.execute(select(h.id, h.operation, h.before, *(h[k] for k in KEY_NAMES))
                              .where(h.batch_id == batch_id, h.operation.in_(("changed", "removed")), h.id > last_id)
                              .order_by(h.id).limit(500)).all()
        if not events:
            return restored
        last_id = events[-1].id
        keys = [tuple(e[3:]) for e in events]
        current = {(r.indicator_id, r.period_start, r.period_end, r.organisation_id, r.stratum): r
                   for r in conn.execute(select(measurements).where(tuple_(*KEY).in_(keys)))}
        waiting, changed, returning = [], [], []  # written set-wise: one statement per row took minutes on PostgreSQL
        for e, key in zip(events, keys):
            before = {k: e.before.get(k) for k in RESTORED}
            cur = current.get(key)
            if e.operation == "changed" and cur is not None and cur.batch_id == batch_id:
                waiting.append({"batch_id": batch_id, "measurement_id": cur.id, "operation": "change",
                                **{c: getattr(cur, c) for c in PENDING_VALUES}})
                changed.append({"id": cur.id, **before, "first_encounter": None, "last_encounter": None,
                                "updated_at": now, "visible_since": now})
            elif e.operation == "removed" and cur is None:
                returning.append({**dict(zip(KEY_NAMES, key)), **before, "updated_at": now, "visible_since": now})
        bulk.update_by_id(conn, measurements, changed)
        bulk.insert_dicts(conn, measurements, returning)
        back = [r.id for r in conn.execute(select(M.id).where(tuple_(*KEY).in_([tuple(r[k] for k in KEY_NAMES)
                                                                                for r in returning])))] if returning else []
        bulk.insert_dicts(conn, pending_changes, waiting)
        bulk.insert_dicts(conn, pending_changes, [{"batch_id": batch_id, "measurement_id": i, "operation": "remove"}
                                                  for i in back])
        restored += [r["id"] for r in changed] + back

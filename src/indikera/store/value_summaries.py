"""Rebuild and check the summaries of ``measurements`` (``store.summary_tables``) against the values themselves.

The triggers of migration 0012 keep the summaries; two bulk paths switch them off and call :func:`rebuild` for
what they wrote, in the same transaction. :func:`differences` is the independent check: a fresh aggregate of
``measurements`` compared row by row (``indikera db check``, and the tests after random writes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, case, delete, func, insert, select

from .summary_tables import GROUP_KEY, MEMBER_KEY, value_groups, value_members
from .tables import measurements

m = measurements


def _fresh_groups(conn: Connection, *where) -> dict[tuple, tuple]:
    """(indicator, batch, period start, period end) → (count, id sum, newest stamp), aggregated from the values."""
    keys = [m.c[k] for k in GROUP_KEY]
    stamp = func.max(case((m.c.visible_since > m.c.updated_at, m.c.visible_since), else_=m.c.updated_at))
    return {tuple(r[:4]): tuple(r[4:]) for r in conn.execute(
        select(*keys, func.count(), func.sum(m.c.id), stamp).where(*where).group_by(*keys))}


def _fresh_members(*where):
    keys = [m.c[k] for k in MEMBER_KEY]
    return select(*keys, func.count()).where(*where).group_by(*keys)


def rebuild(conn: Connection, indicator_ids: Iterable[int] | None = None, *, force: bool = False) -> None:
    """Both summaries recomputed from ``measurements`` for these indicators (every one for None).

    A group whose count, id sum or newest stamp differs from what the summary held gets a revision above its old
    one, so a sealed state that saw the old group cannot match; an unchanged group keeps its revision, so a bulk
    load that rebuilds an indicator does not move the ETag of the values it did not touch. (Every write stamps
    ``updated_at``, so a rewritten value moves the newest stamp.) ``force`` moves every revision: a repair after
    writes nobody saw (``indikera db check --repair``)."""
    ids = None if indicator_ids is None else sorted(set(indicator_ids))
    if ids == []:
        return
    g = value_groups
    where_m = [] if ids is None else [m.c.indicator_id.in_(ids)]
    where_g = [] if ids is None else [g.c.indicator_id.in_(ids)]
    old = {tuple(r[:4]): r[4:] for r in conn.execute(
        select(*[g.c[k] for k in GROUP_KEY], g.c.n, g.c.id_sum, g.c.revision, g.c.last_change).where(*where_g))}
    conn.execute(delete(g).where(*where_g))
    conn.execute(delete(value_members).where(*([] if ids is None else [value_members.c.indicator_id.in_(ids)])))
    fresh = _fresh_groups(conn, *where_m)
    rows = []
    for key in fresh.keys() | old.keys():
        n, id_sum, last = fresh.get(key, (0, 0, None))
        was_n, was_sum, revision, was_last = old.get(key, (None, None, 0, None))
        newer = last is not None and (was_last is None or _naive(last) > _naive(was_last))
        if force or newer or (n, id_sum) != (was_n, was_sum):
            revision += 1
        rows.append({**dict(zip(GROUP_KEY, key, strict=True)), "n": n, "id_sum": id_sum, "revision": revision,
                     "last_change": last if newer else was_last})
    for i in range(0, len(rows), 5000):
        conn.execute(insert(g), rows[i:i + 5000])
    conn.execute(insert(value_members).from_select(list(MEMBER_KEY) + ["n"], _fresh_members(*where_m)))


def differences(conn: Connection, limit: int = 20) -> list[str]:
    """Where the summaries disagree with a fresh aggregate of ``measurements`` (empty: they agree). Revisions
    cannot be recomputed; ``last_change`` must be at least the newest stamp still stored."""
    out: list[str] = []
    g = value_groups
    fresh = _fresh_groups(conn)
    kept = {tuple(r[:4]): (r.n, r.id_sum, r.last_change) for r in conn.execute(
        select(*[g.c[k] for k in GROUP_KEY], g.c.n, g.c.id_sum, g.c.last_change).where(g.c.n != 0))}
    for key in sorted(set(fresh) | set(kept), key=repr):
        a, b = fresh.get(key), kept.get(key)
        if a is None or b is None or a[:2] != b[:2]:
            out.append(f"value_groups {key}: measurements {a and a[:2]}, summary {b and b[:2]}")
        elif _naive(b[2]) < _naive(a[2]):
            out.append(f"value_groups {key}: last_change {b[2]} older than a stored value's {a[2]}")
    fresh_m = {tuple(r[:4]): r[4] for r in conn.execute(_fresh_members())}
    kept_m = {tuple(r[:4]): r.n for r in conn.execute(select(value_members))}
    for key in sorted(set(fresh_m) | set(kept_m), key=repr):
        if fresh_m.get(key) != kept_m.get(key):
            out.append(f"value_members {key}: measurements {fresh_m.get(key)}, summary {kept_m.get(key)}")
    return out[:limit]


def _naive(t: datetime | None) -> datetime | None:
    """SQLite gives naive UTC datetimes, PostgreSQL aware ones in the session's zone."""
    return t.astimezone(UTC).replace(tzinfo=None) if t is not None and t.tzinfo is not None else t

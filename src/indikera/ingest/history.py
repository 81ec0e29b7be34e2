"""Read-only views of import batches and what each one changed (``indikera import history`` / ``diff``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, tuple_

from ..store.tables import batches, indicators, measurement_history, measurements, organisations
from .writes import SNAPSHOT

VALUE_FIELDS = ("kind", "rate", "numerator", "denominator", "value", "population", "cohort", "reason_code",
                "ci_low", "ci_high", "standard_deviation", "coverage", "exclusions", "reference_interval")


def list_batches(conn: Connection, registry: str | None = None, limit: int = 50) -> list:
    q = select(batches).order_by(batches.c.id.desc()).limit(limit)
    if registry:
        q = q.where(batches.c.registry_hsa_id == registry)
    return conn.execute(q).all()


def get_batch(conn: Connection, batch_id: int):
    return conn.execute(select(batches).where(batches.c.id == batch_id)).first()


@dataclass(frozen=True)
class Change:
    operation: str
    measure_id: str
    period: str
    organisation: str
    stratum: str
    before: dict | None
    after: dict | None

    def fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each value field that differs."""
        b, a = self.before or {}, self.after or {}
        return [(f, b.get(f), a.get(f)) for f in VALUE_FIELDS if b.get(f) != a.get(f)]


def changes(conn: Connection, batch_id: int, limit: int | None = None) -> list[Change]:
    """What the batch added, changed and removed, in a stable order, with before and after values.

    An added value's after-image is not stored twice (see ``ingest.writes``): it is the before-image of the
    same key's next history event if there is one, else the stored row."""
    h = measurement_history
    q = (
        select(h.c.id, h.c.operation, h.c.indicator_id, h.c.organisation_id, h.c.period_start, h.c.period_end,
               h.c.stratum, h.c.before, h.c.after, indicators.c.measure_id, organisations.c.name, organisations.c.key)
        .join(indicators, indicators.c.id == h.c.indicator_id)
        .join(organisations, organisations.c.id == h.c.organisation_id)
        .where(h.c.batch_id == batch_id)
        .order_by(indicators.c.measure_id, h.c.period_start, h.c.period_end, organisations.c.key, h.c.stratum)
    )
    if limit:
        q = q.limit(limit)
    rows = conn.execute(q).all()
    afters = _afters_of_added(conn, batch_id, [r for r in rows if r.operation == "added" and r.after is None])
    return [
        Change(r.operation, r.measure_id, f"{r.period_start:%Y%m%d}–{r.period_end:%Y%m%d}", f"{r.name} ({r.key})",
               r.stratum, r.before, afters.get(_key(r)) if r.operation == "added" and r.after is None else r.after)
        for r in rows
    ]


def _key(r) -> tuple:
    return (r.indicator_id, r.period_start, r.period_end, r.organisation_id, r.stratum)


def _afters_of_added(conn: Connection, batch_id: int, events: list) -> dict[tuple, dict]:
    """After-images of values the batch added: the stored row while it still carries this batch, else the
    before-image of the first later change or removal of the same key. Two queries for the whole page: the
    stored rows by their unique key, and the later changes (few, and found through the batch index)."""
    if not events:
        return {}
    h, m = measurement_history, measurements
    keys = [_key(e) for e in events]
    out: dict[tuple, dict] = {}
    key_cols = (m.c.indicator_id, m.c.period_start, m.c.period_end, m.c.organisation_id, m.c.stratum)
    for i in range(0, len(keys), 500):
        for row in conn.execute(select(*key_cols, *(m.c[k] for k in SNAPSHOT if k not in ("batch_id",)), m.c.batch_id)
                                .where(tuple_(*key_cols).in_(keys[i:i + 500]))):
            if row.batch_id == batch_id:  # unchanged since: the stored row is the after-image
                out[_key(row)] = {k: getattr(row, k) for k in SNAPSHOT}
    pending = {k for k in keys if k not in out}
    if pending:
        later = conn.execute(
            select(h.c.indicator_id, h.c.period_start, h.c.period_end, h.c.organisation_id, h.c.stratum, h.c.before)
            .where(h.c.batch_id > batch_id, h.c.operation.in_(("changed", "removed")),
                   h.c.indicator_id.in_(sorted({k[0] for k in pending})))
            .order_by(h.c.id))
        for event in later:
            key = _key(event)
            if key in pending:
                out[key] = event.before
                pending.discard(key)
    return out

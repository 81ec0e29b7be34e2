"""Read-only views of import batches and what each one changed (``indikera import history`` / ``diff``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

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
    return [
        Change(r.operation, r.measure_id, f"{r.period_start:%Y%m%d}–{r.period_end:%Y%m%d}", f"{r.name} ({r.key})",
               r.stratum, r.before, r.after if r.after is not None or r.operation != "added" else _after_added(conn, r))
        for r in rows
    ]


def _after_added(conn: Connection, event) -> dict | None:
    h, m = measurement_history, measurements
    same_key = (h.c.indicator_id == event.indicator_id, h.c.period_start == event.period_start,
                h.c.period_end == event.period_end, h.c.organisation_id == event.organisation_id,
                h.c.stratum == event.stratum)
    nxt = conn.execute(select(h.c.before).where(*same_key, h.c.id > event.id).order_by(h.c.id).limit(1)).first()
    if nxt is not None:
        return nxt.before
    row = conn.execute(select(*(m.c[k] for k in SNAPSHOT)).where(
        m.c.indicator_id == event.indicator_id, m.c.period_start == event.period_start,
        m.c.period_end == event.period_end, m.c.organisation_id == event.organisation_id,
        m.c.stratum == event.stratum)).first()
    return dict(row._mapping) if row is not None else None

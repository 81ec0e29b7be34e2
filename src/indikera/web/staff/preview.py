"""What an audience will see once what waits is approved: computed by approving it, and rolling back.

``simulated`` opens a write transaction, approves every waiting batch with ``publish.control.approve_batch``
(the one approval: corrections swap in, a disclosure re-audit refuses what it would refuse, each batch in its
own savepoint) and hands the connection to the page, which reads through the ordinary visibility rule and the
public page's loader. The transaction is always rolled back, so nothing of it is ever stored or shown outside
the preview, and the preview cannot drift from what approval really does. The price: on SQLite the page holds
the write lock while it renders (tens of milliseconds); imports wait that long.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, insert, select, update

from ...domain.errors import IndikeraError
from ...publish import control
from ...publish.control import BatchStatus
from ...publish.visibility import Audience, Level, visible_indicator_ids
from ...store.catalog_tables import publication_rules
from ...store.db import writer
from ...store.repositories import utcnow
from ...store.tables import batches, measurements, organisations, pending_changes

PREVIEW_ACTOR = "preview:förhandsgranskning"
PREVIEW_REASON = "Förhandsgranskning (återställs)"

# (indicator id, organisation key, stratum, period start, period end)
ValueKey = tuple[int, str, str, date, date]


@dataclass
class Simulation:
    waiting: list[BatchStatus] = field(default_factory=list)  # batches that wait for approval, newest first
    refused: dict[int, IndikeraError] = field(default_factory=dict)  # batch id -> why approval would be refused
    pending: set[ValueKey] = field(default_factory=set)  # values that change once the waiting batches are approved
    removals: dict[int, int] = field(default_factory=dict)  # batch id -> values it removes


def _pending_keys(conn: Connection) -> tuple[set[ValueKey], dict[int, int]]:
    m, o, p = measurements.c, organisations.c, pending_changes.c
    waiting = select(batches.c.id).where(batches.c.status == "applied")
    key = (m.indicator_id, o.key, m.stratum, m.period_start, m.period_end)
    new = conn.execute(select(*key).select_from(measurements.join(organisations, o.id == m.organisation_id))
                       .where(m.batch_id.in_(waiting))).all()
    corrected = conn.execute(select(*key, p.operation, p.batch_id)
                             .select_from(pending_changes.join(measurements, m.id == p.measurement_id)
                                          .join(organisations, o.id == m.organisation_id))
                             .where(p.batch_id.in_(waiting))).all()
    removals: dict[int, int] = {}
    for r in corrected:
        if r.operation == "remove":
            removals[r.batch_id] = removals.get(r.batch_id, 0) + 1
    return {tuple(r[:5]) for r in new} | {tuple(r[:5]) for r in corrected if r.operation == "change"}, removals  # type: ignore[misc]


@contextmanager
def simulated(engine: Engine, default_threshold: int = 5) -> Iterator[tuple[Connection, Simulation]]:
    """A connection on which every waiting batch is approved; rolled back when the block ends."""
    with writer(engine).connect() as conn:
        tx = conn.begin()
        try:
            sim = Simulation(waiting=[b for b in control.batch_statuses(conn, 10000) if b.status.value == "applied"])
            sim.pending, sim.removals = _pending_keys(conn)
            for b in sorted(sim.waiting, key=lambda b: b.id):  # in import order, as staff would approve them
                nested = conn.begin_nested()
                try:
                    control.approve_batch(conn, b.id, actor=PREVIEW_ACTOR, reason=PREVIEW_REASON,
                                          default_threshold=default_threshold)
                    nested.commit()
                except IndikeraError as exc:  # what real approval would refuse is shown as refused
                    nested.rollback()
                    sim.refused[b.id] = exc
            yield conn, sim
        finally:
            tx.rollback()


def show_hidden(conn: Connection, audience: Audience, indicator_id: int) -> bool:
    """Inside a simulation: open an indicator the audience may not see, so staff see how it would look. True
    when it was hidden (the page says so)."""
    if indicator_id in visible_indicator_ids(conn, audience):
        return False
    r = publication_rules.c
    values = dict(level=Level.OPEN.value, changed_by=PREVIEW_ACTOR, changed_at=utcnow(), reason=PREVIEW_REASON)
    conn.execute(update(publication_rules).where(r.indicator_id == indicator_id).values(**values))
    if conn.execute(select(r.id).where(r.indicator_id == indicator_id, r.period_start.is_(None))).first() is None:
        conn.execute(insert(publication_rules).values(indicator_id=indicator_id, **values))
    return True


__all__ = ["PREVIEW_ACTOR", "Simulation", "show_hidden", "simulated"]

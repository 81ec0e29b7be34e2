"""Corrections without a gap (issue #16): an import never overwrites a value that is already approved.

A change or removal of a stored value whose batch is approved is written to ``pending_changes`` instead of
the measurement; every channel goes on showing the approved value until the new batch is approved, and
approval swaps them in one transaction (``publish.timeline.apply_pending``). A value of an unapproved or
de-published batch is invisible anyway and is updated in place, as before.

One waiting correction per value: while batch N waits for approval with a correction of an indicator and
period, another file with values of that indicator and period (any value of the registry for a
``DELETE_EXISTING_DATA`` file) is refused, naming N; approve or de-publish N first. Waiting corrections of a
*de-published* batch are superseded by a later import of the same value (it is the newer decision).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Connection, and_, delete, or_, select

from ..domain.errors import IndikeraError
from ..store.tables import batches, measurements, pending_changes

# The measurement columns a pending change carries (the key and the batch stay those of the stored row).
PENDING_VALUES = (
    "version", "kind", "rate", "numerator", "denominator", "value", "population", "cohort", "reason_code", "ci_low",
    "ci_high", "standard_deviation", "coverage", "exclusions", "reference_interval", "first_encounter",
    "last_encounter", "source_system_id", "content_hash", "updated_at",
)
PENDING_COLUMNS = ("batch_id", "measurement_id", "operation", *PENDING_VALUES)


class CorrectionWaiting(IndikeraError):
    def __init__(self, waiting: int, what: str) -> None:
        super().__init__(
            "CORRECTION_WAITING",
            f"batch {waiting} väntar på godkännande med rättelser av {what}; godkänn eller avpublicera batch "
            f"{waiting} först (indikera import approve/depublish {waiting}). Inget har skrivits.",
            f"batch {waiting} is waiting for approval with corrections of {what}; approve or de-publish batch "
            f"{waiting} first (indikera import approve/depublish {waiting}). Nothing was written.",
            batch=waiting)


def approved_batch_ids(conn: Connection, ids: Iterable[int]) -> set[int]:
    """Which of these batches are approved. On PostgreSQL the rows are share-locked until the import commits, so
    an approval running meanwhile waits: a value judged unapproved here cannot become visible and then be
    overwritten in place (SQLite's write lock serialises the two anyway)."""
    q = select(batches.c.id, batches.c.status).where(batches.c.id.in_(sorted(set(ids))))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(read=True)
    return {r.id for r in conn.execute(q) if r.status == "approved"}


def check_no_waiting(conn: Connection, batch_id: int, groups: Iterable[tuple[int, date, date]],
                     source_id: int | None) -> None:
    """Refuse the import when another unapproved batch has corrections waiting in the same (indicator, period)
    groups, or, with ``source_id`` (a ``DELETE_EXISTING_DATA`` file), on any value of that source system."""
    p, m = pending_changes.c, measurements.c
    base = (select(p.batch_id, m.indicator_id, m.period_start, m.period_end)
            .select_from(pending_changes.join(measurements, m.id == p.measurement_id)
                         .join(batches, batches.c.id == p.batch_id))
            .where(batches.c.status == "applied", p.batch_id != batch_id))
    found = None
    if source_id is not None:
        found = conn.execute(base.where(m.source_system_id == source_id).limit(1)).first()
    groups = sorted(set(groups))
    for i in range(0, len(groups), 200):
        if found is not None:
            break
        chunk = groups[i:i + 200]
        found = conn.execute(base.where(or_(*(and_(m.indicator_id == g[0], m.period_start == g[1], m.period_end == g[2])
                                              for g in chunk))).limit(1)).first()
    if found is not None:
        raise CorrectionWaiting(found.batch_id, f"indikator-id {found.indicator_id}, perioden "
                                f"{found.period_start}–{found.period_end}")


def supersede(conn: Connection, batch_id: int, measurement_ids: Sequence[int]) -> None:
    """Before this import writes these values: a waiting correction of another unapproved batch is an error
    (``check_no_waiting`` refuses such files first; this is the exact check), one of a de-published batch
    is dropped."""
    p = pending_changes.c
    for i in range(0, len(measurement_ids), 500):
        chunk = list(measurement_ids[i:i + 500])
        rows = conn.execute(select(p.batch_id, p.measurement_id, batches.c.status)
                            .select_from(pending_changes.join(batches, batches.c.id == p.batch_id))
                            .where(p.measurement_id.in_(chunk), p.batch_id != batch_id)).all()
        waiting = next((r for r in rows if r.status == "applied"), None)
        if waiting is not None:
            raise CorrectionWaiting(waiting.batch_id, f"värdet med id {waiting.measurement_id}")
        if rows:
            conn.execute(delete(pending_changes).where(p.measurement_id.in_(chunk), p.batch_id != batch_id))

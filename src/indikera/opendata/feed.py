"""The change feed: what changed in the open data since a point in time, so no change is silent.

Events (oldest first, each with ``at`` and a stable ``id``):

* ``results-published``: an approved batch; names the open indicators with open values in it, the counts,
  and the keys of values it removed (indicator, period, organisation, stratum) where that key is open.
* ``results-depublished``: an approved batch taken back; names the indicators in it that were open.
* ``indicator-opened`` / ``indicator-closed``: an indicator (or a period range of it) became open data, or
  stopped being open data. "Closed" does not say whether it became restricted or unpublished.
* ``description-updated``: a new description version of an open indicator.

Nothing here leaks data that is not open: indicators are named only if they are open now or were open
before the event (per the publication log); who made a change and why is never shown (names, free text).
Visibility of removed keys uses the one rule, ``visible_measurements``, applied to the history's columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, literal, select

from ..publish.visibility import PUBLIC, on_table, visible_measurements
from ..store.catalog_tables import indicator_descriptions, publication_log
from ..store.summary_tables import value_groups
from ..store.tables import batches, measurement_history
from .params import as_utc, iso
from .state import View

EVENT_TYPES = ("results-published", "results-depublished", "indicator-opened", "indicator-closed", "description-updated")
MAX_REMOVED_KEYS = 10_000  # per event; more are counted, not listed
# Inline, not bound: the partial index of one batch's removals (migration 0012) is used only for the literal.
REMOVED = literal("removed", literal_execute=True)


def _was_open(opened: dict[int, list[datetime]], view: View, indicator_id: int, at: datetime) -> bool:
    return indicator_id in view.open_ids or any(t <= at for t in opened.get(indicator_id, ()))


def events(engine: Engine, view: View, since: datetime | None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return events_on(conn, view, since)


def events_on(conn: Connection, view: View, since: datetime | None) -> list[dict[str, Any]]:
    """Every event after ``since`` (all of them for None), oldest first; the open-data state digests them."""
    out: list[dict[str, Any]] = []
    log = conn.execute(
        select(publication_log).where(publication_log.c.indicator_id.is_not(None)).order_by(publication_log.c.id)
    ).all()
    opened: dict[int, list[datetime]] = {}
    for r in log:
        if r.level_after == "open" and r.period_start is None:
            opened.setdefault(r.indicator_id, []).append(as_utc(r.at))
    # Publication changes into or out of "open".
    for r in log:
        at = as_utc(r.at)
        if since is not None and at <= since:
            continue
        became_open = r.level_after == "open" and r.level_before != "open"
        closed = r.level_before == "open" and r.level_after != "open"
        if not (became_open or closed) or r.indicator_id not in view.indicators:
            continue
        if closed and not _was_open(opened, view, r.indicator_id, at):
            continue
        if became_open and r.indicator_id not in view.open_ids and r.period_start is None:
            continue  # opened and closed again since: the closing event says enough
        out.append({
            "id": f"publication-{r.id}", "type": "indicator-opened" if became_open else "indicator-closed", "at": iso(at),
            "measureId": view.indicators[r.indicator_id].measure_id,
            "periodStart": r.period_start.isoformat() if r.period_start else None,
            "periodEnd": r.period_end.isoformat() if r.period_end else None,
        })
    # Batches: approvals (with removals) and de-publications.
    bq = select(batches).where(batches.c.approved_at.is_not(None)).order_by(batches.c.id)
    visible = visible_measurements(conn, PUBLIC, view.open_ids)
    visible_groups = on_table(visible, value_groups)  # the same rule on the per-group summary: no value read
    for b in conn.execute(bq).all():
        approved_at = as_utc(b.approved_at)
        if b.status == "approved" and (since is None or approved_at > since):
            ids = conn.execute(select(value_groups.c.indicator_id).where(
                visible_groups, value_groups.c.batch_id == b.id, value_groups.c.n > 0).distinct()).scalars().all()
            removed_rows = conn.execute(
                select(measurement_history.c.indicator_id, measurement_history.c.period_start,
                       measurement_history.c.period_end, measurement_history.c.organisation_id,
                       measurement_history.c.stratum)
                .where(measurement_history.c.batch_id == b.id, measurement_history.c.operation == REMOVED,
                       measurement_history.c.indicator_id.in_(list(view.open_ids)), on_table(visible, measurement_history))
                .order_by(measurement_history.c.id).limit(MAX_REMOVED_KEYS + 1)
            ).all()
            if ids or removed_rows:
                names = sorted({view.indicators[i].measure_id for i in ids} | {view.indicators[r.indicator_id].measure_id for r in removed_rows})
                out.append({
                    "id": f"batch-{b.id}-approved", "type": "results-published", "at": iso(approved_at),
                    "batchId": b.id, "measureIds": names, "added": b.added, "changed": b.changed,
                    "removed": b.removed,
                    "removedKeys": [{
                        "measureId": view.indicators[r.indicator_id].measure_id,
                        "periodStart": r.period_start.isoformat(), "periodEnd": r.period_end.isoformat(),
                        "organisationId": view.orgs[r.organisation_id].key if r.organisation_id in view.orgs else None,
                        "stratum": r.stratum or None,
                    } for r in removed_rows[:MAX_REMOVED_KEYS]],
                    "removedKeysTruncated": len(removed_rows) > MAX_REMOVED_KEYS,
                })
        if b.status == "depublished" and b.depublished_at is not None:
            at = as_utc(b.depublished_at)
            if since is not None and at <= since:
                continue
            # Its values, and from the history the ones it corrected (back to their old values: publish.timeline).
            ids = set(conn.execute(select(value_groups.c.indicator_id).where(
                value_groups.c.batch_id == b.id, value_groups.c.n > 0).distinct()).scalars())
            # (The history's indicators of a de-published batch are read from its rows: proportional to the
            # batch's size, once per data version; ``value_groups`` cannot say what it once added.)
            ids |= set(conn.execute(select(measurement_history.c.indicator_id).where(measurement_history.c.batch_id == b.id).distinct()).scalars())
            names = sorted(view.indicators[i].measure_id for i in ids if i in view.indicators and _was_open(opened, view, i, at))
            if names:
                out.append({"id": f"batch-{b.id}-depublished", "type": "results-depublished", "at": iso(at),
                            "batchId": b.id, "measureIds": names})
    # New description versions of open indicators.
    # Only published versions (issue #16: drafts are staff-only), at the time they were published.
    published_at = func.coalesce(indicator_descriptions.c.published_at, indicator_descriptions.c.created_at)
    dq = select(indicator_descriptions.c.id, indicator_descriptions.c.measure_id, indicator_descriptions.c.version_major,
                indicator_descriptions.c.version_minor, published_at.label("at")
                ).where(indicator_descriptions.c.measure_id.in_(list(view.by_measure)),
                        indicator_descriptions.c.status.in_(("published", "superseded")))
    if since is not None:
        dq = dq.where(published_at > since)
    for d in conn.execute(dq):
        out.append({"id": f"description-{d.id}", "type": "description-updated", "at": iso(as_utc(d.at)),
                    "measureId": d.measure_id, "descriptionVersion": f"{d.version_major}.{d.version_minor}"})
    out.sort(key=lambda e: (e["at"], e["id"]))
    return out

"""The open-data view of the current data version, and its sealed state (the basis of every ETag).

A request reads the data version (one primary-key look-up, ``data_version``, bumped by the database's
triggers on every write to a table the open data depends on — migrations 0004 and 0006). Only when it has
moved is the view loaded again and its state sealed: a digest of exactly what the public can see — the open
indicators and their descriptions, every visible value, the organisations and source systems those values
show, and the change feed. So the ETag changes when, and only when, something a client could see changes,
whichever table a write touched; a write the public cannot see (an unapproved import, a restricted
indicator, an agreement) leaves it as it was. The cache is ``AppContext.caches.opendata``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from ..caches import Versioned, current_version
from ..publish.visibility import PUBLIC, visible_measurements
from ..store.tables import measurements, result_removals
from .feed import events_on
from .params import as_utc
from .state import EPOCH, State, View, load_view


def _ts(value: Any) -> datetime | None:
    return as_utc(value) if isinstance(value, datetime) else None


def seal(conn: Connection, view: View) -> State:
    """The digest of everything the public can see in ``view``'s data, and the latest change we can date.
    Invisible writes (an unapproved import, a restricted indicator, an agreement) leave it unchanged."""
    h = hashlib.sha256()

    def add(*parts: Any) -> None:
        h.update(repr(parts).encode())
        h.update(b"\n")

    stamps: list[datetime | None] = []
    for ind in view.open_indicators():
        add("indicator", astuple(ind), view.opened_at.get(ind.id))
        stamps.append(view.opened_at.get(ind.id))
        for d in view.descriptions.get(ind.measure_id, []):
            add("description", ind.measure_id, d.description.version, d.created_at, json.dumps(d.document, sort_keys=True))
            stamps.append(d.created_at)
    # The visible values, per (indicator, batch, period): visibility changes by indicator, period and batch,
    # so a group is visible or not as a whole; within it, adding or removing a value moves the count or the
    # id sum, and changing one moves the newest ``updated_at`` (every write of a value stamps it — the
    # importer, renames' rehash — which ``updatedSince`` relies on too). Aggregates, not every row: a change
    # costs two grouped scans, not a read of every row into Python. (At 10 million values these scans take
    # minutes on a loaded machine: bench/README.md; an incremental digest is future work.)
    m = measurements
    visible = visible_measurements(conn, PUBLIC, view.open_ids)
    keys = (m.c.indicator_id, m.c.batch_id, m.c.period_start, m.c.period_end)
    for g in conn.execute(select(*keys, func.count(), func.sum(m.c.id), func.max(m.c.visible_since), func.max(m.c.updated_at))
                          .where(visible).group_by(*keys).order_by(*keys)):
        add("values", tuple(g))
        stamps += [_ts(g[-1]), _ts(g[-2])]
    # The tombstones /results/removed lists (append-only: their count and newest id say everything).
    add("removals", tuple(conn.execute(select(func.count(), func.max(result_removals.c.id), func.max(result_removals.c.at))).one()))
    pairs = conn.execute(select(m.c.organisation_id, m.c.source_system_id).where(visible).distinct()).all()
    direct, source_ids = {p[0] for p in pairs}, {p[1] for p in pairs}
    shown: set[int] = set()
    for oid in direct:
        shown.update(o.id for o in view.chain(oid))
    view._visible_orgs = frozenset(shown)
    for oid in sorted(shown):
        add("organisation", astuple(view.orgs[oid]))
    for sid in sorted(source_ids):
        add("source", sid, view.sources.get(sid))
    for event in events_on(conn, view, None):
        add("event", json.dumps(event, sort_keys=True))
        stamps.append(_ts(datetime.fromisoformat(event["at"].replace("Z", "+00:00"))) if event.get("at") else None)
    last = max((s for s in stamps if s is not None), default=EPOCH).replace(microsecond=0)
    return State(h.hexdigest()[:32], last)


def current(engine: Engine, cache: Versioned[View]) -> View:
    """The view of the current data version, from ``AppContext.caches.opendata``."""
    with engine.connect() as conn:
        version = current_version(conn)  # read before the data: what is loaded is at least this new

        def load() -> View:
            view = load_view(conn, version)
            view.state = seal(conn, view)
            return view

        return cache.get(version, load)

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

from sqlalchemy import Connection, Engine, and_, func, select

from ..caches import Versioned, current_version
from ..publish.visibility import PUBLIC, on_table, period_ruled, visible_measurements
from ..store.summary_tables import GROUP_KEY, value_groups, value_members
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
    # so a group is visible or not as a whole. Read from ``value_groups``, which the database's triggers keep
    # (migration 0012): any write to a value of a group moves its revision, adding or removing one moves its
    # count and id sum, and ``last_change`` is the newest stamp written there. A few thousand rows, not every
    # value (a grouped scan of 10 million values took 98–124 s per worker after every change).
    g = value_groups
    visible = visible_measurements(conn, PUBLIC, view.open_ids)
    keys = [g.c[k] for k in GROUP_KEY]
    for r in conn.execute(select(*keys, g.c.n, g.c.id_sum, g.c.revision, g.c.last_change)
                          .where(on_table(visible, g), g.c.n > 0).order_by(*keys)):
        add("values", tuple(r))
        stamps.append(_ts(r.last_change))
    # The tombstones /results/removed lists (append-only: their count and newest id say everything).
    add("removals", tuple(conn.execute(select(func.count(), func.max(result_removals.c.id), func.max(result_removals.c.at))).one()))
    direct, source_ids = _shown(conn, view, visible)
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


def _shown(conn: Connection, view: View, visible) -> tuple[set[int], set[int]]:
    """The organisations and source systems that visible values show. From ``value_members`` for indicators
    whose visibility does not depend on the period (the member summary has no period); the few indicators
    with period-narrowed rules are read from their values."""
    by_period = period_ruled(conn, view.open_ids)
    vm, m = value_members, measurements
    pairs: set[tuple[int, int]] = set()
    plain = sorted(view.open_ids - by_period)
    if plain:
        clause = on_table(visible_measurements(conn, PUBLIC, plain), vm)
        pairs.update(tuple(p) for p in conn.execute(select(vm.c.organisation_id, vm.c.source_system_id).where(clause).distinct()))
    if by_period:
        clause = and_(visible, m.c.indicator_id.in_(sorted(by_period)))
        pairs.update(tuple(p) for p in conn.execute(select(m.c.organisation_id, m.c.source_system_id).where(clause).distinct()))
    return {p[0] for p in pairs}, {p[1] for p in pairs}


def current(engine: Engine, cache: Versioned[View]) -> View:
    """The view of the current data version, from ``AppContext.caches.opendata``."""
    with engine.connect() as conn:
        version = current_version(conn)  # read before the data: what is loaded is at least this new

        def load() -> View:
            view = load_view(conn, version)
            view.state = seal(conn, view)
            return view

        return cache.get(version, load)

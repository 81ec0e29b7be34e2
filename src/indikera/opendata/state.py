"""What the open-data API reads on every request, computed once per *data state*.

The data state is a digest of everything that can change an open-data answer: the small tables in full
(indicators, batches' statuses, publication rules, description ids) and the high-water marks of the large
ones (measurements, their history, organisations, the publication log). It is cheap (one round trip of
aggregates plus the small tables) and it is the basis of the ETag: same state and same request, same bytes.
The derived view (open indicators, their descriptions, the organisation tree) is cached per state, so the
catalogue and organisations are read once per change, not once per request.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from ..publish.visibility import PUBLIC, visible_indicator_ids, visible_measurements
from ..store.catalog_tables import indicator_descriptions, publication_log, publication_rules
from ..store.tables import batches, indicators, measurement_history, measurements, organisations, source_systems
from .params import as_utc

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class State:
    token: str  # hex digest of the data state
    last_modified: datetime  # latest change we can date (UTC, whole seconds)


@dataclass(frozen=True)
class Org:
    id: int
    key: str
    type: str
    name: str
    hsa_id: str | None
    org_root: str | None
    org_extension: str | None
    parent_id: int | None


@dataclass(frozen=True)
class IndicatorRow:
    id: int
    measure_id: str
    version: int
    title: str
    unit_type: str
    kind: str
    frequency: str
    levels: tuple[str, ...]
    parent_measure_id: str | None
    sex: str | None
    display_threshold: int | None


@dataclass(frozen=True)
class DescriptionRow:
    measure_id: str
    major: int
    minor: int
    document: dict[str, Any]
    created_at: datetime


@dataclass
class View:
    state: State
    indicators: dict[int, IndicatorRow]  # every indicator (parents of open ones may be closed)
    open_ids: frozenset[int]  # indicators whose description the public may see
    by_measure: dict[str, int]  # open measure id → indicator row id
    descriptions: dict[str, list[DescriptionRow]]  # open measure id → versions, newest first
    opened_at: dict[int, datetime]  # indicator id → when its indicator-wide rule last changed
    orgs: dict[int, Org]
    sources: dict[int, tuple[str, str, str]]  # id → (root, extension, name)
    _visible_orgs: frozenset[int] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def open_indicators(self) -> list[IndicatorRow]:
        return sorted((self.indicators[i] for i in self.open_ids), key=lambda r: sort_key(r.measure_id))

    def latest_description(self, measure_id: str) -> DescriptionRow | None:
        versions = self.descriptions.get(measure_id)
        return versions[0] if versions else None

    def chain(self, org_id: int) -> list[Org]:
        out, seen, node = [], set(), self.orgs.get(org_id)
        while node is not None and node.id not in seen:
            out.append(node)
            seen.add(node.id)
            node = self.orgs.get(node.parent_id) if node.parent_id is not None else None
        return out

    def visible_org_ids(self, engine: Engine) -> frozenset[int]:
        """Organisations with at least one open, approved value, and their ancestors (cached per state)."""
        with self._lock:
            if self._visible_orgs is None:
                with engine.connect() as conn:
                    clause = visible_measurements(conn, PUBLIC, self.open_ids)
                    direct = conn.execute(select(measurements.c.organisation_id).where(clause).distinct()).scalars().all()
                ids: set[int] = set()
                for oid in direct:
                    ids.update(o.id for o in self.chain(oid))
                self._visible_orgs = frozenset(ids)
            return self._visible_orgs


def sort_key(measure_id: str) -> tuple[int, int | str]:
    return (0, int(measure_id)) if measure_id.isdigit() else (1, measure_id)


def _ts(value: Any) -> datetime | None:
    return as_utc(value) if isinstance(value, datetime) else None


def read_state(conn: Connection) -> State:
    agg = conn.execute(
        select(
            select(func.max(measurements.c.updated_at)).scalar_subquery(),
            select(func.max(measurements.c.id)).scalar_subquery(),
            select(func.max(measurement_history.c.id)).scalar_subquery(),
            select(func.max(measurement_history.c.recorded_at)).scalar_subquery(),
            select(func.max(organisations.c.id)).scalar_subquery(),
            select(func.count()).select_from(organisations).scalar_subquery(),
            select(func.max(publication_log.c.id)).scalar_subquery(),
            select(func.max(publication_log.c.at)).scalar_subquery(),
        )
    ).one()
    small = [
        conn.execute(select(indicators).order_by(indicators.c.id)).all(),
        conn.execute(select(batches.c.id, batches.c.status, batches.c.created_at, batches.c.approved_at, batches.c.depublished_at).order_by(batches.c.id)).all(),
        conn.execute(select(publication_rules).order_by(publication_rules.c.id)).all(),
        conn.execute(select(indicator_descriptions.c.id, indicator_descriptions.c.created_at).order_by(indicator_descriptions.c.id)).all(),
        conn.execute(select(source_systems).order_by(source_systems.c.id)).all(),
    ]
    digest = hashlib.sha256(repr((tuple(agg), [list(map(tuple, rows)) for rows in small])).encode())
    stamps = [_ts(agg[0]), _ts(agg[3]), _ts(agg[7])]
    for b in small[1]:
        stamps += [_ts(b.created_at), _ts(b.approved_at), _ts(b.depublished_at)]
    stamps += [_ts(r.changed_at) for r in small[2]] + [_ts(d.created_at) for d in small[3]]
    last = max((s for s in stamps if s is not None), default=EPOCH).replace(microsecond=0)
    return State(digest.hexdigest()[:32], last)


def _load_view(conn: Connection, state: State) -> View:
    inds = {
        r.id: IndicatorRow(r.id, r.measure_id, r.version, r.title, r.unit_type, r.kind, r.frequency,
                           tuple(r.levels or ()), r.parent_measure_id, r.sex, r.display_threshold)
        for r in conn.execute(select(indicators))
    }
    open_ids = frozenset(i for i in visible_indicator_ids(conn, PUBLIC) if i in inds)
    by_measure = {inds[i].measure_id: i for i in open_ids}
    descriptions: dict[str, list[DescriptionRow]] = {}
    rows = conn.execute(
        select(indicator_descriptions)
        .where(indicator_descriptions.c.measure_id.in_(list(by_measure)))
        .order_by(indicator_descriptions.c.measure_id, indicator_descriptions.c.version_major.desc(),
                  indicator_descriptions.c.version_minor.desc())
    )
    for r in rows:
        doc = r.document if isinstance(r.document, dict) else {}
        descriptions.setdefault(r.measure_id, []).append(
            DescriptionRow(r.measure_id, r.version_major, r.version_minor, doc, as_utc(r.created_at)))
    opened_at = {
        r.indicator_id: as_utc(r.changed_at)
        for r in conn.execute(select(publication_rules.c.indicator_id, publication_rules.c.changed_at)
                              .where(publication_rules.c.period_start.is_(None)))
    }
    orgs = {
        r.id: Org(r.id, r.key, r.type, r.name, r.hsa_id, r.org_root, r.org_extension, r.parent_id)
        for r in conn.execute(select(organisations))
    }
    sources = {r.id: (r.root, r.extension, r.name) for r in conn.execute(select(source_systems))}
    return View(state, inds, open_ids, by_measure, descriptions, opened_at, orgs, sources)


class ViewCache:
    """The view of the latest data state (and the one before it, for requests that overlap a change)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._views: dict[str, View] = {}
        self._lock = threading.Lock()

    def current(self) -> View:
        with self.engine.connect() as conn:
            state = read_state(conn)
            with self._lock:
                view = self._views.get(state.token)
            if view is not None:
                return view
            view = _load_view(conn, state)
        with self._lock:
            self._views = {k: v for k, v in self._views.items() if k != state.token}
            while len(self._views) >= 2:
                self._views.pop(next(iter(self._views)))
            self._views[state.token] = view
        return view

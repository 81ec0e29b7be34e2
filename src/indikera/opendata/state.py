"""What the open-data API reads: the view of one data version (open indicators, their descriptions, the
organisation tree), loaded once per version by ``view_cache``, which also seals its state (the ETag's basis).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from ..catalog.store import StoredDescription, description_versions
from ..publish.visibility import PUBLIC, visible_indicator_ids, visible_measurements
from ..store.catalog_tables import publication_rules
from ..store.tables import indicators, measurements, organisations, source_systems
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


@dataclass
class View:
    state: State
    indicators: dict[int, IndicatorRow]  # every indicator (parents of open ones may be closed)
    open_ids: frozenset[int]  # indicators whose description the public may see
    by_measure: dict[str, int]  # open measure id → indicator row id
    descriptions: dict[str, list[StoredDescription]]  # open measure id → versions, newest first
    opened_at: dict[int, datetime]  # indicator id → when its indicator-wide rule last changed
    orgs: dict[int, Org]
    sources: dict[int, tuple[str, str, str]]  # id → (root, extension, name)
    version: int | None = None  # the data version the view was loaded at
    _visible_orgs: frozenset[int] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def open_indicators(self) -> list[IndicatorRow]:
        return sorted((self.indicators[i] for i in self.open_ids), key=lambda r: sort_key(r.measure_id))

    def latest_description(self, measure_id: str) -> StoredDescription | None:
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


def load_view(conn: Connection, version: int | None) -> View:
    """The view at ``version``, its state still to be sealed (``view_cache.seal``)."""
    inds = {
        r.id: IndicatorRow(r.id, r.measure_id, r.version, r.title, r.unit_type, r.kind, r.frequency,
                           tuple(r.levels or ()), r.parent_measure_id, r.sex, r.display_threshold)
        for r in conn.execute(select(indicators))
    }
    open_ids = frozenset(i for i in visible_indicator_ids(conn, PUBLIC) if i in inds)
    by_measure = {inds[i].measure_id: i for i in open_ids}
    descriptions = description_versions(conn, by_measure)
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
    return View(State("", EPOCH), inds, open_ids, by_measure, descriptions, opened_at, orgs, sources, version=version)

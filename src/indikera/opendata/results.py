"""Open results: the filtered, keyset-paginated query over ``measurements`` and its JSON form.

Only approved, open values are ever read: every query starts from ``visible_measurements(conn, PUBLIC, …)``.
Two stable orderings: the natural key (indicator, period, organisation, stratum: the table's unique key, so
the order is total and index-backed) and, for the change feed (``updatedSince``), (visible_since, id): the time a value became public as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, false, select, tuple_

from ..publish.visibility import PUBLIC, visible_measurements
from ..store.named_rows import maker, row_type
from ..store.tables import measurements, organisations
from .labels import label
from .params import as_utc, bad_parameter, iso
from .state import Org, View

NATURAL, UPDATED = "n", "u"
M = measurements.c
COLUMNS = [
    M.id, M.indicator_id, M.version, M.period_start, M.period_end, M.organisation_id, M.stratum, M.kind, M.rate,
    M.numerator, M.denominator, M.value, M.population, M.cohort, M.reason_code, M.ci_low, M.ci_high,
    M.standard_deviation, M.coverage, M.exclusions, M.reference_interval, M.first_encounter, M.last_encounter,
    M.source_system_id, M.updated_at, M.visible_since,
]
ResultRow = row_type("ResultRow", COLUMNS)  # what page() and stream() yield: fields named like COLUMNS
_row = maker(ResultRow)


@dataclass(frozen=True)
class ResultFilter:
    indicator_ids: tuple[int, ...]  # open indicator row ids to read (never empty: the caller resolves "all")
    period_from: date | None = None
    period_to: date | None = None
    org_ids: frozenset[int] | None = None  # None: any organisation
    org_types: tuple[str, ...] = ()
    updated_since: datetime | None = None
    periods: frozenset[tuple[int, date, date]] | None = None  # period=latest/last-N: (indicator, start, end) chosen

    @property
    def order(self) -> str:
        return UPDATED if self.updated_since is not None else NATURAL


def where(conn: Connection, f: ResultFilter) -> list[ColumnElement[bool]]:
    clauses = [visible_measurements(conn, PUBLIC, f.indicator_ids), M.indicator_id.in_(f.indicator_ids)]
    if f.period_from is not None:
        clauses.append(M.period_start >= f.period_from)
    if f.period_to is not None:
        clauses.append(M.period_end <= f.period_to)
    if f.org_ids is not None:
        clauses.append(M.organisation_id.in_(sorted(f.org_ids)))
    if f.org_types:
        clauses.append(M.organisation_id.in_(select(organisations.c.id).where(organisations.c.type.in_(f.org_types))))
    if f.updated_since is not None:
        clauses.append(M.visible_since > f.updated_since)  # publication time, not import time (issue #15)
    if f.periods is not None:  # result_query.latest_periods; empty: nothing matches
        clauses.append(tuple_(M.indicator_id, M.period_start, M.period_end).in_(sorted(f.periods)) if f.periods else false())
    return clauses


def _key_of(row: Any, order: str) -> list[Any]:
    if order == UPDATED:
        return [iso(row.visible_since), row.id]
    return [row.indicator_id, row.period_start.isoformat(), row.period_end.isoformat(), row.organisation_id, row.stratum]


def _after(order: str, key: list[Any]) -> ColumnElement[bool]:
    """The keyset condition "after ``key``"; a malformed key (a tampered cursor) is a 400."""
    bad = bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
    try:
        if order == UPDATED:
            ts_text, last_id = key
            ts = as_utc(datetime.fromisoformat(str(ts_text).replace("Z", "+00:00")))
            if not isinstance(last_id, int):
                raise bad
            return tuple_(M.visible_since, M.id) > tuple_(ts, last_id)
        if order == NATURAL:
            ind, start, end, org, stratum = key
            if not (isinstance(ind, int) and isinstance(org, int) and isinstance(stratum, str)):
                raise bad
            return tuple_(M.indicator_id, M.period_start, M.period_end, M.organisation_id, M.stratum) > tuple_(
                ind, date.fromisoformat(start), date.fromisoformat(end), org, stratum)
    except (TypeError, ValueError):
        raise bad from None
    raise bad


def query(conn: Connection, f: ResultFilter, *, after: list[Any] | None, limit: int, clauses=None) -> Select:
    q = select(*COLUMNS).where(*(clauses if clauses is not None else where(conn, f)))
    if after is not None:
        q = q.where(_after(f.order, after))
    if f.order == UPDATED:
        q = q.order_by(M.visible_since, M.id)
    else:
        q = q.order_by(M.indicator_id, M.period_start, M.period_end, M.organisation_id, M.stratum)
    return q.limit(limit)


def page(engine: Engine, f: ResultFilter, *, after: list[Any] | None, limit: int) -> tuple[list[Any], list[Any] | None]:
    """One page (``limit`` rows) and the key to continue after, or None when this was the last page."""
    with engine.connect() as conn:
        rows = list(map(_row, conn.execute(query(conn, f, after=after, limit=limit + 1)).all()))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_key_of(rows[-1], f.order) if more and rows else None)


def stream(engine: Engine, f: ResultFilter, *, chunk: int = 2000) -> Iterator[Any]:
    """Every matching row, read in keyset chunks (a short connection each): memory stays bounded."""
    after: list[Any] | None = None
    clauses = None
    while True:
        with engine.connect() as conn:
            if clauses is None:
                clauses = where(conn, f)
            rows = list(map(_row, conn.execute(query(conn, f, after=after, limit=chunk, clauses=clauses)).all()))
        yield from rows
        if len(rows) < chunk:
            return
        after = _key_of(rows[-1], f.order)


def org_json(org: Org, view: View, lang: str = "sv") -> dict[str, Any]:
    parent = view.orgs.get(org.parent_id) if org.parent_id is not None else None
    return {
        "id": org.key,
        "type": org.type,
        "typeLabel": label("organisationType", org.type, lang),
        "name": org.name,
        "hsaId": org.hsa_id,
        "organisationId": {"root": org.org_root, "extension": org.org_extension} if org.org_root else None,
        "parentId": parent.key if parent else None,
    }


def _count(value: float | None) -> int | float | None:
    """A count as an integer (``31021``, not ``31021.0``: the store keeps every number as a float)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ItemBuilder:
    """Builds result items fast: organisations, indicators, sources and dates are rendered once per request."""

    def __init__(self, view: View, lang: str = "sv") -> None:
        self.view = view
        self.lang = lang
        self._orgs: dict[int, dict[str, Any]] = {}
        self._dates: dict[Any, str] = {}
        self._sources: dict[int, dict[str, str] | None] = {}

    def _date(self, d: Any) -> str | None:
        if d is None:
            return None
        text = self._dates.get(d)
        if text is None:
            text = self._dates[d] = d.isoformat()
        return text

    def __call__(self, row: Any) -> dict[str, Any]:
        """The JSON item of a ``ResultRow`` (a NamedTuple: C-speed fields, unlike SQLAlchemy's ``Row``)."""
        view = self.view
        organisation_id, source_system_id, ci_low = row.organisation_id, row.source_system_id, row.ci_low
        org = self._orgs.get(organisation_id)
        if org is None:
            org = self._orgs[organisation_id] = org_json(view.orgs[organisation_id], view, self.lang)
        src = self._sources.get(source_system_id, False)
        if src is False:
            s = view.sources.get(source_system_id)
            src = self._sources[source_system_id] = {"root": s[0], "id": s[1], "name": s[2]} if s else None
        # When this value became public as it is (approval, opening, correction): what updatedSince filters on.
        updated = row.visible_since or row.updated_at
        return {
            "measureId": view.indicators[row.indicator_id].measure_id,
            "version": row.version,
            "periodStart": self._date(row.period_start),
            "periodEnd": self._date(row.period_end),
            "organisation": org,
            "stratum": row.stratum or None,
            "kind": row.kind,
            "rate": row.rate,
            "numerator": _count(row.numerator),
            "denominator": _count(row.denominator),
            "value": row.value,
            "measurePopulation": _count(row.population),
            "cohort": _count(row.cohort),
            "reasonCode": row.reason_code,
            "confidenceInterval": {"low": ci_low, "high": row.ci_high} if ci_low is not None else None,
            "standardDeviation": row.standard_deviation,
            "coverage": row.coverage,
            "exclusions": _count(row.exclusions),
            "referenceInterval": row.reference_interval,
            "firstServiceEncounter": self._date(row.first_encounter),
            "lastServiceEncounter": self._date(row.last_encounter),
            "sourceSystem": src,
            # SQLite gives naive UTC datetimes; PostgreSQL aware ones
            "updatedAt": (updated.isoformat() + "Z") if updated.tzinfo is None else iso(updated),
        }

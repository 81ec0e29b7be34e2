"""What the preview UI reads from the store. Every measurement read goes through the one visibility rule.

An indicator the audience may not see is reported as absent (``None``), exactly like an unknown id, so a
page never hints that a restricted or unpublished indicator exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select
from sqlalchemy.orm import aliased

from ..domain.periods import Period
from ..publish.visibility import Audience, visible_indicator_ids, visible_measurements
from ..store.tables import indicators, measurements, organisations


@dataclass(frozen=True)
class IndicatorInfo:
    id: int
    measure_id: str
    version: int
    title: str
    unit_type: str
    kind: str
    frequency: str
    parent_measure_id: str | None
    sex: str | None


@dataclass(frozen=True)
class ResultRow:
    organisation: str
    org_type: str
    parent: str | None  # the organisation this one is part of (context for units with common names)
    stratum: str
    kind: str  # proportion | continuous | cohort | missing
    rate: float | None
    numerator: float | None
    denominator: float | None
    value: float | None
    population: float | None
    cohort: float | None
    reason_code: str | None
    ci_low: float | None
    ci_high: float | None
    coverage: float | None
    # Who the row is: the id shown in the table (HSA-id, or the code of a län/kommun/hospital without one),
    # and the län and sjukvårdsregion it lies in (for the filters); filled by ``place``.
    org_key: str = ""
    org_code: str | None = None
    lan_code: str | None = None
    region_code: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    version: int | None = None  # the indicator's major version the value was computed under (issue #16)

    @property
    def point(self) -> float | None:
        """The one number a chart plots: rate, value or count; None when masked or missing."""
        if self.kind == "proportion":
            return self.rate
        if self.kind == "continuous":
            return self.value
        if self.kind == "cohort":
            return self.cohort
        return None


def _info(r: Any) -> IndicatorInfo:
    return IndicatorInfo(
        r.id, r.measure_id, r.version, r.title, r.unit_type, r.kind, r.frequency, r.parent_measure_id, r.sex
    )


def visible_indicators(conn: Connection, audience: Audience) -> list[IndicatorInfo]:
    """The indicators the audience may see, ordered by measure id (numeric ids numerically)."""
    ids = visible_indicator_ids(conn, audience)
    if not ids:
        return []
    rows = conn.execute(select(indicators).where(indicators.c.id.in_(sorted(ids)))).all()
    return sorted((_info(r) for r in rows), key=lambda i: (len(i.measure_id), i.measure_id))


def visible_indicator(conn: Connection, audience: Audience, measure_id: str) -> IndicatorInfo | None:
    row = conn.execute(select(indicators).where(indicators.c.measure_id == measure_id)).first()
    if row is None or row.id not in visible_indicator_ids(conn, audience):
        return None
    return _info(row)


def available_periods(conn: Connection, audience: Audience, indicator: IndicatorInfo) -> list[Period]:
    """Periods with at least one visible measurement: newest end first, then the longest first."""
    clause = visible_measurements(conn, audience, [indicator.id])
    rows = conn.execute(
        select(measurements.c.period_start, measurements.c.period_end)
        .where(measurements.c.indicator_id == indicator.id, clause)
        .distinct()
    ).all()
    periods = [Period(_as_date(r.period_start), _as_date(r.period_end)) for r in rows]
    return sorted(periods, key=lambda p: (-p.end.toordinal(), p.start.toordinal()))


Places = dict[int, tuple[str | None, str | None]]


def results(
    conn: Connection,
    audience: Audience,
    indicator: IndicatorInfo,
    period: Period | None,
    org_keys: list[str] | None = None,
    places: Places | None = None,
) -> list[ResultRow]:
    """Every visible measurement of the indicator for exactly ``period`` (every period when None; then only
    of ``org_keys``), with organisation names, ids, and län and region from ``places`` (:func:`places`; read
    here when not given)."""
    org, parent = organisations, aliased(organisations)
    clause = visible_measurements(conn, audience, [indicator.id])
    m = measurements.c
    where = [m.indicator_id == indicator.id, clause]
    if period is not None:
        where += [m.period_start == period.start, m.period_end == period.end]
    if org_keys is not None:
        where.append(org.c.key.in_(org_keys))
    q = (
        select(
            org.c.name.label("organisation"),
            org.c.type.label("org_type"),
            parent.c.name.label("parent"),
            m.stratum, m.kind, m.rate, m.numerator, m.denominator, m.value, m.population, m.cohort,
            m.reason_code, m.ci_low, m.ci_high, m.coverage,
            org.c.key.label("org_key"), org.c.id.label("org_id"), org.c.hsa_id, org.c.org_extension,
            m.period_start, m.period_end, m.version,
        )
        .select_from(measurements.join(org, org.c.id == m.organisation_id).outerjoin(parent, parent.c.id == org.c.parent_id))
        .where(and_(*where))
    )
    rows = conn.execute(q).all()
    if places is None:
        places = organisation_places(conn) if rows else {}
    out = []
    for r in rows:
        # positional: the first 15 columns are ResultRow's first 15 fields (a big registry has thousands of rows)
        lan_code, region_code = places.get(r.org_id, (None, None))
        out.append(
            ResultRow(*r[:15], r.org_key, r.hsa_id or r.org_extension, lan_code, region_code, _as_date(r.period_start), _as_date(r.period_end), r.version)
        )
    return out


def organisation_places(conn: Connection) -> Places:
    """Organisation id -> (länskod, sjukvårdsregion code), found by walking up the parent chain to a län.

    Reads the organisation tree once (a few thousand rows even for a large registry)."""
    from .. import refdata

    o = organisations.c
    tree = {r.id: r for r in conn.execute(select(o.id, o.parent_id, o.type, o.org_extension))}
    lans = refdata.lan()
    regions = refdata.sjukvardsregioner()
    out: dict[int, tuple[str | None, str | None]] = {}
    for oid in tree:
        node, seen, lan_code, region = tree.get(oid), 0, None, None
        while node is not None and seen < 20:  # a cycle in bad data must not hang the page
            if node.type == "Lan" and node.org_extension in lans:
                lan_code = node.org_extension
                region = lans[lan_code].region_code
                break
            if node.type == "Sjukvardsregion" and node.org_extension in regions:
                region = node.org_extension
                break
            node, seen = tree.get(node.parent_id), seen + 1
        out[oid] = (lan_code, region)
    return out


def _as_date(value: Any) -> date:
    # SQLite hands back dates as ``date`` through SQLAlchemy's Date type; keep a guard for raw strings.
    return value if isinstance(value, date) else date.fromisoformat(str(value))

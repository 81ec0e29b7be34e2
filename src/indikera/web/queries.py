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


def results(conn: Connection, audience: Audience, indicator: IndicatorInfo, period: Period) -> list[ResultRow]:
    """Every visible measurement of the indicator for exactly ``period``, with organisation names."""
    org, parent = organisations, aliased(organisations)
    clause = visible_measurements(conn, audience, [indicator.id])
    m = measurements.c
    q = (
        select(
            org.c.name.label("organisation"),
            org.c.type.label("org_type"),
            parent.c.name.label("parent"),
            m.stratum, m.kind, m.rate, m.numerator, m.denominator, m.value, m.population, m.cohort,
            m.reason_code, m.ci_low, m.ci_high, m.coverage,
        )
        .select_from(measurements.join(org, org.c.id == m.organisation_id).outerjoin(parent, parent.c.id == org.c.parent_id))
        .where(and_(m.indicator_id == indicator.id, m.period_start == period.start, m.period_end == period.end, clause))
    )
    return [ResultRow(**r._mapping) for r in conn.execute(q)]


def _as_date(value: Any) -> date:
    # SQLite hands back dates as ``date`` through SQLAlchemy's Date type; keep a guard for raw strings.
    return value if isinstance(value, date) else date.fromisoformat(str(value))

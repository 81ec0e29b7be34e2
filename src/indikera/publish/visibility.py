"""The one visibility rule every channel uses (SOAP producer, open-data API, UI).

A measurement is visible to an audience when
  * its batch is approved (not merely applied, not de-published), and
  * its indicator's publication level for the measurement's period is
      - ``open``: visible to everyone, the anonymous public included, or
      - ``restricted``: visible only to a consumer with a valid agreement that covers the indicator;
      - ``unpublished`` (also the default when no rule exists): visible to nobody.
A rule narrowed to a period range applies to measurements lying fully inside it and wins over the
indicator-wide rule; when a measurement lies inside several period rules, every one of them must allow
the audience (the most restrictive wins). See ``store.catalog_tables.publication_rules``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from sqlalchemy import ColumnElement, Connection, Table, and_, false, not_, or_, select
from sqlalchemy.sql import visitors

from ..catalog.model import Description
from ..catalog.store import latest_stored
from ..domain.audience import PUBLIC, Audience  # re-exported: the channels read both from here
from ..store.access_tables import agreements
from ..store.catalog_tables import publication_rules
from ..store.tables import batches, indicators, measurements


class Level(str, Enum):
    UNPUBLISHED = "unpublished"
    RESTRICTED = "restricted"
    OPEN = "open"


@dataclass(frozen=True)
class _Rule:
    start: date | None
    end: date | None
    level: Level


def _rules(conn: Connection, indicator_ids: Iterable[int] | None) -> dict[int, list[_Rule]]:
    q = select(publication_rules.c.indicator_id, publication_rules.c.period_start, publication_rules.c.period_end, publication_rules.c.level)
    if indicator_ids is not None:
        q = q.where(publication_rules.c.indicator_id.in_(list(indicator_ids)))
    out: dict[int, list[_Rule]] = defaultdict(list)
    for r in conn.execute(q):
        out[r.indicator_id].append(_Rule(r.period_start, r.period_end, Level(r.level)))
    return out


def agreed_indicator_ids(conn: Connection, audience: Audience) -> tuple[bool, set[int]]:
    """(covers every restricted indicator?, the indicator ids named) by the consumer's valid agreements."""
    if audience.is_public:
        return False, set()
    rows = conn.execute(
        select(agreements.c.indicator_id).where(
            agreements.c.consumer_hsa_id == audience.consumer_hsa_id,
            agreements.c.ended_at.is_(None),
            agreements.c.valid_from <= audience.on,
            or_(agreements.c.valid_to.is_(None), agreements.c.valid_to >= audience.on),
        )
    ).all()
    return any(r.indicator_id is None for r in rows), {r.indicator_id for r in rows if r.indicator_id is not None}


def _allowed(level: Level, indicator_id: int, all_restricted: bool, agreed: set[int]) -> bool:
    if level is Level.OPEN:
        return True
    if level is Level.RESTRICTED:
        return all_restricted or indicator_id in agreed
    return False


def _inside(rule: _Rule) -> ColumnElement[bool]:
    return and_(measurements.c.period_start >= rule.start, measurements.c.period_end <= rule.end)


def visible_measurements(
    conn: Connection, audience: Audience, indicator_ids: Iterable[int] | None = None
) -> ColumnElement[bool]:
    """A WHERE clause over ``measurements`` that keeps exactly what ``audience`` may see.

    ``indicator_ids`` limits the rules loaded (and the clause) to those indicators; pass the ids a
    query asks for so the clause stays small.
    """
    ids = None if indicator_ids is None else sorted(set(indicator_ids))
    rules = _rules(conn, ids)
    all_restricted, agreed = agreed_indicator_ids(conn, audience)
    plain: list[int] = []  # indicators whose one indicator-wide rule allows everything
    parts: list[ColumnElement[bool]] = []
    for indicator_id, rs in rules.items():
        wide = next((r for r in rs if r.start is None), None)
        narrowed = [r for r in rs if r.start is not None]
        wide_ok = wide is not None and _allowed(wide.level, indicator_id, all_restricted, agreed)
        if not narrowed:
            if wide_ok:
                plain.append(indicator_id)
            continue
        allowed_ranges = [_inside(r) for r in narrowed if _allowed(r.level, indicator_id, all_restricted, agreed)]
        denied_ranges = [_inside(r) for r in narrowed if not _allowed(r.level, indicator_id, all_restricted, agreed)]
        # Inside several period rules, the most restrictive wins: one rule the audience is not allowed hides it.
        clause = and_(or_(false(), *allowed_ranges), not_(or_(false(), *denied_ranges)))
        if wide_ok:
            clause = or_(clause, not_(or_(*[_inside(r) for r in narrowed])))
        parts.append(and_(measurements.c.indicator_id == indicator_id, clause))
    if plain:
        parts.append(measurements.c.indicator_id.in_(plain))
    if not parts:
        return false()
    approved = measurements.c.batch_id.in_(select(batches.c.id).where(batches.c.status == "approved"))
    return and_(approved, or_(*parts))


def on_table(clause: ColumnElement[bool], table: Table) -> ColumnElement[bool]:
    """``clause`` (over ``measurements``) rewritten to the same-named columns of ``table``: the history, or a
    summary keyed by the columns visibility decides on (``store.summary_tables``). A clause that needs a
    column ``table`` lacks raises, rather than silently deciding on something else."""
    def swap(element, **_kw):
        if getattr(element, "table", None) is measurements:
            if element.key not in table.c:
                raise ValueError(f"visibility needs measurements.{element.key}, which {table.name} lacks")
            return table.c[element.key]
        return None

    return visitors.replacement_traverse(clause, {}, swap)


def period_ruled(conn: Connection, indicator_ids: Iterable[int]) -> set[int]:
    """Of these indicators, those with a rule narrowed to a period: their visibility depends on each value's period."""
    ids = sorted(set(indicator_ids))
    if not ids:
        return set()
    return set(conn.execute(select(publication_rules.c.indicator_id).where(
        publication_rules.c.indicator_id.in_(ids), publication_rules.c.period_start.is_not(None))).scalars())


def level_of(conn: Connection, indicator_id: int) -> Level:
    """The indicator-wide publication level (``unpublished`` when none is set)."""
    row = conn.execute(
        select(publication_rules.c.level).where(
            publication_rules.c.indicator_id == indicator_id, publication_rules.c.period_start.is_(None)
        )
    ).first()
    return Level(row.level) if row else Level.UNPUBLISHED


def visible_indicator_ids(conn: Connection, audience: Audience) -> set[int]:
    """Indicators whose description the audience may see: any of its rules (indicator-wide, or narrowed
    to a period) has a level the audience is allowed, so whoever sees a value can also read what it means.
    A de-published indicator has only ``unpublished`` rules and is visible to nobody."""
    all_restricted, agreed = agreed_indicator_ids(conn, audience)
    rows = conn.execute(select(publication_rules.c.indicator_id, publication_rules.c.level))
    return {r.indicator_id for r in rows if _allowed(Level(r.level), r.indicator_id, all_restricted, agreed)}


def visible_descriptions(conn: Connection, audience: Audience) -> dict[str, Description]:
    """The latest catalogue description of every indicator the audience may see, by measure id (read by the
    catalogue's one reader, ``catalog.store.description_versions``)."""
    ids = visible_indicator_ids(conn, audience)
    if not ids:
        return {}
    mids = conn.execute(select(indicators.c.measure_id).where(indicators.c.id.in_(sorted(ids)))).scalars().all()
    return {mid: stored.description for mid, stored in latest_stored(conn, mids).items()}


__all__ = [
    "PUBLIC",
    "Audience",
    "Level",
    "agreed_indicator_ids",
    "level_of",
    "on_table",
    "period_ruled",
    "visible_descriptions",
    "visible_indicator_ids",
    "visible_measurements",
]

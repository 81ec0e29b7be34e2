"""What app developers expect of ``/results`` (issue #15, after Kolada, PxWeb and DHIS2): ``total``,
``sort`` for ranking tables and ``period=latest`` / ``period=last-N``.

* ``total`` is one ``COUNT(*)`` over the same filtered query (the visibility clause included): one more
  index-backed aggregate per page, no rows read into Python.
* ``sort`` pages with a keyset over (sort value, the natural key): the natural key is unique, so ties break
  the same way on every page and a cursor continues exactly. A descending sort is the exact reverse of the
  ascending total order (``name`` is compared with the database's collation on both sides of the keyset).
  ``value`` sorts by the rate (proportions) or the value (others); a missing value (masked, ``MSK``) comes
  last in both directions.
* ``period=latest`` / ``last-N``: per indicator, the newest N periods that have visible values, each period
  length (year, half-year, quarter, month, other) on its own, so an indicator with yearly and quarterly
  results gets its latest year *and* its latest quarter.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Engine, case, func, select, tuple_

from ..publish.visibility import PUBLIC, visible_measurements
from ..store.tables import measurements, organisations
from . import results
from .params import bad_parameter

M, O = measurements.c, organisations.c
MAX_LAST = 20
SORTS = ("value", "-value", "name", "-name", "period", "-period")
_PERIOD = re.compile(r"latest|last-([1-9][0-9]?)")
_NATURAL = (M.indicator_id, M.period_start, M.period_end, M.organisation_id, M.stratum)


def parse_period(value: str | None) -> int | None:
    """``latest`` → 1, ``last-N`` → N (1 ≤ N ≤ MAX_LAST); None when not given; anything else a 400."""
    if value is None:
        return None
    m = _PERIOD.fullmatch(value.strip())
    n = 1 if m and m.group(0) == "latest" else int(m.group(1)) if m else 0
    if not 1 <= n <= MAX_LAST:
        raise bad_parameter("period", f"period ska vara latest eller last-N (N mellan 1 och {MAX_LAST}).",
                            f"period must be latest or last-N (N between 1 and {MAX_LAST}).")
    return n


def length_class(start: date, end: date) -> str:
    """The kind of period, by its length in days (a year and a quarter of an indicator are kept apart)."""
    days = (end - start).days + 1
    for name, low, high in (("month", 28, 31), ("quarter", 89, 92), ("half-year", 181, 184), ("year", 365, 366)):
        if low <= days <= high:
            return name
    return f"days-{days}"


def latest_periods(engine: Engine, indicator_ids: tuple[int, ...], n: int) -> frozenset[tuple[int, date, date]]:
    """Per indicator and period length, the newest ``n`` periods with visible values."""
    with engine.connect() as conn:
        rows = conn.execute(select(M.indicator_id, M.period_start, M.period_end)
                            .where(visible_measurements(conn, PUBLIC, indicator_ids), M.indicator_id.in_(indicator_ids))
                            .distinct()).all()
    groups: dict[tuple[int, str], list[tuple[date, date]]] = defaultdict(list)
    for ind, start, end in rows:
        groups[(ind, length_class(start, end))].append((start, end))
    chosen = set()
    for (ind, _), periods in groups.items():
        for start, end in sorted(periods, key=lambda p: (p[1], p[0]), reverse=True)[:n]:
            chosen.add((ind, start, end))
    return frozenset(chosen)


def total(engine: Engine, f: results.ResultFilter) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(measurements).where(*results.where(conn, f))).scalar_one()


def parse_sort(value: str | None, f: results.ResultFilter) -> str | None:
    if value is None:
        return None
    if value not in SORTS:
        raise bad_parameter("sort", f"sort ska vara en av {', '.join(SORTS)}.", f"sort must be one of {', '.join(SORTS)}.")
    if f.updated_since is not None:
        raise bad_parameter("sort", "sort kan inte kombineras med updatedSince (som har ändringsordning).",
                            "sort cannot be combined with updatedSince (which has the change order).")
    return value


def _value():
    return func.coalesce(M.rate, M.value)


def _sort_columns(sort: str) -> list[Any]:
    """The ascending total order behind ``sort`` (descending sorts reverse it, except value: see below)."""
    field = sort.lstrip("-")
    if field == "value":
        missing = case((_value().is_(None), 1), else_=0)
        # nulls last both ways: the missing flag stays ascending and -value negates the number instead
        v = -_value() if sort.startswith("-") else _value()
        return [missing, func.coalesce(v, 0.0), *_NATURAL]
    if field == "name":
        return [O.name, *_NATURAL]
    return [M.period_start, M.period_end, M.indicator_id, M.organisation_id, M.stratum]


def _reversed(sort: str) -> bool:
    return sort in ("-name", "-period")


def _decode_key(sort: str, key: list[Any]) -> list[Any]:
    bad = bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
    try:
        natural = key[-5:]
        ind, start, end, org, stratum = natural if sort.lstrip("-") != "period" else (natural[2], natural[0], natural[1], natural[3], natural[4])
        if not (isinstance(ind, int) and isinstance(org, int) and isinstance(stratum, str)):
            raise bad
        start, end = date.fromisoformat(start), date.fromisoformat(end)
        field = sort.lstrip("-")
        if field == "value":
            if len(key) != 7 or key[0] not in (0, 1):
                raise bad
            return [key[0], float(key[1]), ind, start, end, org, stratum]
        if field == "name":
            if len(key) != 6 or not isinstance(key[0], str):
                raise bad
            return [key[0], ind, start, end, org, stratum]
        if len(key) != 5:
            raise bad
        return [start, end, ind, org, stratum]
    except (TypeError, ValueError):
        raise bad from None


def _encode_key(sort: str, extra: list[Any], row: Any) -> list[Any]:
    natural = [row.indicator_id, row.period_start.isoformat(), row.period_end.isoformat(), row.organisation_id, row.stratum]
    field = sort.lstrip("-")
    if field == "value":
        return [extra[0], repr(float(extra[1])), *natural]
    if field == "name":
        return [extra[0], *natural]
    return [natural[1], natural[2], natural[0], natural[3], natural[4]]


def sorted_page(engine: Engine, f: results.ResultFilter, sort: str, *, after: list[Any] | None,
                limit: int) -> tuple[list[Any], list[Any] | None]:
    """One page in ``sort`` order and the key to continue after (None on the last page)."""
    cols = _sort_columns(sort)
    head = cols[:-5]  # the sort value(s) before the natural key, selected for the cursor
    with engine.connect() as conn:
        q = (select(*results.COLUMNS, *head).select_from(measurements.join(organisations, O.id == M.organisation_id))
             .where(*results.where(conn, f)))
        if after is not None:
            key = _decode_key(sort, after)
            q = q.where(tuple_(*cols) < tuple_(*key) if _reversed(sort) else tuple_(*cols) > tuple_(*key))
        q = q.order_by(*(c.desc() for c in cols) if _reversed(sort) else cols).limit(limit + 1)
        raw = conn.execute(q).all()
    n = len(results.COLUMNS)
    rows = [results.ResultRow(*r[:n]) for r in raw[:limit]]
    extras = [list(r[n:]) for r in raw[:limit]]
    last = _encode_key(sort, extras[-1], rows[-1]) if len(raw) > limit and rows else None
    return rows, last

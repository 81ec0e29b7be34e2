"""Rules that span several measurements: uniqueness (R9) and non-overlapping periods (R8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .periods import Period, period_length_key


@dataclass(frozen=True)
class Conflict:
    code: str
    message: str
    first: int  # position (0-based) of the earlier item
    second: int  # position of the later, conflicting item


SeriesKey = tuple[str, str, str]  # (measure id, organisation key, stratum)


def find_conflicts(items: Iterable[tuple[SeriesKey, Period]]) -> list[Conflict]:
    """Duplicates and same-length overlaps among (series, period) pairs, in input order.

    Runs in O(n log n): periods of one series and one length are sorted and only neighbours compared,
    since two same-length periods overlap exactly when sorted neighbours do.
    """
    conflicts: list[Conflict] = []
    seen: dict[tuple[SeriesKey, Period], int] = {}
    groups: dict[tuple[SeriesKey, tuple[str, int]], list[tuple[Period, int]]] = defaultdict(list)
    lengths: dict[Period, tuple[str, int]] = {}  # a file has few distinct periods
    for pos, (series, period) in enumerate(items):
        first = seen.get((series, period))
        if first is not None:
            conflicts.append(
                Conflict("DUPLICATE", f"a value for {series[0]} / {series[1]} / {period} already exists", first, pos)
            )
            continue
        seen[(series, period)] = pos
        length = lengths.get(period)
        if length is None:
            length = lengths[period] = period_length_key(period)
        groups[(series, length)].append((period, pos))
    for (series, _), periods in groups.items():
        periods.sort()
        for (a, pa), (b, pb) in zip(periods, periods[1:]):
            if a.overlaps(b):
                first, second = sorted((pa, pb))
                conflicts.append(
                    Conflict(
                        "OVERLAP",
                        f"periods {a} and {b} of {series[0]} / {series[1]} have the same length and overlap",
                        first,
                        second,
                    )
                )
    conflicts.sort(key=lambda c: (c.second, c.first))
    return conflicts

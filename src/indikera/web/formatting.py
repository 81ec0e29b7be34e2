"""How numbers, periods and codes read on the page, in Swedish or English. Pure functions, no I/O."""

from __future__ import annotations

import calendar
import re
from datetime import date

from ..domain.errors import DomainError
from ..domain.periods import Period, parse_date

# Organisation levels in the order a reader expects them: the nation first, the smallest units last.
LEVEL_ORDER = ("Land", "Lan", "Sjukvardsregion", "Sjukhus", "Kommun", "Vardenhet")

_PERIOD_PARAM = re.compile(r"([0-9]{8})-([0-9]{8})")  # ASCII digits only; used with fullmatch


class BadPeriod(ValueError):
    """The ``period`` parameter is not of the form YYYYMMDD-YYYYMMDD with real dates in order."""


def period_param(period: Period) -> str:
    return f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"


def parse_period_param(text: str) -> Period:
    match = _PERIOD_PARAM.fullmatch(text)
    if not match:
        raise BadPeriod(text)
    try:
        return Period(parse_date(match.group(1)), parse_date(match.group(2)))
    except DomainError:
        raise BadPeriod(text) from None


def _month_end(d: date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]


def period_label(period: Period, lang: str) -> str:
    """"2024", "2024 kv 3", "2024 halvår 1", "2024-05", or the plain date range."""
    s, e = period.start, period.end
    if s.day == 1 and _month_end(e) and s.year == e.year:
        months = e.month - s.month + 1
        if months == 12:
            return str(s.year)
        if months == 3 and s.month % 3 == 1:
            q = (s.month - 1) // 3 + 1
            return f"{s.year} kv {q}" if lang == "sv" else f"{s.year} Q{q}"
        if months == 6 and s.month in (1, 7):
            h = 1 if s.month == 1 else 2
            return f"{s.year} halvår {h}" if lang == "sv" else f"{s.year} H{h}"
        if months == 1:
            return f"{s.year}-{s.month:02d}"
    return f"{s.isoformat()} – {e.isoformat()}"


def number(value: float, lang: str, decimals: int = 1) -> str:
    """Swedish: decimal comma and a (no-break) space between thousands; English: point and comma."""
    text = f"{value:,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def count(value: float, lang: str) -> str:
    return number(value, lang, 0 if float(value).is_integer() else 1)


def percent(rate: float, lang: str) -> str:
    return f"{number(rate * 100, lang)}\u00a0%"


def interval(low: float, high: float, lang: str, as_percent: bool) -> str:
    if as_percent:
        return f"{number(low * 100, lang)}–{number(high * 100, lang)}\u00a0%"
    return f"{number(low, lang)}–{number(high, lang)}"


def level_rank(org_type: str) -> int:
    return LEVEL_ORDER.index(org_type) if org_type in LEVEL_ORDER else len(LEVEL_ORDER)

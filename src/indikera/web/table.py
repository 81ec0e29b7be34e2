"""What the results table shows of a period's rows: filters, search, sort order and the page (issue #18).

Pure (no I/O). Every choice lives in the URL, so a filtered, sorted page is a link, works without JavaScript,
and the page's downloads (``web/download.py``) apply exactly the same :func:`select` to give the table's rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .. import refdata
from ..opendata.descriptions import fold
from .queries import ResultRow
from .views import LEVEL_SLUGS, ordered, sv_key

PAGE_SIZE = 100  # rows per page: a 1 500-unit registry's page stays small (docs/ui.md, "Big registries")
MAX_SEARCH = 100
SORTS = ("standard", "namn", "varde", "ki")
ORDERS = ("stigande", "fallande")


class BadParameter(ValueError):
    """A table parameter outside its allowed values; ``key`` names the i18n message, ``value`` the input."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__(key)
        self.key, self.value = key, value


@dataclass(frozen=True)
class TableQuery:
    niva: str = ""  # level slug (organisation type)
    lan: str = ""  # länskod
    region: str = ""  # sjukvårdsregion code
    sok: str = ""  # search in name and id
    sort: str = "standard"
    ordning: str = ""  # "" = the sort's natural order (best first for values)
    sida: int = 1

    def params(self, **changes: object) -> dict[str, str]:
        """The query as URL parameters (defaults left out), with ``changes`` applied."""
        q = replace(self, **changes)  # type: ignore[arg-type]
        out = {k: str(getattr(q, k)) for k in ("niva", "lan", "region", "sok", "sort", "ordning", "sida")}
        return {k: v for k, v in out.items() if v and not (k == "sort" and v == "standard") and not (k == "sida" and v == "1")}


def parse(params: Mapping[str, str]) -> TableQuery:
    """Read the table's parameters; a value outside the allowed set raises :class:`BadParameter`."""
    niva = params.get("niva", "")
    if niva and niva not in LEVEL_SLUGS:
        raise BadParameter("error_bad_level", niva)
    lan = params.get("lan", "")
    if lan and lan not in refdata.lan():
        raise BadParameter("error_bad_filter", lan)
    region = params.get("region", "")
    if region and region not in refdata.sjukvardsregioner():
        raise BadParameter("error_bad_filter", region)
    sok = params.get("sok", "")
    if len(sok) > MAX_SEARCH:
        raise BadParameter("error_long_query", sok)
    sort = params.get("sort", "") or "standard"
    if sort not in SORTS:
        raise BadParameter("error_bad_sort", sort)
    ordning = params.get("ordning", "")
    if ordning and ordning not in ORDERS:
        raise BadParameter("error_bad_sort", ordning)
    raw_page = params.get("sida", "") or "1"
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= 100000:
        raise BadParameter("error_bad_page", raw_page)
    clean = "".join(ch for ch in sok if ch.isprintable()).strip()
    return TableQuery(niva, lan, region, clean, sort, ordning, int(raw_page))


def best_first_descending(direction: str | None) -> bool:
    """Values sorted "best first": highest first unless a low value is good."""
    return direction != "low"


def select(rows: list[ResultRow], q: TableQuery, direction: str | None = None) -> list[ResultRow]:
    """The rows the table shows over all its pages, in its order."""
    level = LEVEL_SLUGS.get(q.niva)
    needle = fold(q.sok).split() if q.sok else []
    kept = [
        r
        for r in rows
        if (level is None or r.org_type == level)
        and (not q.lan or r.lan_code == q.lan)
        and (not q.region or r.region_code == q.region)
        and all(any(w in fold(f or "") for f in (r.organisation, r.org_code, r.parent)) for w in needle)
    ]
    return sort(kept, q, direction)


def sort(rows: list[ResultRow], q: TableQuery, direction: str | None) -> list[ResultRow]:
    base = ordered(rows)  # ties keep the standard order: level, name
    if q.sort == "standard":
        return base[::-1] if q.ordning == "fallande" else base
    if q.sort == "namn":
        keyed = sorted(base, key=lambda r: (sv_key(r.organisation), sv_key(r.parent or "")))
        return keyed[::-1] if q.ordning == "fallande" else keyed
    if q.sort == "varde":
        descending = best_first_descending(direction) if not q.ordning else q.ordning == "fallande"
        known = [r for r in base if r.point is not None]
        known.sort(key=lambda r: r.point, reverse=descending)  # type: ignore[arg-type,return-value]
        return known + [r for r in base if r.point is None]  # no value: always last
    # "ki": the CI's width, narrowest (most precise) first
    known = [r for r in base if r.point is not None and r.ci_low is not None and r.ci_high is not None]
    known.sort(key=lambda r: r.ci_high - r.ci_low, reverse=q.ordning == "fallande")  # type: ignore[operator]
    ids = {id(r) for r in known}
    return known + [r for r in base if id(r) not in ids]


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int
    first: int  # 1-based index of the first row shown (0 when empty)
    last: int


def page(rows: list[ResultRow], q: TableQuery) -> tuple[list[ResultRow], Page]:
    """One page of the selected rows; a page number past the end shows the last page."""
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    number = min(q.sida, pages)
    start = (number - 1) * PAGE_SIZE
    shown = rows[start : start + PAGE_SIZE]
    return shown, Page(number, pages, len(rows), start + 1 if shown else 0, start + len(shown))


def filter_options(rows: list[ResultRow]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The län and sjukvårdsregioner that occur among the rows: (code, name), in Swedish order."""
    lans, regions = refdata.lan(), refdata.sjukvardsregioner()
    lan_codes = {r.lan_code for r in rows if r.lan_code}
    region_codes = {r.region_code for r in rows if r.region_code}
    return (
        sorted(((c, lans[c].name) for c in lan_codes), key=lambda x: sv_key(x[1])),
        sorted(((c, regions[c].name) for c in region_codes), key=lambda x: sv_key(x[1])),
    )

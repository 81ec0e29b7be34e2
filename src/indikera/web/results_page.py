"""Everything the indicator page (and its downloads) reads, for one audience, in one function: :func:`load`.

The page, its CSV/XLSX downloads and a later staff preview call the same loader, so a download holds exactly
the table's rows and a preview differs from the public page only by the audience it passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection

from ..catalog.model import Description
from ..catalog.store import description_for_preview, latest_stored
from ..domain.errors import DomainError
from ..domain.indicators import check_measure_id
from ..domain.periods import Period
from ..publish.visibility import Audience
from . import queries, table, views
from .formatting import BadPeriod, parse_period_param, period_label
from .page_errors import PageError
from .queries import IndicatorInfo, ResultRow

CHART_MAX = 100  # more organisations than this at the chosen level: the ranking shows the table's page
MAX_KEY = 200


@dataclass
class IndicatorData:
    ind: IndicatorInfo
    doc: Description | None
    family: list[IndicatorInfo]
    periods: list[Period]
    period: Period | None
    query: table.TableQuery
    rows: list[ResultRow] = field(default_factory=list)  # every row of the period
    selected: list[ResultRow] = field(default_factory=list)  # the table over all its pages, in order
    shown: list[ResultRow] = field(default_factory=list)  # this page of the table
    page: table.Page | None = None
    chart_rows: list[ResultRow] = field(default_factory=list)  # Riket and the ranked level
    chart_level: str = "Lan"
    chart_is_page: bool = False  # the level has more than CHART_MAX: the chart ranks this page's rows
    sexes: list[tuple[IndicatorInfo, dict[tuple[str, str], ResultRow]]] = field(default_factory=list)
    direction: str | None = None  # "high" | "low" | None
    targets: list[tuple[str, float]] = field(default_factory=list)  # Riket's target levels, least demanding first
    compare: str = ""  # organisation key of the trend's second series ("" : Riket only)
    trend_rows: list[ResultRow] = field(default_factory=list)


def shown_descriptions(conn: Connection, measure_ids: list[str]) -> dict[str, Description]:
    """The newest description of each indicator, from the catalogue's one reader."""
    return {mid: s.description for mid, s in latest_stored(conn, measure_ids).items()} if measure_ids else {}


def _period(params: Mapping[str, str], periods: list[Period], lang: str) -> Period | None:
    asked = params.get("period")
    if not asked:
        return periods[0] if periods else None
    try:
        period = parse_period_param(asked)
    except BadPeriod:
        raise PageError(400, "error_bad_period", value=asked[:64]) from None
    if period not in periods:
        raise PageError(404, "error_no_period", period=period_label(period, lang))
    return period


def _targets(doc: Description | None, direction: str | None) -> list[tuple[str, float]]:
    if doc is None:
        return []
    riket = [
        (getattr(t.level, "value", "") or "", t.value)
        for t in doc.targets or ()
        if (t.organisation or "riket").lower() == "riket" and isinstance(t.value, (int, float))
    ]
    return sorted(riket, key=lambda t: t[1], reverse=direction == "low")


def load(conn: Connection, audience: Audience, measure_id: str, params: Mapping[str, str], lang: str,
         preview: bool = False) -> IndicatorData:
    """The page's data for ``audience``; raises :class:`PageError` (404 for what the audience may not see).
    ``preview`` (staff only): the description is the newest that may still go live, a draft included."""
    try:
        check_measure_id(measure_id)
    except DomainError:
        raise PageError(404, "error_404_text") from None
    ind = queries.visible_indicator(conn, audience, measure_id)
    if ind is None:
        raise PageError(404, "error_404_text")
    try:
        query = table.parse(params)
    except table.BadParameter as exc:
        raise PageError(400, exc.key, value=exc.value[:64], max=table.MAX_SEARCH) from None
    compare = params.get("jmf", "")
    if len(compare) > MAX_KEY:
        raise PageError(400, "error_bad_filter", value=compare[:64])
    periods = queries.available_periods(conn, audience, ind)
    period = _period(params, periods, lang)
    if preview:
        draft = description_for_preview(conn, ind.measure_id)
        doc = draft.description if draft else None
    else:
        doc = shown_descriptions(conn, [ind.measure_id]).get(ind.measure_id)
    visible = queries.visible_indicators(conn, audience)
    family = [i for i in visible if i.parent_measure_id == ind.measure_id or i.measure_id == ind.parent_measure_id]
    # read leniently: a stored document may lack the direction (descriptions.read does the same)
    direction = getattr(getattr(doc, "direction", None), "value", None)
    direction = direction if direction in ("high", "low") else None
    data = IndicatorData(ind, doc, family, periods, period, query, direction=direction, targets=_targets(doc, direction))
    if period is None:
        return data
    places = queries.organisation_places(conn)  # read once, shared by every query below
    data.rows = views.ordered(queries.results(conn, audience, ind, period, places=places))
    data.selected = table.select(data.rows, query, direction)
    data.shown, data.page = table.page(data.selected, query)
    data.chart_level = views.LEVEL_SLUGS.get(query.niva, "Lan")
    level_rows = table.select(data.rows, table.TableQuery(views.SLUG_OF[data.chart_level], query.lan, query.region, query.sok))
    if len(level_rows) > CHART_MAX:
        level_rows, data.chart_is_page = [r for r in data.shown if r.org_type == data.chart_level], True
    riket = [r for r in data.rows if r.org_type == "Land" and not r.stratum]
    data.chart_rows = riket + [r for r in level_rows if r.org_type != "Land"]
    # Kvinnor and män beside the total: the sex sub-measures' rows for the same period, when public.
    for sub in sorted((f for f in family if f.parent_measure_id == ind.measure_id and f.sex), key=lambda f: f.sex or ""):
        sub_rows = queries.results(conn, audience, sub, period, places=places)  # none: the sub-measure lacks the period
        if sub_rows:
            data.sexes.append((sub, {(r.org_key, r.stratum): r for r in sub_rows}))
    # The trend: Riket and, when asked, one organisation, every period.
    keys = [r.org_key for r in riket[:1]]
    if compare:
        if compare not in {r.org_key for r in data.rows}:
            raise PageError(400, "error_bad_filter", value=compare[:64])
        data.compare = compare
        keys.append(compare)
    if keys:
        data.trend_rows = [r for r in queries.results(conn, audience, ind, None, org_keys=keys, places=places) if not r.stratum]
    return data

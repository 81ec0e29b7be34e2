"""What the indicator page's template gets: the loaded data (``results_page.load``) turned into text,
charts, links and the table's controls, in the page's language. Pure (no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import quote, urlencode

from ..domain.periods import Period
from . import chart, trend, versions, views
from . import description as descriptions
from .formatting import interval, level_rank, number, percent, period_label, period_param
from .results_page import IndicatorData
from .table import filter_options


def open_data_links(measure_id: str, period: Period, org_type: str | None = None) -> dict[str, str]:
    """The open-data API's addresses for the indicator and the period (``opendata``, under /api/v1)."""
    params = {"measureId": measure_id, "periodFrom": period.start.isoformat(), "periodTo": period.end.isoformat()}
    query = urlencode({**params, **({"organisationType": org_type} if org_type else {})})
    return {
        "indicator": f"/api/v1/indicators/{quote(measure_id, safe='')}",
        "results": f"/api/v1/results?{query}",
    }


def trend_charts(data: IndicatorData, t: Callable[..., str], lang: str, layout: trend.TrendLayout) -> list[trend.Trend]:
    """One chart per period length (yearly, quarterly, ...), Riket and the chosen organisation."""
    proportion = data.ind.kind == "proportion"
    by_key: dict[str, list[trend.Obs]] = {}
    names: dict[str, tuple[str, bool]] = {}
    split = versions.mixed(data.trend_rows)  # one series per definition version: never one line across a change
    for r in data.trend_rows:
        text = "–" if r.point is None else (percent(r.point, lang) if proportion else number(r.point, lang))
        if r.point is not None and r.ci_low is not None and r.ci_high is not None:
            text += f" ({t('col_ci')} {interval(r.ci_low, r.ci_high, lang, proportion)})"
        has_ci = r.point is not None and r.ci_low is not None and r.ci_high is not None
        obs = trend.Obs(r.period_start, r.period_end, r.point, r.ci_low if has_ci else None, r.ci_high if has_ci else None, text)  # type: ignore[arg-type]
        key = versions.series_key(r, split)
        by_key.setdefault(key, []).append(obs)
        names[key] = ((t("level_Land") if r.org_type == "Land" else r.organisation) + versions.suffix(r, split, t), r.org_type == "Land")

    def label(start: date, end: date) -> str:
        return period_label(Period(start, end), lang)

    def tick(value: float, step: float) -> str:
        if proportion:
            return f"{number(value * 100, lang, 0 if step >= 0.01 else 1)}\u00a0%"
        return number(value, lang, 0 if step >= 1 else 1)

    out = []
    order = sorted(by_key, key=lambda k: not names[k][1])  # Riket first
    for months, group in trend.groups({k: by_key[k] for k in order}).items():
        key = {12: "trend_yearly", 3: "trend_quarterly", 6: "trend_half_year", 1: "trend_monthly"}.get(months, "trend_other")
        series = [(names[k][0], names[k][1], group[k]) for k in order if k in group]
        if any(o.value is not None for _, _, obs in series for o in obs):
            out.append(trend.build(t(key), series, proportion, label, tick, layout))
    return out


def trend_table(data: IndicatorData, lang: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The trend's numbers as a table: one row per period (newest first), one column per series."""
    proportion = data.ind.kind == "proportion"
    split = versions.mixed(data.trend_rows)
    riket = {versions.series_key(r, split) for r in data.trend_rows if r.org_type == "Land"}
    keys = sorted({versions.series_key(r, split) for r in data.trend_rows}, key=lambda k: (k not in riket, k))
    names = {versions.series_key(r, split): r.organisation + versions.suffix(r, split, None) for r in data.trend_rows}
    cells: dict[tuple[date, date], dict[str, str]] = {}
    for r in data.trend_rows:
        text = "–" if r.point is None else (percent(r.point, lang) if proportion else number(r.point, lang))
        if r.point is not None and r.ci_low is not None and r.ci_high is not None:
            text += f" ({interval(r.ci_low, r.ci_high, lang, proportion)})"
        cells.setdefault((r.period_start, r.period_end), {})[versions.series_key(r, split)] = text  # type: ignore[index]
    periods = sorted(cells, key=lambda p: (-(p[1].toordinal()), p[0].toordinal()))
    return [names[k] for k in keys], [(period_label(Period(*p), lang), [cells[p].get(k, "–") for k in keys]) for p in periods]


def context(data: IndicatorData, t: Callable[..., str], lang: str) -> dict:
    ind, q = data.ind, data.query
    desc = descriptions.read(data.doc, lang)
    base = {"lang": lang, **({"period": period_param(data.period)} if data.period else {}), **({"jmf": data.compare} if data.compare else {})}

    def url(anchor: str = "table", jmf: str | None = None, **changes: object) -> str:
        """This page with the table's parameters changed (a sort or filter change goes back to page 1) or
        another organisation in the trend (``jmf``)."""
        if "sida" not in changes:
            changes["sida"] = 1
        kept = {**base, **({"jmf": jmf} if jmf is not None else {})}
        return "?" + urlencode({**kept, **q.params(**changes)}) + (f"#{anchor}" if anchor else "")

    def download(ext: str) -> str:
        return f"/indikatorer/{quote(ind.measure_id, safe='')}/resultat{ext}?" + urlencode({**{k: v for k, v in base.items() if k != "jmf"}, **q.params(sida=1)})

    proportion = ind.kind == "proportion"
    rows = data.rows
    lans, regions = filter_options(rows)
    levels = sorted({r.org_type for r in rows} | ({views.LEVEL_SLUGS[q.niva]} if q.niva else set()), key=level_rank)
    ranking = {}
    if data.chart_rows:
        for name, layout in (("chart", chart.WIDE), ("chart_narrow", chart.NARROW)):
            ranking[name] = views.chart_for(data.chart_rows, ind, t, lang, layout, data.chart_level, data.direction, data.targets)
    return {
        "ind": ind,
        "desc": desc,
        "family": data.family,
        "periods": [(period_param(p), period_label(p, lang)) for p in data.periods],
        "period": period_param(data.period) if data.period else None,
        "period_text": period_label(data.period, lang) if data.period else None,
        "levels": [(views.SLUG_OF[level], level) for level in levels],
        "slug": q.niva,
        "q": q,
        "lans": lans,
        "regions": regions,
        "url": url,
        "page": data.page,
        "rows": views.table_rows(
            data.shown, ind, lang, views.riket_point(rows), data.direction, data.targets, [s for _, s in data.sexes]
        ),
        "sex_columns": [t("sex_" + (sub.sex or "")) for sub, _ in data.sexes],
        "has_targets": bool(data.targets) and data.direction is not None,
        "completeness": views.completeness(rows, lang) if rows else None,
        "chart": ranking.get("chart"),
        # the same chart laid out for phones; the stylesheet shows one of the two
        "chart_narrow": ranking.get("chart_narrow"),
        "chart_level": data.chart_level,
        "chart_is_page": data.chart_is_page,
        "direction": data.direction,
        "trends": trend_charts(data, t, lang, trend.WIDE) if data.trend_rows else [],
        "trends_narrow": trend_charts(data, t, lang, trend.NARROW) if data.trend_rows else [],
        "trend_table": trend_table(data, lang) if data.trend_rows else None,
        "compare": data.compare,
        "compare_options": [(r.org_key, r.organisation) for r in rows if r.org_type in ("Lan", "Sjukvardsregion") and not r.stratum],
        "api": open_data_links(ind.measure_id, data.period, views.LEVEL_SLUGS.get(q.niva)) if data.period else None,
        "downloads": {"csv": download(".csv"), "excel": download("-excel.csv"), "xlsx": download(".xlsx")} if data.period else None,
        "target_text": lambda v: percent(v, lang) if proportion else number(v, lang),
        **versions.notices(data, t),
    }

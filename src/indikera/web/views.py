"""Turn result rows into what the indicator page shows: table rows, completeness figures and chart points.

Pure (no I/O); ``pages`` feeds it rows read through the visibility rule.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from . import chart
from .formatting import count, interval, level_rank, number, percent
from .queries import IndicatorInfo, ResultRow

# Level filter values in the URL (``niva``) and the organisation types they select.
LEVEL_SLUGS: dict[str, str] = {
    "riket": "Land",
    "lan": "Lan",
    "sjukvardsregion": "Sjukvardsregion",
    "sjukhus": "Sjukhus",
    "kommun": "Kommun",
    "vardenhet": "Vardenhet",
}
SLUG_OF = {v: k for k, v in LEVEL_SLUGS.items()}

# Swedish alphabetical order: å, ä, ö come after z.
_SV_ORDER = str.maketrans({"å": "z\u0001", "ä": "z\u0002", "ö": "z\u0003", "é": "e"})


def sv_key(name: str) -> str:
    return name.casefold().translate(_SV_ORDER)


@dataclass(frozen=True)
class TableRow:
    organisation: str
    parent: str | None
    org_type: str
    stratum: str
    value: str | None  # None: masked/missing
    reason_code: str | None
    ci: str | None
    numden: str | None
    coverage: str | None
    versus: str | None  # "above" | "below" | None (no clear difference or nothing to compare)
    reference: bool


@dataclass(frozen=True)
class Completeness:
    units: int
    reported: int
    masked: int
    invalid: int
    unreported: int
    coverage_median: str | None
    coverage_riket: str | None
    above: int
    below: int
    comparable: bool  # False: no Riket value or no intervals, so "different from Riket" cannot be said


def ordered(rows: list[ResultRow]) -> list[ResultRow]:
    """Riket first, then län, hospitals, municipalities and units, each alphabetically."""
    return sorted(rows, key=lambda r: (level_rank(r.org_type), sv_key(r.organisation), sv_key(r.parent or ""), r.stratum))


def riket_point(rows: list[ResultRow]) -> float | None:
    return next((r.point for r in rows if r.org_type == "Land" and not r.stratum and r.point is not None), None)


def versus(row: ResultRow, reference: float | None) -> str | None:
    if reference is None or row.org_type == "Land" or row.ci_low is None or row.ci_high is None or row.point is None:
        return None
    if row.ci_low > reference:
        return "above"
    if row.ci_high < reference:
        return "below"
    return None


def table_rows(rows: list[ResultRow], ind: IndicatorInfo, lang: str, reference: float | None = None) -> list[TableRow]:
    """``reference`` is Riket's value (pass it when ``rows`` are filtered to a level without Riket)."""
    reference = riket_point(rows) if reference is None else reference
    proportion = ind.kind == "proportion"
    out = []
    for r in rows:
        value = ci = numden = None
        if r.kind == "proportion" and r.rate is not None:
            value = percent(r.rate, lang)
            if r.numerator is not None and r.denominator is not None:
                numden = f"{count(r.numerator, lang)} / {count(r.denominator, lang)}"
        elif r.kind == "continuous" and r.value is not None:
            value = number(r.value, lang)
            numden = None if r.population is None else count(r.population, lang)
        elif r.kind == "cohort" and r.cohort is not None:
            value = count(r.cohort, lang)
        if value is not None and r.ci_low is not None and r.ci_high is not None:
            ci = interval(r.ci_low, r.ci_high, lang, proportion)
        out.append(
            TableRow(
                organisation=r.organisation,
                parent=r.parent if r.org_type in ("Vardenhet", "Sjukhus", "Kommun") else None,
                org_type=r.org_type,
                stratum=r.stratum,
                value=value,
                reason_code=(r.reason_code or "NI") if value is None else None,
                ci=ci,
                numden=numden,
                coverage=None if r.coverage is None else percent(r.coverage, lang),
                versus=versus(r, reference),
                reference=r.org_type == "Land",
            )
        )
    return out


def completeness(rows: list[ResultRow], lang: str) -> Completeness:
    """Figures over the reporting units (vårdenheter; every non-Riket row when there are none)."""
    rows = [r for r in rows if not r.stratum]  # strata would count a unit twice
    units = [r for r in rows if r.org_type == "Vardenhet"] or [r for r in rows if r.org_type != "Land"]
    reference = riket_point(rows)
    coverages = [r.coverage for r in units if r.coverage is not None]
    riket_cov = next((r.coverage for r in rows if r.org_type == "Land" and r.coverage is not None), None)
    directions = [versus(r, reference) for r in units]
    return Completeness(
        units=len(units),
        reported=sum(1 for r in units if r.point is not None),
        masked=sum(1 for r in units if r.reason_code == "MSK"),
        invalid=sum(1 for r in units if r.reason_code == "INV"),
        unreported=sum(1 for r in units if r.reason_code == "UNK"),
        coverage_median=percent(statistics.median(coverages), lang) if coverages else None,
        coverage_riket=None if riket_cov is None else percent(riket_cov, lang),
        above=directions.count("above"),
        below=directions.count("below"),
        comparable=reference is not None and any(r.ci_low is not None for r in units),
    )


def chart_for(
    rows: list[ResultRow], ind: IndicatorInfo, t: Callable[..., str], lang: str, layout: chart.Layout = chart.WIDE
) -> chart.Chart | None:
    """Riket and the län (no strata); None when there is nothing to draw."""
    picked = [r for r in rows if r.org_type in ("Land", "Lan") and not r.stratum]
    if not any(r.point is not None for r in picked):
        return None
    proportion = ind.kind == "proportion"
    points = []
    for r in picked:
        label = t("level_Land") if r.org_type == "Land" else r.organisation
        if r.point is None:
            text = f"– ({t('reason_' + (r.reason_code or 'NI'))})"
        else:
            text = percent(r.point, lang) if proportion else number(r.point, lang)
            if r.ci_low is not None and r.ci_high is not None:
                text += f" ({t('col_ci')} {interval(r.ci_low, r.ci_high, lang, proportion)})"
        has_ci = r.point is not None and r.ci_low is not None and r.ci_high is not None
        points.append(
            chart.Point(
                label, r.point, r.ci_low if has_ci else None, r.ci_high if has_ci else None,
                reference=r.org_type == "Land", text=text,
            )
        )

    def tick_label(value: float, step: float) -> str:
        if proportion:
            return f"{number(value * 100, lang, 0 if step >= 0.01 else 1)}\u00a0%"
        return number(value, lang, 0 if step >= 1 else 1)

    return chart.build(points, proportion, tick_label, layout)

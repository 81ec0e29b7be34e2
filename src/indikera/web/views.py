"""Turn result rows into what the indicator page shows: table rows, completeness figures and chart points.

Pure (no I/O); ``pages`` feeds it rows read through the visibility rule.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=16384)  # a big registry's table sorts the same few thousand names on every request
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
    versus: str | None  # "better"/"worse" (desired direction known), else "above"/"below"; None: no clear difference
    reference: bool
    org_key: str = ""
    org_code: str | None = None  # HSA-id, or the code of an organisation without one
    target: str | None = None  # the highest target level reached ("" : none reached); None: no target or no value
    by_sex: tuple[str | None, ...] = ()  # women's and men's values (sex sub-measures), "–" when masked
    version: int | None = None  # the indicator's major version the value was computed under


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


def versus(row: ResultRow, reference: float | None, direction: str | None = None) -> str | None:
    """Clearly above/below Riket (the 95 % CI excludes Riket's value); with the indicator's desired
    direction ("high"/"low") the answer is "better"/"worse" instead."""
    if reference is None or row.org_type == "Land" or row.ci_low is None or row.ci_high is None or row.point is None:
        return None
    side = "above" if row.ci_low > reference else "below" if row.ci_high < reference else None
    if side is None or direction not in ("high", "low"):
        return side
    return "better" if (side == "above") == (direction == "high") else "worse"


def target_reached(value: float | None, targets: list[tuple[str, float]], direction: str | None) -> str | None:
    """The highest of ``targets`` (level name, value; lowest demand first) that ``value`` reaches: at least
    the target when high is good, at most when low is good. "" when none is reached; None without a value."""
    if value is None or not targets or direction not in ("high", "low"):
        return None
    reached = [name for name, t in targets if (value >= t if direction == "high" else value <= t)]
    return reached[-1] if reached else ""


def value_text(r: ResultRow, lang: str) -> str | None:
    if r.kind == "proportion" and r.rate is not None:
        return percent(r.rate, lang)
    if r.kind == "continuous" and r.value is not None:
        return number(r.value, lang)
    if r.kind == "cohort" and r.cohort is not None:
        return count(r.cohort, lang)
    return None


def table_rows(
    rows: list[ResultRow],
    ind: IndicatorInfo,
    lang: str,
    reference: float | None = None,
    direction: str | None = None,
    targets: list[tuple[str, float]] | None = None,
    sexes: list[dict[tuple[str, str], ResultRow]] | None = None,
) -> list[TableRow]:
    """``reference`` is Riket's value (pass it when ``rows`` are filtered to a level without Riket);
    ``sexes`` the women's and men's rows by (organisation key, stratum), shown beside the total."""
    reference = riket_point(rows) if reference is None else reference
    proportion = ind.kind == "proportion"
    out = []
    for r in rows:
        value = value_text(r, lang)
        ci = numden = None
        if r.kind == "proportion" and value is not None and r.numerator is not None and r.denominator is not None:
            numden = f"{count(r.numerator, lang)} / {count(r.denominator, lang)}"
        elif r.kind == "continuous" and value is not None:
            numden = None if r.population is None else count(r.population, lang)
        if value is not None and r.ci_low is not None and r.ci_high is not None:
            ci = interval(r.ci_low, r.ci_high, lang, proportion)
        by_sex = tuple(
            (value_text(s, lang) or "–") if (s := side.get((r.org_key, r.stratum))) is not None else None for side in sexes or []
        )
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
                versus=versus(r, reference, direction),
                reference=r.org_type == "Land",
                org_key=r.org_key,
                org_code=r.org_code,
                target=target_reached(r.point, targets or [], direction),
                by_sex=by_sex,
                version=r.version,
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


def ranked(rows: list[ResultRow], direction: str | None) -> list[ResultRow]:
    """Best first (highest unless a low value is good); rows without a value last, by name."""
    known = sorted((r for r in rows if r.point is not None), key=lambda r: r.point, reverse=direction != "low")  # type: ignore[arg-type,return-value]
    return known + sorted((r for r in rows if r.point is None), key=lambda r: sv_key(r.organisation))


def chart_for(
    rows: list[ResultRow],
    ind: IndicatorInfo,
    t: Callable[..., str],
    lang: str,
    layout: chart.Layout = chart.WIDE,
    level: str = "Lan",
    direction: str | None = None,
    targets: list[tuple[str, float]] | None = None,
) -> chart.Chart | None:
    """The ranking: Riket and the organisations at ``level`` (no strata), best first, Riket in its place
    and as the reference line, target levels as lines; None when there is nothing to draw."""
    picked = ranked([r for r in rows if r.org_type in ("Land", level) and not r.stratum], direction)
    if not any(r.point is not None for r in picked):
        return None
    proportion = ind.kind == "proportion"
    points = []
    room = 29 if layout.label_anchor == "end" else 46  # characters that fit beside / above the plot
    for r in picked:
        label = t("level_Land") if r.org_type == "Land" else r.organisation
        if len(label) > room:  # the row's <title> and the table keep the full name
            label = label[: room - 1].rstrip(" ,") + "…"
        if r.org_code and r.org_type not in ("Land", "Lan"):
            label_id = f" [{r.org_code}]"
        else:
            label_id = ""
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
                reference=r.org_type == "Land", text=text + label_id, name=r.organisation if label.endswith("…") else None,
            )
        )

    def tick_label(value: float, step: float) -> str:
        if proportion:
            return f"{number(value * 100, lang, 0 if step >= 0.01 else 1)}\u00a0%"
        return number(value, lang, 0 if step >= 1 else 1)

    lines = tuple((f"{name} {percent(v, lang) if proportion else number(v, lang)}", v) for name, v in targets or [])
    return chart.build(points, proportion, tick_label, layout, lines)

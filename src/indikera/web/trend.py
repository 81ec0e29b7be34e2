"""Geometry of the trend chart: every published period of an indicator for Riket and one chosen organisation,
value and 95 % CI whisker per period, yearly and quarterly (and other period lengths) drawn apart.

Pure: numbers in, coordinates out; ``templates/_trend.html`` draws the SVG and a table carries the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .chart import domain, nice_step, Point


@dataclass(frozen=True)
class TrendLayout:
    width: int
    left: float
    right: float
    top: float
    plot_height: float
    font_size: int
    min_label_gap: float  # x labels closer than this are thinned out


WIDE = TrendLayout(680, 64, 660, 30, 220, 12, 70)
NARROW = TrendLayout(340, 52, 330, 30, 200, 13, 62)  # drawn about 1:1 on a phone, as chart.NARROW


@dataclass(frozen=True)
class Obs:
    """One period's value of one series (None: masked or missing)."""

    start: date
    end: date
    value: float | None
    low: float | None
    high: float | None
    text: str


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    y_low: float | None
    y_high: float | None
    text: str


@dataclass(frozen=True)
class Series:
    name: str
    reference: bool
    marks: tuple[Mark, ...]
    line: str  # SVG polyline points through the periods with a value


@dataclass(frozen=True)
class Trend:
    title: str
    width: int
    height: int
    top: float
    bottom: float
    left: float
    right: float
    y_ticks: tuple[tuple[float, str], ...]
    x_labels: tuple[tuple[float, str], ...]
    series: tuple[Series, ...]
    font_size: int


def months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def groups(series: dict[str, list[Obs]]) -> dict[int, dict[str, list[Obs]]]:
    """Split each series by period length in months (12: yearly, 3: quarterly, ...), longest first."""
    out: dict[int, dict[str, list[Obs]]] = {}
    for name, obs in series.items():
        for o in obs:
            out.setdefault(months(o.start, o.end), {}).setdefault(name, []).append(o)
    return dict(sorted(out.items(), key=lambda kv: -kv[0]))


def build(
    title: str,
    series: list[tuple[str, bool, list[Obs]]],
    proportion: bool,
    period_label: Callable[[date, date], str],
    tick_label: Callable[[float, float], str],
    layout: TrendLayout = WIDE,
) -> Trend:
    """``series``: (name, is Riket, observations of one period length); periods on x in time order."""
    periods = sorted({(o.start, o.end) for _, _, obs in series for o in obs})
    index = {p: i for i, p in enumerate(periods)}
    slots = max(len(periods), 1)
    step_x = (layout.right - layout.left) / slots
    lo, hi = domain([Point("", o.value, o.low, o.high) for _, _, obs in series for o in obs], proportion)
    span = hi - lo or 1.0
    top, bottom = layout.top, layout.top + layout.plot_height

    def y(v: float) -> float:
        return round(bottom - (v - lo) / span * layout.plot_height, 1)

    step = nice_step(hi - lo)
    ticks = []
    k = 0
    while (v := lo + k * step) <= hi + step * 1e-9 and k < 50:
        ticks.append((y(v), tick_label(round(v, 10), step)))
        k += 1
    # Two series side by side within a period's slot, so their whiskers never hide each other.
    offsets = [0.0] if len(series) == 1 else [-min(8.0, step_x / 5), min(8.0, step_x / 5)]
    out = []
    for n, (name, reference, obs) in enumerate(series):
        marks = []
        for o in sorted(obs, key=lambda o: o.start):
            if o.value is None or not math.isfinite(o.value):
                continue
            x = round(layout.left + (index[(o.start, o.end)] + 0.5) * step_x + offsets[min(n, len(offsets) - 1)], 1)
            has_ci = o.low is not None and o.high is not None
            marks.append(Mark(x, y(o.value), y(o.low) if has_ci else None, y(o.high) if has_ci else None, o.text))  # type: ignore[arg-type]
        out.append(Series(name, reference, tuple(marks), " ".join(f"{m.x},{m.y}" for m in marks)))
    every = max(1, math.ceil(layout.min_label_gap / step_x))
    labels = tuple(
        (round(layout.left + (i + 0.5) * step_x, 1), period_label(*p)) for i, p in enumerate(periods) if i % every == 0
    )
    return Trend(title, layout.width, int(bottom + 30), top, bottom, layout.left, layout.right, tuple(ticks), labels, tuple(out), layout.font_size)

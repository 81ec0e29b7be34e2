"""Geometry of the server-rendered dot chart (point and 95 % CI whisker per organisation).

Pure: numbers in, coordinates out; the template draws the SVG. No JavaScript, no external library, and
the results table under the chart carries the same numbers for screen readers and copying.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

WIDTH = 680
LABEL_WIDTH = 190  # room for "Västra Götalands län"
PLOT_LEFT = LABEL_WIDTH + 10
PLOT_RIGHT = WIDTH - 20
TOP = 28  # room for the axis labels
ROW = 22


@dataclass(frozen=True)
class Layout:
    """Where the parts go. An SVG scales as a whole, so a 680-wide chart on a 360 px phone has 6 px text;
    the narrow layout is drawn at about a phone's width instead, each label on its own line above its dot."""

    width: int
    plot_left: float
    plot_right: float
    top: float
    row: float
    label_x: float
    label_anchor: str  # "end": left of the plot; "start": above the row
    label_dy: float  # label baseline relative to the dot's line
    font_size: int  # row labels; the axis labels are one smaller


WIDE = Layout(WIDTH, PLOT_LEFT, PLOT_RIGHT, TOP, ROW, PLOT_LEFT - 10, "end", 4, 12)
# 340 wide: drawn 1:1 on a 390 px phone, at >= 0.85 (13 px text: >= 11 px) at 320 px.
NARROW = Layout(340, 24, 316, 30, 38, 4, "start", -10, 13)


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None  # None: masked or missing; drawn as a label with a dash
    low: float | None = None
    high: float | None = None
    reference: bool = False  # Riket: drawn bold, and as a vertical reference line
    text: str = ""  # the value as read aloud / shown at the row's end
    name: str | None = None  # the full name when ``label`` is shortened to fit


@dataclass(frozen=True)
class Tick:
    x: float
    value: float
    label: str


@dataclass(frozen=True)
class Row:
    label: str
    y: float  # the dot's line; the label's baseline is ``y + label_dy``
    x: float | None
    x_low: float | None
    x_high: float | None
    reference: bool
    text: str
    name: str = ""  # the full name, for the row's <title>


@dataclass(frozen=True)
class TargetLine:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    top: float
    bottom: float
    ticks: list[Tick]
    rows: list[Row]
    reference_x: float | None
    layout: Layout = WIDE
    targets: tuple[TargetLine, ...] = ()


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A step of 1, 2 or 5 × 10^k giving about ``target_ticks`` intervals over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target_ticks
    if raw <= 0:  # a subnormal span divides to zero: one interval is all there is
        return span
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def domain(points: list[Point], proportion: bool, extra: tuple[float, ...] = ()) -> tuple[float, float]:
    values = [v for p in points for v in (p.value, p.low, p.high) if v is not None] + list(extra)
    if not values:
        return (0.0, 1.0)
    lo, hi = min(values), max(values)
    if lo == hi:
        lo, hi = lo - max(abs(lo) * 0.1, 0.5 if not proportion else 0.05), hi + max(abs(hi) * 0.1, 0.5 if not proportion else 0.05)
    step = nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if proportion:
        lo, hi = max(0.0, lo), min(1.0, hi)
    elif min(values) >= 0:
        lo = max(0.0, lo)
    return lo, hi


def build(
    points: list[Point],
    proportion: bool,
    tick_label: Callable[[float, float], str] = lambda v, step: f"{v:g}",
    layout: Layout = WIDE,
    targets: tuple[tuple[str, float], ...] = (),
) -> Chart:
    """Lay out ``points`` top to bottom; ``tick_label(value, step)`` writes the axis labels; ``targets``
    (label, value) are drawn as vertical lines."""
    targets = tuple((label, v) for label, v in targets if math.isfinite(v))
    lo, hi = domain(points, proportion, tuple(v for _, v in targets))
    span = hi - lo or 1.0
    left, right = layout.plot_left, layout.plot_right

    def x(v: float) -> float:
        return round(left + (v - lo) / span * (right - left), 1)

    step = nice_step(hi - lo)
    ticks: list[Tick] = []
    k = 0
    while (v := lo + k * step) <= hi + step * 1e-9 and k < 50:
        ticks.append(Tick(x(v), round(v, 10), tick_label(round(v, 10), step)))
        k += 1
    rows = []
    reference_x = None
    for i, p in enumerate(points):
        # Wide: the dot mid-row; narrow: the lower part of the row, the label above it.
        y = layout.top + i * layout.row + (layout.row / 2 if layout.label_anchor == "end" else layout.row - 9)
        px = x(p.value) if p.value is not None else None
        rows.append(
            Row(
                p.label,
                y,
                px,
                x(p.low) if p.value is not None and p.low is not None else None,
                x(p.high) if p.value is not None and p.high is not None else None,
                p.reference,
                p.text,
                p.name or p.label,
            )
        )
        if p.reference and px is not None:
            reference_x = px
    bottom = layout.top + len(points) * layout.row
    lines = tuple(TargetLine(x(v), label) for label, v in targets if lo <= v <= hi)
    return Chart(layout.width, int(bottom + 8), left, right, layout.top, bottom, ticks, rows, reference_x, layout, lines)

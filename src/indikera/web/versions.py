"""Values keep the definition they were computed under (issue #16 item 4). Pure (no I/O).

A measurement carries the indicator's major version it was computed under (``measurements.version``); the page
shows the newest description. So a value of an older major version is marked with its version, a table or a
ranking chart that mixes versions says so, and a trend draws one series per version instead of one line
across a change of definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .queries import ResultRow


def versions_in(rows: Iterable[ResultRow]) -> list[int]:
    return sorted({r.version for r in rows if r.version is not None})


def mixed(rows: Iterable[ResultRow]) -> bool:
    return len(versions_in(rows)) > 1


def series_key(row: ResultRow, split: bool) -> str:
    return f"{row.org_key}@v{row.version}" if split else row.org_key


def suffix(row: ResultRow, split: bool, t: Callable[..., str] | None) -> str:
    if not split:
        return ""
    return f" ({t('version_short', version=row.version)})" if t else f" (v{row.version})"


def current_version(data: Any) -> int:
    """The major version the page's description is (the indicator's current one when there is none)."""
    doc = data.doc
    major = getattr(doc, "version_major", None) if doc is not None else None
    return major if isinstance(major, int) else data.ind.version


def notices(data: Any, t: Callable[..., str]) -> dict[str, Any]:
    """The template's version marks: the current version, and the notices for the table, the ranking chart and
    the trend (empty when nothing needs saying)."""
    current = current_version(data)
    in_period = versions_in(data.rows)
    in_chart = versions_in(data.chart_rows)
    listed = ", ".join(str(v) for v in in_period)
    table = ""
    if len(in_period) > 1:
        table = t("version_mixed_notice", versions=listed, current=current)
    elif in_period and in_period[0] != current:
        table = t("version_old_notice", versions=listed, current=current)
    chart = t("version_mixed_chart", versions=", ".join(str(v) for v in in_chart)) if len(in_chart) > 1 else ""
    return {
        "current_version": current,
        "version_notice": table,
        "version_chart_notice": chart,
        "version_split": mixed(data.trend_rows),
        "version_trend_notice": t("version_trend_notice") if mixed(data.trend_rows) else "",
    }


__all__ = ["current_version", "mixed", "notices", "series_key", "suffix", "versions_in"]

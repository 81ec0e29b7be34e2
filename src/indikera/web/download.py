"""The indicator page's downloads: exactly the table's rows (period, level, filters, search and order; every
page of the table), as CSV (comma, decimal point, UTF-8), as CSV for Excel in Swedish (``;``, decimal comma,
byte-order mark) and as XLSX. Text cells pass ``domain.spreadsheet.safe_cell`` (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from ..domain.spreadsheet import safe_cell
from .formatting import period_param
from .queries import ResultRow
from .results_page import IndicatorData
from .views import versus, riket_point

FORMATS = {".csv": "csv", "-excel.csv": "excel", ".xlsx": "xlsx"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header(data: IndicatorData, t: Callable[..., str]) -> list[str]:
    percent = data.ind.kind == "proportion"
    unit = " (%)" if percent else ""
    cols = [
        t("col_organisation"), t("col_code"), t("col_level"), t("col_part_of"), t("col_lan"), t("col_stratum"),
        t("period"), t("col_value") + unit, t("dl_ci_low") + unit, t("dl_ci_high") + unit,
        t("numerator"), t("denominator"), t("col_n"), t("col_coverage") + " (%)", t("dl_reason"),
    ]
    cols += [f"{t('sex_' + (sub.sex or ''))}{unit}" for sub, _ in data.sexes]
    return cols + [t("col_vs_riket")]


def records(data: IndicatorData, t: Callable[..., str]) -> list[list[object]]:
    """One list per table row, numbers as numbers (proportions in percent, as the table shows them)."""
    from .. import refdata

    lans = refdata.lan()
    scale = 100.0 if data.ind.kind == "proportion" else 1.0
    reference = riket_point(data.rows)

    def num(v: float | None, k: float = scale) -> float | None:
        return None if v is None else round(v * k, 10)

    out: list[list[object]] = []
    for r in data.selected:
        has = r.point is not None
        rec: list[object] = [
            t("level_Land") if r.org_type == "Land" else r.organisation,
            r.org_code or "",
            t("level_" + r.org_type),
            r.parent or "",
            lans[r.lan_code].name if r.lan_code in lans else "",
            r.stratum,
            period_param(data.period) if data.period else "",
            num(r.point),
            num(r.ci_low) if has else None,
            num(r.ci_high) if has else None,
            r.numerator if has and r.kind == "proportion" else None,
            r.denominator if has and r.kind == "proportion" else None,
            r.population if has and r.kind == "continuous" else None,
            num(r.coverage, 100.0),
            "" if has else (r.reason_code or "NI"),
        ]
        for _, side in data.sexes:
            s: ResultRow | None = side.get((r.org_key, r.stratum))
            rec.append(num(s.point) if s is not None else None)
        vs = versus(r, reference, data.direction)
        rec.append(t(vs) if vs else "")
        out.append(rec)
    return out


def _text(value: object, excel: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value) if not value.is_integer() else str(int(value))
        return text.replace(".", ",") if excel else text
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def to_csv(head: list[str], rows: list[list[object]], excel: bool) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in head])
    for rec in rows:
        writer.writerow([_text(v, excel) for v in rec])
    text = buf.getvalue()
    return ("\ufeff" + text).encode("utf-8") if excel else text.encode("utf-8")


def to_xlsx(head: list[str], rows: list[list[object]], title: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(safe_sheet_title(title))
    ws.append([safe_cell(h) for h in head])
    for rec in rows:
        ws.append([safe_cell(v) if isinstance(v, str) else v for v in rec])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def safe_sheet_title(text: str) -> str:
    """Excel forbids []:*?/\\ in a sheet name and allows 31 characters."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text).strip("'") or "Resultat"
    return cleaned[:31]


def render(data: IndicatorData, t: Callable[..., str], fmt: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the download in ``fmt`` ("csv", "excel" or "xlsx")."""
    head, rows = header(data, t), records(data, t)
    name = f"indikator-{data.ind.measure_id}-{period_param(data.period) if data.period else 'inga'}"
    if data.query.niva:
        name += f"-{data.query.niva}"
    if fmt == "xlsx":
        return to_xlsx(head, rows, data.ind.measure_id), XLSX_TYPE, name + ".xlsx"
    excel = fmt == "excel"
    return to_csv(head, rows, excel), "text/csv; charset=utf-8", name + ("-excel" if excel else "") + ".csv"

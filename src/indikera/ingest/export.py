"""Write measurements in the import formats (VIS CSV/XLSX, JSON): the inverse of the importer.

Used for round trips, test files and the benchmark, and by anyone who wants a VIS file of stored values.
CSV and XLSX text cells go through ``domain.spreadsheet.safe_cell`` (a leading ``=``, ``+``, ``-``, ``@``
gets a ``'``: never a formula in a spreadsheet); number cells and JSON are written as they are.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from ..domain.measurements import Cohort, Continuous, Measurement, Missing, Proportion
from ..domain.organisations import OrgType
from ..domain.periods import format_date
from ..domain.spreadsheet import safe_cell
from .sources import COLUMNS, JSON_FORMAT, KEEP


# Columns holding text; every other VIS column holds a number written by ``_n``.
TEXT_COLUMNS = frozenset((
    "MeasureID", "Version", "ReasonCode", "RegionOrganisationId", "RegionName", "MunicipalityOrganisationID",
    "MunicipalityName", "HospitalName", "HospitalHSAID", "HospitalOrganisationId", "UnitHSAID", "UnitName",
    "CountryName", "RegisterHSAID", "RegisterNamn",
))


def _cells(row: dict[str, str], columns: tuple[str, ...]) -> list[str]:
    return [safe_cell(row[c]) if c in TEXT_COLUMNS else row[c] for c in columns]


def _n(v: float | None) -> str:
    if v is None:
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def vis_row(m: Measurement) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(MeasureID=m.measure_id, Version=str(m.version), PeriodReportedStartDate=format_date(m.period.start),
               PeriodReportedEndDate=format_date(m.period.end), RegisterHSAID=m.source_system.extension,
               RegisterNamn=m.source_system.name)
    r = m.result
    if isinstance(r, Proportion):
        row.update(Rate=_n(r.rate), Numerator=_n(r.numerator), Denominator=_n(r.denominator))
        if m.reference_interval is not None:
            row["ReferenceIntervalRate"] = _n(m.reference_interval)
    elif isinstance(r, Continuous):
        row.update(Value=_n(r.value), Measurepopulation=_n(r.population))
    elif isinstance(r, Cohort):
        row.update(Cohort=_n(r.count))
    else:
        assert isinstance(r, Missing)
        row["ReasonCode"] = r.reason.value
    if not isinstance(r, Proportion) and m.reference_interval is not None:
        row["ReferenceIntervalValue"] = _n(m.reference_interval)
    if m.ci is not None:
        row.update(ConfidenceIntervalLower=_n(m.ci.low), ConfidenceIntervalHigher=_n(m.ci.high))
    row.update(Standarddeviation=_n(m.standard_deviation), Coverage=_n(m.coverage), Exclusions=_n(m.exclusions))
    for node in m.organisation.chain():
        if node.type is OrgType.LAND:
            row["CountryName"] = "Riket"
        elif node.type is OrgType.LAN:
            row.update(RegionOrganisationId=node.org_id.extension, RegionName=node.name)  # type: ignore[union-attr]
        elif node.type is OrgType.KOMMUN:
            row.update(MunicipalityOrganisationID=node.org_id.extension, MunicipalityName=node.name)  # type: ignore[union-attr]
        elif node.type is OrgType.SJUKHUS:
            row.update(HospitalName=node.name, HospitalHSAID=node.hsa_id or "",
                       HospitalOrganisationId=node.org_id.extension if node.org_id else "")
        elif node.type is OrgType.VARDENHET:
            row.update(UnitHSAID=node.hsa_id or "", UnitName=node.name)
        else:
            raise ValueError("the VIS flat file has no columns for a Sjukvardsregion")
    return row


def write_csv(path: Path, items: Iterable[Measurement], *, delimiter: str = ";", directive: str | None = None,
              encoding: str = "utf-8", columns: tuple[str, ...] = COLUMNS) -> int:
    n = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        if directive:
            fh.write(directive + "\r\n")
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(columns)
        for m in items:
            row = vis_row(m)
            w.writerow(_cells(row, columns))
            n += 1
    return n


def write_xlsx(path: Path, items: Iterable[Measurement], *, directive: str | None = None) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("VIS")
    if directive:
        ws.append([directive])
    ws.append(list(COLUMNS))
    n = 0
    for m in items:
        row = vis_row(m)
        ws.append([c or None for c in _cells(row, COLUMNS)])
        n += 1
    wb.save(path)
    return n


def write_json(path: Path, items: Iterable[Measurement], *, registry: tuple[str, str], mode: str = KEEP) -> int:
    rows = []
    for m in items:
        row = {k: v for k, v in vis_row(m).items() if v and k not in ("RegisterHSAID", "RegisterNamn", "CountryName")}
        if m.stratum:
            row["Stratum"] = m.stratum
        rows.append(row)
    doc = {"format": JSON_FORMAT, "registry": {"hsaId": registry[0], "name": registry[1]}, "mode": mode, "rows": rows}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(rows)

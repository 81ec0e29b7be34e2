"""Open results as a CSV file in the VIS flat-file layout, so the project's importer reads it back unchanged.

Column names and meaning: ``catalogue-and-open-data.md`` §6 (and the importer, ``ingest``). Numbers are
written so that they read back exactly: counts without decimals, everything else as Python's shortest
round-trip ``repr``. A Sjukvardsregion has no place in the VIS layout, so its rows are left out of the CSV
(they are in the JSON). Text cells (names, ids, codes) go through ``domain.spreadsheet.safe_cell``: one
starting with ``=``, ``+``, ``-`` or ``@`` gets a leading ``'`` so that no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from ..domain.spreadsheet import safe_cell
from .state import View

COLUMNS = (
    "MeasureID", "Version", "PeriodReportedStartDate", "PeriodReportedEndDate",
    "Rate", "Numerator", "Denominator", "Value", "Measurepopulation", "Cohort",
    "Coverage", "ConfidenceIntervalLower", "ConfidenceIntervalHigher", "Standarddeviation", "Exclusions",
    "ReferenceIntervalRate", "ReferenceIntervalValue", "ReasonCode",
    "RegionOrganisationId", "RegionName", "MunicipalityOrganisationID", "MunicipalityName",
    "HospitalName", "HospitalHSAID", "HospitalOrganisationId", "UnitHSAID", "UnitName",
    "CountryName", "RegisterHSAID", "RegisterNamn",
)
_INDEX = {name: i for i, name in enumerate(COLUMNS)}
DELIMITERS = {"comma": ",", "semicolon": ";"}


def number(value: float | None, *, count: bool = False) -> str:
    if value is None:
        return ""
    if count and float(value).is_integer():
        return str(int(value))
    return repr(float(value))


_ORG_COLUMNS = COLUMNS[_INDEX["RegionOrganisationId"]:_INDEX["CountryName"] + 1]


class VisRows:
    """Builds VIS rows fast: organisation, indicator, source and date cells are computed once and reused."""

    def __init__(self, view: View) -> None:
        self.view = view
        self._orgs: dict[int, list[str] | None] = {}
        self._dates: dict[Any, str] = {}
        self._sources: dict[int, tuple[str, str, str]] = {}
        self._measure_ids = {iid: safe_cell(ind.measure_id) for iid, ind in view.indicators.items()}

    def _org_cells(self, org_id: int) -> list[str] | None:
        cells = self._orgs.get(org_id, False)
        if cells is not False:
            return cells  # type: ignore[return-value]
        out = dict.fromkeys(_ORG_COLUMNS, "")
        for org in self.view.chain(org_id):
            if org.type == "Land":
                out["CountryName"] = "Riket"
            elif org.type == "Lan":
                out["RegionOrganisationId"], out["RegionName"] = org.org_extension or "", org.name
            elif org.type == "Kommun":
                out["MunicipalityOrganisationID"], out["MunicipalityName"] = org.org_extension or "", org.name
            elif org.type == "Sjukhus":
                out["HospitalName"], out["HospitalHSAID"] = org.name, org.hsa_id or ""
                out["HospitalOrganisationId"] = (org.org_extension or "") if org.org_root else ""
            elif org.type == "Vardenhet":
                out["UnitHSAID"], out["UnitName"] = org.hsa_id or "", org.name
            else:  # Sjukvardsregion: not expressible in the VIS layout
                self._orgs[org_id] = None
                return None
        self._orgs[org_id] = result = [safe_cell(out[c]) for c in _ORG_COLUMNS]
        return result

    def _source(self, source_id: int) -> tuple[str, str, str]:
        src = self._sources.get(source_id)
        if src is None:
            raw = self.view.sources.get(source_id) or ("", "", "")
            src = self._sources[source_id] = tuple(safe_cell(t or "") for t in raw)  # type: ignore[assignment]
        return src  # type: ignore[return-value]

    def _date(self, d: Any) -> str:
        text = self._dates.get(d)
        if text is None:
            text = self._dates[d] = d.isoformat()
        return text

    def row(self, r: Any) -> list[str] | None:
        """The VIS cells of one ``results.ResultRow``; None when the organisation has no VIS form."""
        org = self._org_cells(r.organisation_id)
        if org is None:
            return None
        src = self._source(r.source_system_id)
        ref = number(r.reference_interval)
        proportion = r.kind == "proportion"
        return [
            self._measure_ids[r.indicator_id], str(r.version), self._date(r.period_start),
            self._date(r.period_end), number(r.rate), number(r.numerator, count=True),
            number(r.denominator, count=True), number(r.value), number(r.population, count=True),
            number(r.cohort, count=True), number(r.coverage), number(r.ci_low), number(r.ci_high),
            number(r.standard_deviation), number(r.exclusions, count=True),
            ref if proportion else "", "" if proportion else ref, r.reason_code or "",
            *org, src[1], src[2],
        ]


# Number columns (Version, Rate … ReferenceIntervalValue): typed in XLSX, decimal comma in the Excel CSV
NUMBER_COLUMNS = (_INDEX["Version"], *range(_INDEX["Rate"], _INDEX["ReferenceIntervalValue"] + 1))


def typed(cells: list[str]) -> list[Any]:
    """A VIS row with its number cells as numbers (counts as int), for XLSX."""
    out: list[Any] = list(cells)
    for i in NUMBER_COLUMNS:
        text = cells[i]
        out[i] = None if text == "" else int(text) if text.lstrip("-").isdigit() else float(text)
    return out


def _decimal_comma(cells: list[str]) -> list[str]:
    for i in NUMBER_COLUMNS:
        cells[i] = cells[i].replace(".", ",")
    return cells


def csv_chunks(rows: Iterable[Any], view: View, *, delimiter: str = ",", rows_per_chunk: int = 1000,
               excel: bool = False) -> Iterator[bytes]:
    """The CSV file as encoded chunks: header first, then ``rows_per_chunk`` rows at a time. ``excel``: the
    form a Swedish Excel opens by double-click — ``;``, decimal comma, a UTF-8 BOM (CRLF as always); it is
    not the VIS flat file any more (the importer wants decimal points)."""
    buf = io.StringIO()
    if excel:
        delimiter = ";"
        buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    n = 0
    build = VisRows(view).row
    for row in rows:
        line = build(row)
        if line is None:
            continue
        writer.writerow(_decimal_comma(line) if excel else line)
        n += 1
        if n % rows_per_chunk == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")

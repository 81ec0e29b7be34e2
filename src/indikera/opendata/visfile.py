"""Open results as a CSV file in the VIS flat-file layout, so the project's importer reads it back unchanged.

Column names and meaning: ``catalogue-and-open-data.md`` §6 (and the importer, ``ingest``). Numbers are
written so that they read back exactly: counts without decimals, everything else as Python's shortest
round-trip ``repr``. A Sjukvardsregion has no place in the VIS layout, so its rows are left out of the CSV
(they are in the JSON).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

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
COUNT_COLUMNS = ("Numerator", "Denominator", "Measurepopulation", "Cohort", "Exclusions")
DELIMITERS = {"comma": ",", "semicolon": ";"}


def number(value: float | None, *, count: bool = False) -> str:
    if value is None:
        return ""
    if count and float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def vis_row(row: Any, view: View) -> list[str] | None:
    """The VIS columns of one stored measurement row; None when the organisation has no VIS form."""
    out = [""] * len(COLUMNS)

    def put(col: str, value: Any) -> None:
        out[_INDEX[col]] = "" if value is None else str(value)

    ind = view.indicators[row.indicator_id]
    put("MeasureID", ind.measure_id)
    put("Version", row.version)
    put("PeriodReportedStartDate", row.period_start.isoformat())
    put("PeriodReportedEndDate", row.period_end.isoformat())
    for col, value in (("Rate", row.rate), ("Value", row.value), ("Coverage", row.coverage),
                       ("ConfidenceIntervalLower", row.ci_low), ("ConfidenceIntervalHigher", row.ci_high),
                       ("Standarddeviation", row.standard_deviation)):
        put(col, number(value))
    for col, value in (("Numerator", row.numerator), ("Denominator", row.denominator),
                       ("Measurepopulation", row.population), ("Cohort", row.cohort), ("Exclusions", row.exclusions)):
        put(col, number(value, count=True))
    if row.reference_interval is not None:
        put("ReferenceIntervalRate" if row.kind == "proportion" else "ReferenceIntervalValue", number(row.reference_interval))
    put("ReasonCode", row.reason_code)
    for org in view.chain(row.organisation_id):
        if org.type == "Land":
            put("CountryName", "Riket")
        elif org.type == "Lan":
            put("RegionOrganisationId", org.org_extension)
            put("RegionName", org.name)
        elif org.type == "Kommun":
            put("MunicipalityOrganisationID", org.org_extension)
            put("MunicipalityName", org.name)
        elif org.type == "Sjukhus":
            put("HospitalName", org.name)
            put("HospitalHSAID", org.hsa_id)
            put("HospitalOrganisationId", org.org_extension if org.org_root else None)
        elif org.type == "Vardenhet":
            put("UnitHSAID", org.hsa_id)
            put("UnitName", org.name)
        else:  # Sjukvardsregion: not expressible in the VIS layout
            return None
    src = view.sources.get(row.source_system_id)
    if src:
        put("RegisterHSAID", src[1])
        put("RegisterNamn", src[2])
    return out


def csv_chunks(rows: Iterable[Any], view: View, *, delimiter: str = ",", rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """The CSV file as encoded chunks: header first, then ``rows_per_chunk`` rows at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in rows:
        line = vis_row(row, view)
        if line is None:
            continue
        writer.writerow(line)
        n += 1
        if n % rows_per_chunk == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")

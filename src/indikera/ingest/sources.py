"""Readers for the three input formats. Each yields (line, {column: text}) one row at a time.

* VIS flat file as CSV: ``;`` or ``,`` separated, UTF-8 (with or without BOM) or Windows-1252
  (detected from the first 64 KiB and converted), physical lines at most ``max_line_bytes`` long.
* VIS flat file as XLSX: the first worksheet, read in openpyxl's streaming (read-only) mode.
* JSON: ``{"format": "indikera-results/1", "registry": …, "mode": …, "rows": [{column: value}, …]}``
  (schema: ``ingest/schema/results.schema.json``); each row's line is where its object starts.

A directive in the first cell — ``KEEP_`` (also as a prefix of the first header cell, ``KEEP_MeasureID``)
or ``DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:<hsaid>`` on its own line before the header — says whether
values of the registry that the file does not contain are kept (the default) or removed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Fatal, Problems
from .xlsx_guard import check_zip

COLUMNS = (
    "MeasureID", "Version", "PeriodReportedStartDate", "PeriodReportedEndDate", "Rate", "Numerator", "Denominator",
    "Value", "Measurepopulation", "Cohort", "Coverage", "ConfidenceIntervalLower", "ConfidenceIntervalHigher",
    "Standarddeviation", "Exclusions", "ReferenceIntervalRate", "ReferenceIntervalValue", "ReasonCode",
    "RegionOrganisationId", "RegionName", "MunicipalityOrganisationID", "MunicipalityName", "HospitalName",
    "HospitalHSAID", "HospitalOrganisationId", "UnitHSAID", "UnitName", "CountryName", "RegisterHSAID", "RegisterNamn",
)
EXTRA_JSON_COLUMNS = ("Stratum",)  # the JSON format may split a value further (e.g. an age band)
REQUIRED = ("MeasureID", "Version", "PeriodReportedStartDate", "PeriodReportedEndDate", "CountryName", "RegisterHSAID")
_CANONICAL = {c.lower(): c for c in COLUMNS}
KEEP = "keep"
REPLACE = "replace"
_DELETE_PREFIX = "DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:"
JSON_FORMAT = "indikera-results/1"


@dataclass
class Directive:
    mode: str  # keep | replace
    registry: str | None = None  # the HSA-id named by DELETE_EXISTING_DATA_FOR_REGISTER_HSAID
    line: int = 1


@dataclass
class CsvBody:
    """Where a CSV file's rows start and how to read them: lets a byte range be read on its own."""

    path: Path
    offset: int  # first byte after the header line
    header: list[str]
    delimiter: str
    encoding: str
    header_line: int
    max_line_bytes: int


@dataclass
class Table:
    fmt: str  # csv | xlsx | json
    rows: Iterator[tuple[int, dict[str, str]]]
    directive: Directive = field(default_factory=lambda: Directive(KEEP))
    decimal_comma: bool = False
    registry: tuple[str, str] | None = None  # JSON: (hsaId, name) given once for the file
    bytes_read: int = 0  # progress for CSV/JSON
    body: CsvBody | None = None  # CSV only
    closer: Callable[[], None] | None = None

    def close(self) -> None:
        """Release the file when ``rows`` is not read to its end."""
        if self.closer is not None:
            self.closer()


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".json":
        return "json"
    return "csv"


def _directive(cell: str, line: int, problems: Problems) -> Directive | None:
    cell = cell.strip().strip('"').strip()
    if cell == "KEEP_" or cell.upper() == "KEEP_":
        return Directive(KEEP, None, line)
    if cell.upper().startswith(_DELETE_PREFIX):
        hsa = cell[len(_DELETE_PREFIX):].strip()
        if not hsa:
            raise problems.fatal(line, None, "DIRECTIVE", "DELETE_EXISTING_DATA_FOR_REGISTER_HSAID saknar HSA-id",
                                 "the directive names no HSA-id")
        return Directive(REPLACE, hsa, line)
    return None


def _header(names: list[str], line: int, problems: Problems, *, extra: tuple[str, ...] = ()) -> list[str]:
    known = {**_CANONICAL, **{c.lower(): c for c in extra}}
    out: list[str] = []
    for name in names:
        clean = name.strip().strip("\ufeff")
        canonical = known.get(clean.lower())
        if canonical is None:
            problems.add(line, clean or "(tom)", "UNKNOWN_COLUMN", f"okänd kolumn {clean!r}", f"unknown column {clean!r}")
        elif canonical in out:
            problems.add(line, canonical, "DUPLICATE_COLUMN", "kolumnen förekommer två gånger", "the column appears twice")
        out.append(canonical or clean)
    for req in REQUIRED:
        if req not in out:
            problems.add(line, req, "MISSING_COLUMN", f"kolumnen {req} saknas", f"required column {req} is missing")
    if problems:
        raise Fatal("HEADER")
    return out


# ---------------------------------------------------------------------------------------------- CSV


def _lines(fh, problems: Problems, max_line_bytes: int, start_line: int, encoding: str, counter: list[int],
           end: int | None = None) -> Iterator[str]:
    """Physical lines, decoded, with the length limit, binary detection and line counting; up to byte ``end``
    (relative to where ``fh`` starts, i.e. ``counter[0]``) when given."""
    line_no = start_line
    while end is None or counter[0] < end:
        raw = fh.readline(max_line_bytes + 1)
        if not raw:
            return
        counter[0] += len(raw)
        line_no += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            raise problems.fatal(line_no, None, "LINE_TOO_LONG",
                                 f"raden är längre än {max_line_bytes} byte", f"line longer than {max_line_bytes} bytes")
        if b"\x00" in raw:
            col = raw.index(b"\x00") + 1
            raise problems.fatal(line_no, None, "BINARY", f"raden innehåller binära data (NUL, byte {col}) – är det en CSV-fil?",
                                 f"the line contains binary data (NUL, byte {col}); is this a CSV file?")
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError:
            raise problems.fatal(line_no, None, "ENCODING",
                                 "raden är inte giltig UTF-8 (filen inleds som UTF-8) – spara filen som UTF-8",
                                 "invalid UTF-8 in a file that starts as UTF-8; save it as UTF-8") from None


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def read_csv(path: Path, problems: Problems, max_line_bytes: int) -> Table:
    fh = path.open("rb")
    head = fh.read(65536)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise problems.fatal(None, None, "ENCODING", "UTF-16 stöds inte – spara filen som UTF-8",
                             "UTF-16 is not supported; save the file as UTF-8")
    nul = head.find(b"\x00")
    if nul >= 0:  # name where, so that a stray NUL in an otherwise good file can be found and removed
        line = head.count(b"\n", 0, nul) + 1
        col = nul - (head.rfind(b"\n", 0, nul) + 1) + 1
        raise problems.fatal(line, None, "BINARY",
                             f"filen innehåller binära data (NUL, byte {col} på raden) – är det verkligen en CSV-fil?",
                             f"the file contains binary data (NUL, byte {col} of the line); is it really a CSV file?")
    if not head.strip():
        raise problems.fatal(None, None, "EMPTY", "filen är tom", "the file is empty")
    encoding = _encoding(head)
    fh.seek(0)
    counter = [0]
    lines = _lines(fh, problems, max_line_bytes, 0, encoding, counter)
    line_no = 0
    directive = Directive(KEEP)
    first = ""
    for first in lines:
        line_no += 1
        if first.strip():
            break
    first = first.lstrip("\ufeff")
    found = _directive(re.split(r"[;,\t]", first, maxsplit=1)[0], line_no, problems)
    if found is not None:
        directive = found
        for first in lines:
            line_no += 1
            if first.strip():
                break
        else:
            raise problems.fatal(line_no, None, "NO_HEADER", "rubrikraden saknas", "the header line is missing")
    elif first.lstrip('"').upper().startswith("KEEP_") and not first.upper().startswith("KEEP_;"):
        directive = Directive(KEEP, None, line_no)
        first = first.lstrip('"')[5:]
    header_line = line_no
    known = set(_CANONICAL)
    best, score = None, 0
    for delim in (";", ","):
        cells = next(csv.reader([first], delimiter=delim))
        hits = sum(1 for c in cells if c.strip().strip("\ufeff").lower() in known)
        if hits > score:
            best, score = delim, hits
    if best is None or score < 2:
        raise problems.fatal(header_line, None, "DELIMITER",
                             "rubrikraden har inga kända kolumner – fel avgränsare? Använd semikolon (;) eller komma (,)",
                             "no known columns in the header: wrong delimiter? Use ';' or ','")
    header = _header(next(csv.reader([first], delimiter=best)), header_line, problems)
    body = CsvBody(path, fh.tell(), header, best, encoding, header_line, max_line_bytes)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            yield from records(lines, header, best, header_line, problems)
        finally:
            fh.close()

    table = Table("csv", rows(), directive, decimal_comma=best == ";", body=body, closer=fh.close)
    table._counter = counter  # type: ignore[attr-defined]
    return table


def records(lines: Iterator[str], header: list[str], delimiter: str, line_before: int,
            problems: Problems) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {column: text}) for each CSV record in ``lines``; ``line_before`` is the physical line just
    before the first of them. A record may span lines (a quoted newline): its line is where it starts."""
    n = len(header)
    physical = [line_before]

    def counted() -> Iterator[str]:
        for text in lines:
            physical[0] += 1
            yield text

    reader = csv.reader(counted(), delimiter=delimiter, strict=True)
    start = physical[0] + 1
    try:
        for record in reader:
            line = start
            start = physical[0] + 1
            if not any(c.strip() for c in record):
                continue
            if len(record) != n:
                problems.add(line, None, "FIELD_COUNT",
                             f"raden har {len(record)} fält men rubriken har {n} – trunkerad rad eller fel avgränsare?",
                             f"the row has {len(record)} fields, the header {n}: truncated line or wrong delimiter?")
                continue
            yield line, dict(zip(header, map(str.strip, record)))
    except csv.Error as exc:
        problems.add(start, None, "CSV_SYNTAX", f"CSV-fel: {exc} (t.ex. ett citattecken som aldrig avslutas)",
                     f"CSV error: {exc} (e.g. an unterminated quote)")
    except Fatal:
        pass


def body_records(body: CsvBody, start: int, end: int, line_before: int, problems: Problems,
                 counter: list[int]) -> Iterator[tuple[int, dict[str, str]]]:
    """The records of bytes [start, end) of the body; ``start`` and ``end`` must fall on line boundaries
    outside quotes (``ingest.parallel`` cuts only files without a quote character)."""
    with body.path.open("rb") as fh:
        fh.seek(start)
        lines = _lines(fh, problems, body.max_line_bytes, line_before, body.encoding, counter, end - start)
        yield from records(lines, body.header, body.delimiter, line_before, problems)


# --------------------------------------------------------------------------------------------- XLSX


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y%m%d")
    return str(value).strip()


def _guarded(rows, problems: Problems):
    """Worksheet rows; a broken or hostile sheet (bad XML, a DTD, entities) ends reading with a problem."""
    n = 0
    try:
        for values in rows:
            n += 1
            yield values
    except Exception as exc:
        raise problems.fatal(n + 1, None, "NOT_XLSX", f"kalkylbladet kunde inte läsas ({type(exc).__name__})",
                             "the worksheet could not be read") from None


def read_xlsx(path: Path, problems: Problems, max_line_bytes: int, *, max_bytes: int = 4_000_000_000,
              max_ratio: float = 200.0) -> Table:
    from openpyxl import load_workbook

    check_zip(path, problems, max_bytes, max_ratio, max_line_bytes)  # before openpyxl inflates anything
    # openpyxl parses the workbook's XML with defusedxml (a declared dependency): no entity expansion, no DTDs.
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not a workbook we can read
        raise problems.fatal(None, None, "NOT_XLSX", f"filen är inte en giltig XLSX-arbetsbok ({type(exc).__name__})",
                             "the file is not a valid XLSX workbook") from None
    it = _guarded(ws.iter_rows(values_only=True), problems)
    row_no = 0
    directive = Directive(KEEP)
    first: list[str] = []
    for values in it:
        row_no += 1
        first = [_cell_text(v) for v in values]
        if any(first):
            break
    else:
        wb.close()
        raise problems.fatal(None, None, "EMPTY", "arbetsboken är tom", "the workbook is empty")
    found = _directive(first[0], row_no, problems)
    if found is not None:
        directive = found
        for values in it:
            row_no += 1
            first = [_cell_text(v) for v in values]
            if any(first):
                break
    elif first[0].upper().startswith("KEEP_"):
        directive = Directive(KEEP, None, row_no)
        first[0] = first[0][5:]
    while first and not first[-1]:
        first.pop()
    header = _header(first, row_no, problems)
    n = len(header)
    header_row = row_no

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = header_row
        try:
            for values in it:
                line += 1
                cells = [_cell_text(v) for v in values]
                if not any(cells):
                    continue
                if any(c for c in cells[n:]):
                    problems.add(line, None, "FIELD_COUNT", "raden har värden utanför rubrikens kolumner",
                                 "the row has values beyond the header's columns")
                    continue
                if any(len(c) > max_line_bytes for c in cells):
                    problems.add(line, None, "LINE_TOO_LONG", f"en cell är längre än {max_line_bytes} tecken",
                                 f"a cell is longer than {max_line_bytes} characters")
                    continue
                cells += [""] * (n - len(cells))
                yield line, dict(zip(header, cells))
        except Fatal:
            pass
        finally:
            wb.close()

    return Table("xlsx", rows(), directive)

"""A corpus of broken files: each is rejected with the right reason, line and column, and nothing is written."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indikera.cli import app
from indikera.config import Settings
from indikera.ingest.export import vis_row, write_csv, write_json
from indikera.ingest.importer import validate
from indikera.ingest.sources import COLUMNS

from .support.ingest_files import REG, sample, seed_indicators, snapshot

runner = CliRunner()


def _rows() -> list[dict[str, str]]:
    return [vis_row(m) for m in sample()]


def _csv(rows: list[dict[str, str]], columns=COLUMNS, delimiter=";") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns])
    return buf.getvalue().encode("utf-8")


def _edit(i: int, **cells) -> bytes:
    rows = _rows()
    rows[i].update(cells)
    return _csv(rows)


def _dup() -> bytes:
    rows = _rows()
    return _csv(rows + [rows[4]])


def _overlap() -> bytes:
    rows = _rows()
    extra = dict(rows[3], PeriodReportedStartDate="20240701", PeriodReportedEndDate="20250630")
    return _csv(rows + [extra])


def _truncated() -> bytes:
    data = _csv(_rows())
    return data[: data.rstrip(b"\n").rfind(b";", 0, len(data) - 40)]


def _long_line() -> bytes:
    data = _csv(_rows()).split(b"\n")
    data[5] = data[5] + b"x" * 70_000
    return b"\n".join(data)


def _unterminated() -> bytes:
    rows = _rows()
    rows[2]["UnitName"] = '"Öppen citering'
    data = _csv(rows).decode()
    return data.replace('"""Öppen citering"', '"Öppen citering').encode()


def _nul_in_row() -> bytes:
    lines = _csv(_rows()).split(b"\n")
    lines[6] = lines[6][:11] + b"\x00" + lines[6][11:]  # line 7, byte 12: named, not just "binary data"
    return b"\n".join(lines)


def _json_doc(rows_text: str) -> bytes:
    """A results document whose rows array starts on line 4 with ``rows_text``."""
    return ('{"format": "indikera-results/1",\n "registry": {"hsaId": "%s", "name": "%s"},\n "rows": [\n%s\n ]}'
            % (REG.extension, REG.name, rows_text)).encode()


def _json_row(i: int = 0) -> str:
    row = {k: v for k, v in _rows()[i].items() if v and k not in ("RegisterHSAID", "RegisterNamn", "CountryName")}
    return json.dumps(row, ensure_ascii=False)


def _json_duplicate_key() -> bytes:
    # line 4 "{", line 5 the first Numerator, line 6 the row again with its own Numerator: the second one
    return _json_doc('  {\n   "Numerator": "40",\n   ' + _json_row()[1:])


def _json_deep() -> bytes:
    return _json_doc(_json_row() + ",\n  " + "[" * 100_000 + "]" * 100_000)


def _json_nul() -> bytes:
    return _json_doc("  " + _json_row()).replace(b'"rows"', b'"ro\x00ws"')


N = len(sample())
LAST = N + 1  # header is line 1
GARBAGE = random.Random(4).randbytes(5000) + b"\x00" * 10
GARBAGE_LINE = GARBAGE.count(b"\n", 0, GARBAGE.index(b"\x00")) + 1

CASES = {
    # name: (file bytes, suffix, expected code, line, column)
    "wrong-delimiter": (lambda: _csv(_rows(), delimiter="|"), ".csv", "DELIMITER", 1, None),
    "tab-delimiter": (lambda: _csv(_rows(), delimiter="\t"), ".csv", "DELIMITER", 1, None),
    "missing-column": (lambda: _csv(_rows(), columns=[c for c in COLUMNS if c != "PeriodReportedEndDate"]), ".csv", "MISSING_COLUMN", 1, "PeriodReportedEndDate"),
    "unknown-column": (lambda: _csv(_rows(), columns=(*COLUMNS, "Kommentar")), ".csv", "UNKNOWN_COLUMN", 1, "Kommentar"),
    "bad-date": (lambda: _edit(3, PeriodReportedStartDate="20241301"), ".csv", "BAD_DATE", 5, "PeriodReportedStartDate"),
    "iso-garbage-date": (lambda: _edit(0, PeriodReportedEndDate="31/12/2023"), ".csv", "BAD_DATE", 2, "PeriodReportedEndDate"),
    "period-order": (lambda: _edit(3, PeriodReportedStartDate="20241231", PeriodReportedEndDate="20240101"), ".csv", "PERIOD_ORDER", 5, "PeriodReportedEndDate"),
    "negative-count": (lambda: _edit(6, Numerator="-5", Rate=""), ".csv", "NEGATIVE", 8, "Numerator"),
    "rate-mismatch": (lambda: _edit(0, Rate="0.99"), ".csv", "RATE_MISMATCH", 2, "Rate"),
    "rate-without-counts": (lambda: _edit(0, Numerator=""), ".csv", "RATE_NEEDS_COUNTS", 2, "Numerator"),
    "zero-denominator": (lambda: _edit(0, Numerator="0", Denominator="0", Rate="", ConfidenceIntervalLower="", ConfidenceIntervalHigher=""), ".csv", "ZERO_DENOMINATOR", 2, "Denominator"),
    "reason-with-value": (lambda: _edit(1, ReasonCode="MSK"), ".csv", "MISSING_WITH_VALUE", 3, "Value"),
    "unknown-reason": (lambda: _edit(0, ReasonCode="XYZ"), ".csv", "REASON_CODE", 2, "ReasonCode"),
    "duplicate-key": (_dup, ".csv", "DUPLICATE", LAST + 1, None),
    "same-length-overlap": (_overlap, ".csv", "OVERLAP", LAST + 1, "PeriodReportedStartDate"),
    "bad-lan-code": (lambda: _edit(3, RegionOrganisationId="99"), ".csv", "BAD_CODE", 5, "RegionOrganisationId"),
    "bad-kommun-code": (lambda: _edit(21, MunicipalityOrganisationID="9999"), ".csv", "BAD_CODE", 23, "MunicipalityOrganisationID"),
    "kommun-in-wrong-lan": (lambda: _edit(21, MunicipalityOrganisationID="2480"), ".csv", "ORG_CHAIN", 23, "MunicipalityOrganisationID"),
    "kommun-and-hospital": (lambda: _edit(15, MunicipalityOrganisationID="0184", MunicipalityName="Solna"), ".csv", "ORG_CHAIN", 17, "MunicipalityOrganisationID"),
    "country-not-riket": (lambda: _edit(0, CountryName="Sverige"), ".csv", "COUNTRY", 2, "CountryName"),
    "unknown-indicator": (lambda: _edit(2, MeasureID="99999"), ".csv", "UNKNOWN_INDICATOR", 4, "MeasureID"),
    "wrong-version": (lambda: _edit(2, Version="3"), ".csv", "VERSION", 4, "Version"),
    "wrong-kind": (lambda: _edit(2, Rate="0.5"), ".csv", "MEASURE_KIND", 4, "Rate"),
    "coverage-percent": (lambda: _edit(0, Coverage="93"), ".csv", "COVERAGE_RANGE", 2, "Coverage"),
    "ci-excludes-value": (lambda: _edit(1, ConfidenceIntervalLower="1", ConfidenceIntervalHigher="2"), ".csv", "CI_EXCLUDES_VALUE", 3, "ConfidenceIntervalLower"),
    "not-a-number": (lambda: _edit(2, Cohort="tolv"), ".csv", "NOT_A_NUMBER", 4, "Cohort"),
    "nan": (lambda: _edit(1, Value="NaN"), ".csv", "NOT_A_NUMBER", 3, "Value"),
    "renamed-within-file": (lambda: _edit(16, UnitName="Annat namn"), ".csv", "ORG_INCONSISTENT", 18, "UnitName"),
    "two-registries": (lambda: _edit(7, RegisterHSAID="SE2321000000-ANNAT"), ".csv", "REGISTER", 9, "RegisterHSAID"),
    "truncated-file": (_truncated, ".csv", "FIELD_COUNT", LAST, None),
    "unterminated-quote": (_unterminated, ".csv", "CSV_SYNTAX", 4, None),
    "binary-garbage": (lambda: GARBAGE, ".csv", "BINARY", GARBAGE_LINE, None),
    "nul-in-a-row": (_nul_in_row, ".csv", "BINARY", 7, None),
    "implausible-count": (lambda: _edit(0, Denominator="99999999999999999999", Rate=""), ".csv", "IMPLAUSIBLE", 2, "Denominator"),
    "count-over-a-billion": (lambda: _edit(2, Cohort="1000000001"), ".csv", "IMPLAUSIBLE", 4, "Cohort"),
    "implausible-value": (lambda: _edit(1, Value="1e13", ConfidenceIntervalLower="", ConfidenceIntervalHigher=""), ".csv", "IMPLAUSIBLE", 3, "Value"),
    "json-duplicate-key": (_json_duplicate_key, ".json", "DUPLICATE_KEY", 6, "Numerator"),
    "json-100000-deep": (_json_deep, ".json", "JSON_DEPTH", 5, None),
    "json-nul": (_json_nul, ".json", "BINARY", 3, None),
    "line-too-long": (_long_line, ".csv", "LINE_TOO_LONG", 6, None),
    "empty-file": (lambda: b"", ".csv", "EMPTY", None, None),
    "header-only": (lambda: _csv([]), ".csv", "EMPTY", None, None),
    "utf16": (lambda: _csv(_rows()).decode().encode("utf-16"), ".csv", "ENCODING", None, None),
    "directive-other-registry": (lambda: b"DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:SE-ANNAT\n" + _csv(_rows()), ".csv", "DIRECTIVE", 1, None),
    "xlsx-that-is-not": (lambda: _csv(_rows()), ".xlsx", "NOT_XLSX", None, None),
    "json-syntax": (lambda: b'{"format": "indikera-results/1",\n "rows": [\n  {"MeasureID": "10001",}\n ]}', ".json", "JSON_SYNTAX", 3, None),
}


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory):
    """One database for the whole corpus: no case may change it, so sharing it is part of the test."""
    from indikera.store import db as store_db

    url = f"sqlite:///{tmp_path_factory.mktemp('rejects') / 'r.db'}"
    store_db.upgrade(url)
    eng = store_db.make_engine(url)
    seed_indicators(eng)
    yield eng
    eng.dispose()


@pytest.mark.parametrize("name", list(CASES))
def test_broken_file_is_rejected_line_exact(name, shared_engine, tmp_path):
    make, suffix, code, line, column = CASES[name]
    sqlite_engine = shared_engine
    path = tmp_path / f"{name}{suffix}"
    path.write_bytes(make())
    before = snapshot(sqlite_engine)
    plan = validate(sqlite_engine, path, Settings(database_url=str(sqlite_engine.url)))
    assert not plan.ok
    first = plan.problems.shown[0]
    assert (first.code, first.line, first.column) == (code, line, column), first.render()
    assert first.file == path.name and first.sv and first.en
    assert snapshot(sqlite_engine) == before


def test_json_row_problems_name_the_rows_line(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    path = tmp_path / "r.json"
    write_json(path, sample(), registry=(REG.extension, REG.name))
    doc = json.loads(path.read_text())
    doc["rows"][2]["Colour"] = "blue"
    doc["rows"][3]["Numerator"] = -1
    path.write_text(json.dumps(doc, indent=1))
    plan = validate(sqlite_engine, path, Settings(database_url=str(sqlite_engine.url)))
    text = path.read_text().splitlines()
    got = [(p.code, p.line, p.column) for p in plan.problems.shown]
    assert [g[0] for g in got] == ["UNKNOWN_COLUMN", "NEGATIVE"]
    assert text[got[0][1] - 1].strip() == "{" and text[got[1][1] - 1].strip() == "{"
    assert got[0][2] == "Colour" and got[1][2] == "Numerator"


def test_many_problems_first_hundred_shown_all_counted(db_url, tmp_path):
    from indikera.store import db as store_db

    eng = store_db.make_engine(db_url)
    seed_indicators(eng)
    rows = _rows()
    many = [dict(rows[0], UnitHSAID=f"SE1-X{i}", UnitName=f"Enhet {i}", RegionOrganisationId="01", RegionName="Region Stockholm", Rate="0.9") for i in range(150)]
    path = tmp_path / "many.csv"
    path.write_bytes(_csv(rows + many))
    before = snapshot(eng)
    res = runner.invoke(app, ["import", "results", str(path), "--db", db_url])
    assert res.exit_code == 1
    assert "150 fel (visar de första 100)" in res.output and "Inget har skrivits" in res.output
    shown = [ln for ln in res.output.splitlines() if "many.csv:" in ln]
    assert len(shown) == 100, [ln for ln in res.output.splitlines() if "many.csv:" not in ln]
    assert f"many.csv:{len(rows) + 2}: kolumn Rate:" in res.output
    assert snapshot(eng) == before
    eng.dispose()


def test_windows_1252_is_detected_and_converted(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    path = tmp_path / "ansi.csv"
    write_csv(path, sample(), encoding="cp1252")
    assert "Västerbotten".encode("cp1252") in path.read_bytes()
    plan = validate(sqlite_engine, path, Settings(database_url=str(sqlite_engine.url)))
    assert plan.ok
    names = {node.name for org in plan.spool.organisations.values() for node in org.chain()}
    assert "Vårdcentralen Solna" in names and "Region Västerbotten" in names


def _hostile_xlsx(path: Path) -> None:
    """A real workbook whose sheet declares a "billion laughs" entity and uses it in the header."""
    import zipfile

    from indikera.ingest.export import write_xlsx

    plain = path.with_suffix(".plain.xlsx")
    write_xlsx(plain, sample())
    laughs = '<!DOCTYPE worksheet [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)) + "]>"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                text = data.decode()
                head, rest = text.split("?>", 1) if text.startswith("<?xml") else ("", text)
                rest = rest.replace("<sheetData>", '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>', 1)
                data = ((head + "?>") if head else "").encode() + laughs.encode() + rest.encode()
            dst.writestr(item, data)


def test_hostile_xlsx_is_refused_without_expanding_entities(shared_engine, tmp_path):
    import time

    path = tmp_path / "laughs.xlsx"
    _hostile_xlsx(path)
    before = snapshot(shared_engine)
    t = time.perf_counter()
    plan = validate(shared_engine, path, Settings(database_url=str(shared_engine.url)))
    assert time.perf_counter() - t < 20
    assert not plan.ok and plan.problems.shown[0].code in ("NOT_XLSX", "UNKNOWN_COLUMN", "MISSING_COLUMN")
    assert snapshot(shared_engine) == before

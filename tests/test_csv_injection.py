"""One rule for spreadsheet formulas (OWASP CSV injection), in every CSV/XLSX writer: a text cell starting
with ``=``, ``+``, ``-`` or ``@`` is written with a leading ``'``; number cells (negative ones too) are not."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.domain.measurements import Continuous, Measurement
from indikera.domain.organisations import Organisation, OrgType
from indikera.domain.spreadsheet import safe_cell
from indikera.ingest.export import write_csv, write_xlsx
from indikera.store import db as store_db

from .support.ingest_files import REG, Y2024, organisations, prop
from .test_opendata_roundtrip import _import

EVIL = "=cmd|' /C calc'!A0"


def _items() -> list[Measurement]:
    o = organisations()
    evil = Organisation(OrgType.VARDENHET, EVIL, hsa_id="SE2321000016-EVIL", parent=o["ks"])
    plus = Organisation(OrgType.VARDENHET, "+46 Enheten", hsa_id="SE2321000016-PLUS", parent=o["ks"])
    at = Organisation(OrgType.VARDENHET, "@SUM(A1)", hsa_id="SE2321000016-AT", parent=o["ks"])
    minus = Organisation(OrgType.VARDENHET, "-2+3", hsa_id="SE2321000016-MINUS", parent=o["ks"])
    return [
        prop("10001", Y2024, evil, 300, 500), prop("10001", Y2024, plus, 301, 500),
        prop("10001", Y2024, at, 302, 500),
        Measurement("10005", 1, Y2024, minus, Continuous(-0.5, 50), REG),
    ]


def test_rule():
    assert [safe_cell(t) for t in (EVIL, "+1", "-x", "@a", "\t=1", "Solna", "", "'=x")] == [
        "'" + EVIL, "'+1", "'-x", "'@a", "'\t=1", "Solna", "", "'=x"]


def _by_unit(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["UnitHSAID"]: r for r in rows}


def _check(rows: dict[str, dict[str, str]]) -> None:
    assert rows["SE2321000016-EVIL"]["UnitName"] == "'" + EVIL
    assert rows["SE2321000016-PLUS"]["UnitName"] == "'+46 Enheten"
    assert rows["SE2321000016-AT"]["UnitName"] == "'@SUM(A1)"
    assert rows["SE2321000016-MINUS"]["UnitName"] == "'-2+3"
    assert rows["SE2321000016-MINUS"]["Value"] in ("-0.5", -0.5)  # a number stays a number
    assert rows["SE2321000016-EVIL"]["HospitalName"] == "Karolinska universitetssjukhuset"


def test_vis_csv_writer(tmp_path):
    path = tmp_path / "x.csv"
    write_csv(path, _items())
    _check(_by_unit(list(csv.DictReader(io.StringIO(path.read_text()), delimiter=";"))))


def test_vis_xlsx_writer(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "x.xlsx"
    write_xlsx(path, _items())
    ws = load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    assert all(c.data_type != "f" for r in rows for c in r), "no cell may be a formula"
    _check(_by_unit([{h: c.value for h, c in zip(header, r)} for r in rows[1:]]))


def test_open_data_results_csv(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    store_db.upgrade(url)
    src = tmp_path / "in.csv"
    write_csv(src, [m for m in _items() if m.measure_id == "10001"])
    # the file carries the neutralised names; import them raw, as a registry with such names would
    src.write_text(src.read_text().replace("'" + EVIL, EVIL).replace("'+46", "+46").replace("'@SUM", "@SUM"))
    _import(url, src)
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        names = {i["organisation"]["name"] for i in client.get("/api/v1/results?limit=100&measureId=10001").json()["items"]}
        assert EVIL in names  # stored and served raw in JSON
        for delimiter, sep in (("comma", ","), ("semicolon", ";")):
            body = client.get(f"/api/v1/results.csv?delimiter={delimiter}&measureId=10001").text
            rows = _by_unit(list(csv.DictReader(io.StringIO(body), delimiter=sep)))
            assert rows["SE2321000016-EVIL"]["UnitName"] == "'" + EVIL
            assert rows["SE2321000016-PLUS"]["UnitName"] == "'+46 Enheten"
            assert rows["SE2321000016-AT"]["UnitName"] == "'@SUM(A1)"
            assert rows["SE2321000016-EVIL"]["Numerator"] == "300"
        # the Excel-friendly CSV and the XLSX (issue #15) follow the same rule
        body = client.get("/api/v1/results.csv?excel=true&measureId=10001").content.decode("utf-8-sig")
        rows = _by_unit(list(csv.DictReader(io.StringIO(body), delimiter=";")))
        assert rows["SE2321000016-EVIL"]["UnitName"] == "'" + EVIL and rows["SE2321000016-EVIL"]["Rate"] == "0,6"
        _check_xlsx(client.get("/api/v1/results.xlsx?measureId=10001").content)
    app.state.ctx.engine.dispose()


def _check_xlsx(content: bytes) -> None:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(ws.iter_rows())
    assert all(c.data_type != "f" for r in rows for c in r), "no cell may be a formula"
    header = [c.value for c in rows[0]]
    by_unit = _by_unit([{h: c.value for h, c in zip(header, r)} for r in rows[1:]])
    assert by_unit["SE2321000016-EVIL"]["UnitName"] == "'" + EVIL
    assert by_unit["SE2321000016-AT"]["UnitName"] == "'@SUM(A1)"
    assert by_unit["SE2321000016-EVIL"]["Numerator"] == 300 and isinstance(by_unit["SE2321000016-EVIL"]["Numerator"], int)

"""Issue #15 part B, what app developers expect (Kolada, PxWeb, DHIS2): ``total``, ``sort`` with exact paging,
``period=latest|last-N``, organisation search, the Excel CSV and XLSX, labels in English, integer counts.

Each behaviour is audited independently: the expected answer is computed in the test from one unsorted,
unfiltered read of the same API, so a wrong order, a lost or doubled row across pages, or a wrong "latest"
period fails. SQLite here; the PostgreSQL copy of the demo registry runs too (slow)."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.opendata.result_query import length_class
from indikera.opendata.visfile import COLUMNS, NUMBER_COLUMNS

from .opendata_support import demo_copy

PROBLEM = "application/problem+json"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]


@pytest.fixture(scope="module", params=BACKENDS)
def client(request, demo_template, tmp_path_factory) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=demo_copy(request.param, demo_template, tmp_path_factory)))
    with TestClient(app) as c:
        c.backend = request.param  # type: ignore[attr-defined]
        yield c
    app.state.ctx.engine.dispose()


def _all(client: TestClient, url: str, limit: int) -> tuple[list[dict], set[int]]:
    """Every item by following ``next``; the totals the pages announced."""
    items, totals = [], set()
    page = client.get(f"{url}&limit={limit}")
    while True:
        assert page.status_code == 200, page.text[:300]
        body = page.json()
        assert body["count"] == len(body["items"])
        items += body["items"]
        totals.add(body["total"])
        if not body["next"]:
            return items, totals
        page = client.get(body["next"])


def _key(i: dict) -> tuple:
    return (i["measureId"], i["periodStart"], i["periodEnd"], i["organisation"]["id"], i["stratum"] or "")


def _latest(items: list[dict], n: int) -> set[tuple]:
    groups: dict[tuple, set] = defaultdict(set)
    for i in items:
        start, end = i["periodStart"], i["periodEnd"]
        groups[(i["measureId"], length_class(date.fromisoformat(start), date.fromisoformat(end)))].add((end, start))
    return {(mid, s, e) for (mid, _), ps in groups.items() for e, s in sorted(ps, reverse=True)[:n]}


def test_total_is_every_matching_row_on_every_page(client: TestClient) -> None:
    everything = client.get("/api/v1/results?measureId=10001&limit=10000").json()
    items, totals = _all(client, "/api/v1/results?measureId=10001&periodFrom=2024-01-01&periodTo=2024-12-31", 700)
    expected = [i for i in everything["items"] if i["periodStart"] >= "2024-01-01" and i["periodEnd"] <= "2024-12-31"]
    assert totals == {len(expected)} and len(items) == len(expected)
    assert everything["total"] == everything["count"]
    assert client.get("/api/v1/indicators?limit=2").json()["total"] == client.get("/api/v1/indicators").json()["count"]


def test_period_latest_and_last_n_are_the_newest_periods_per_indicator_and_length(client: TestClient) -> None:
    ids = ["10001", "10002"]
    everything = [i for mid in ids for i in client.get(f"/api/v1/results?measureId={mid}&limit=10000").json()["items"]]
    for spec, n in (("latest", 1), ("last-2", 2), ("last-20", 20)):
        got = client.get(f"/api/v1/results?measureId={','.join(ids)}&period={spec}&limit=10000").json()["items"]
        latest = _latest(everything, n)
        assert {(i["measureId"], i["periodStart"], i["periodEnd"]) for i in got} == latest, spec
        assert sorted(map(_key, got)) == sorted(_key(i) for i in everything if (i["measureId"], i["periodStart"], i["periodEnd"]) in latest)
    for bad in ("last-0", "last-21", "newest", "last-", "last-01"):
        r = client.get(f"/api/v1/results?period={bad}")
        assert r.status_code == 400 and r.json()["parameter"] == "period", bad
    r = client.get("/api/v1/results?period=latest&periodFrom=2024-01-01")
    assert r.status_code == 400 and r.json()["parameter"] == "period"


def _value(i: dict) -> float | None:
    return i["rate"] if i["rate"] is not None else i["value"]


@pytest.mark.parametrize("sort", ["value", "-value", "name", "-name", "period", "-period"])
def test_sort_pages_exactly_in_the_documented_order(client: TestClient, sort: str) -> None:
    base = "/api/v1/results?measureId=10001&period=latest"
    everything = client.get(f"{base}&limit=10000").json()["items"]
    paged, totals = _all(client, f"{base}&sort={sort}", 150)
    assert totals == {len(everything)}
    assert sorted(map(_key, paged)) == sorted(map(_key, everything)), "every row exactly once"
    one_page = client.get(f"{base}&sort={sort}&limit=10000").json()["items"]
    assert list(map(_key, paged)) == list(map(_key, one_page)), "pages continue exactly"
    desc = sort.startswith("-")
    field = sort.lstrip("-")
    if field == "value":
        present = [i for i in paged if _value(i) is not None]
        assert paged[:len(present)] == present, "missing values last"
        values = [_value(i) for i in present]
        assert values == sorted(values, reverse=desc)
    elif field == "period":
        keys = [(i["periodStart"], i["periodEnd"]) for i in paged]
        assert keys == sorted(keys, reverse=desc)
    elif client.backend == "sqlite":  # SQLite compares names by code point, as Python does
        names = [i["organisation"]["name"] for i in paged]
        assert names == sorted(names, reverse=desc)
    assert not any(isinstance(v, float) and math.isnan(v) for i in paged for v in (i["rate"], i["value"]))


def test_sort_refuses_other_values_and_updated_since(client: TestClient) -> None:
    for url, parameter in (("/api/v1/results?sort=rate", "sort"), ("/api/v1/results?sort=value&updatedSince=2020-01-01", "sort")):
        r = client.get(url)
        assert r.status_code == 400 and r.headers["content-type"] == PROBLEM and r.json()["parameter"] == parameter
    first = client.get("/api/v1/results?measureId=10001&sort=value&limit=5").json()
    r = client.get(f"/api/v1/results?measureId=10001&sort=name&limit=5&cursor={first['nextCursor']}")
    assert r.status_code == 400 and r.json()["parameter"] == "cursor"  # a cursor of another order


def test_organisation_search_ignores_case_and_diacritics(client: TestClient) -> None:
    everything = client.get("/api/v1/organisations?limit=10000").json()["items"]
    for q in ("örebro", "OREBRO", "Örebro län", "o\u0308rebro"):
        got = client.get("/api/v1/organisations", params={"q": q}).json()
        names = {i["name"] for i in got["items"]}
        assert "Örebro län" in names and got["total"] == len(got["items"]), q
        assert all("orebro" in i["name"].lower().replace("ö", "o") or "orebro" in (i["hsaId"] or "").lower() for i in got["items"])
    expected = {i["id"] for i in everything if "orebro" in i["name"].lower().replace("ö", "o")}
    paged, totals = _all(client, "/api/v1/organisations?q=orebro", 2)
    assert {i["id"] for i in paged} == expected and totals == {len(expected)}
    for q in ("", " "):
        r = client.get("/api/v1/organisations", params={"q": q})
        assert r.status_code == 400 and r.json()["parameter"] == "q"


def test_excel_csv_and_xlsx_hold_the_csv_rows(client: TestClient) -> None:
    from openpyxl import load_workbook

    query = "measureId=10001&period=latest"
    plain = list(csv.reader(io.StringIO(client.get(f"/api/v1/results.csv?{query}").text)))
    raw = client.get(f"/api/v1/results.csv?{query}&excel=true").content
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    excel = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert excel[0] == list(COLUMNS) and len(excel) == len(plain)
    rate = COLUMNS.index("Rate")
    assert all(e[rate] == p[rate].replace(".", ",") for e, p in zip(excel[1:], plain[1:]))
    assert any("," in e[rate] for e in excel[1:])
    r = client.get(f"/api/v1/results.csv?{query}&excel=true&delimiter=comma")
    assert r.status_code == 400 and r.json()["parameter"] == "delimiter"

    x = client.get(f"/api/v1/results.xlsx?{query}")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "resultat.xlsx" in x.headers["content-disposition"] and x.headers["etag"]
    rows = [[c for c in r] for r in load_workbook(io.BytesIO(x.content), read_only=True).worksheets[0].iter_rows(values_only=True)]
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(plain)
    counts = [COLUMNS.index(c) for c in ("Numerator", "Denominator")]
    for xr, pr in zip(rows[1:], plain[1:]):
        # the same cells; numbers as numbers (openpyxl writes 16 significant digits, Excel keeps 15: compared
        # as numbers to 1e-15)
        for i, (v, p) in enumerate(zip(xr, pr)):
            if i in NUMBER_COLUMNS and p != "":
                assert math.isclose(v, float(p), rel_tol=1e-15), (COLUMNS[i], v, p)
            else:
                assert ("" if v is None else v) == p, (COLUMNS[i], v, p)
        assert all(isinstance(xr[i], int) for i in counts if xr[i] is not None)


def test_labels_in_english_and_swedish(client: TestClient) -> None:
    en = client.get("/api/v1/indicators/10001?lang=en").json()
    sv = client.get("/api/v1/indicators/10001").json()
    assert en["labels"]["unitType"] == "Proportion" and sv["labels"]["unitType"] == "Andel"
    assert en["unitType"] == sv["unitType"] == "Andel" and en["textLanguage"] in ("en", "mixed")
    org = client.get("/api/v1/results?measureId=10001&riket=true&limit=1&lang=en").json()["items"][0]["organisation"]
    assert org["type"] == "Land" and org["typeLabel"] == "Sweden (national)"
    assert client.get("/api/v1/organisations?type=Lan&limit=1&lang=en").json()["items"][0]["typeLabel"] == "County/region"
    r = client.get("/api/v1/results?lang=de")
    assert r.status_code == 400 and r.json()["parameter"] == "lang"


def test_counts_are_integers_in_every_format(client: TestClient) -> None:
    items = client.get("/api/v1/results?measureId=10001&period=latest&limit=10000").json()["items"]
    for i in items:
        for k in ("numerator", "denominator", "measurePopulation", "cohort", "exclusions"):
            assert i[k] is None or isinstance(i[k], int), (k, i[k])
    assert "total" in client.get("/api/v1/changes?limit=1").json()

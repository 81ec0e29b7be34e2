"""The open-data API (/api/v1): what a web site or app fetching open indicators relies on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings

from .opendata_support import demo_copy

BASE = "http://127.0.0.1:8080"  # no base_url configured: the links follow the Host the client asked


def _client(url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=url))
    with TestClient(app, base_url=BASE) as c:
        yield c
    app.state.ctx.engine.dispose()


# These tests only read, so one copy of the demo registry per backend serves the whole module.
@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def client(request, demo_template, tmp_path_factory) -> Iterator[TestClient]:
    yield from _client(demo_copy(request.param, demo_template, tmp_path_factory))


@pytest.fixture(scope="module")
def sqlite_client(demo_template, tmp_path_factory) -> Iterator[TestClient]:
    yield from _client(demo_copy("sqlite", demo_template, tmp_path_factory))


def rel(url: str) -> str:
    assert url.startswith(BASE)
    return url[len(BASE):]


def all_pages(client: TestClient, url: str) -> list[dict]:
    items, seen_cursors = [], set()
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == len(body["items"])
        items += body["items"]
        if body["next"]:
            assert body["nextCursor"] not in seen_cursors
            seen_cursors.add(body["nextCursor"])
            assert r.headers["link"] == f'<{body["next"]}>; rel="next"'
            url = rel(body["next"])
        else:
            url = None
    return items


def test_indicators_lists_only_open_ones_with_their_texts(client: TestClient) -> None:
    r = client.get("/api/v1/indicators")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    ids = [i["measureId"] for i in r.json()["items"]]
    assert ids == [str(n) for n in range(10001, 10015)]  # 10015 restricted, 10016 unpublished
    stroke = r.json()["items"][0]
    assert stroke["title"] == "Vård på strokeenhet"
    assert stroke["unitType"] == "Andel" and stroke["measureKind"] == "proportion"
    assert {s["measureId"] for s in stroke["subMeasures"]} == {"10002", "10003"}
    for name in ("coverage", "dropout", "reporting", "interpretation"):
        assert isinstance(stroke["texts"][name], str) and len(stroke["texts"][name]) > 20, name
    assert stroke["descriptionVersion"] == "1.0"
    assert stroke["links"]["resultsCsv"] == f"{BASE}/api/v1/results.csv?measureId=10001"


def test_indicator_search_by_text_and_facets(client: TestClient) -> None:
    def ids(query: str) -> list[str]:
        r = client.get("/api/v1/indicators?" + query)
        assert r.status_code == 200, r.text
        return [i["measureId"] for i in r.json()["items"]]

    assert ids("q=strokeenhet") == ["10001", "10002", "10003"]
    assert ids("q=strokeenhet kvinnor") == ["10002"]
    assert ids("unitType=Median") == ["10005", "10006"]
    assert ids("unitType=antal") == ["10008", "10014"]  # case-insensitive choice
    assert ids("sex=K") == ["10002", "10011"]
    assert set(ids("frequency=quarter")) >= {"10001", "10004", "10006", "10013"}
    assert ids("q=Läkemedelsgenomgång") == []  # the restricted indicator is not searchable
    one = client.get("/api/v1/indicators/10005").json()
    if one["keywords"]:
        assert "10005" in ids("keyword=" + one["keywords"][0])
    if one["indicatorType"]:
        assert "10005" in ids("indicatorType=" + one["indicatorType"])


def test_indicator_detail_versions_and_submeasures(client: TestClient) -> None:
    d = client.get("/api/v1/indicators/10010").json()
    assert d["measureId"] == "10010" and d["document"]["measureId"] == "10010"
    v = client.get("/api/v1/indicators/10010/versions").json()
    assert [x["descriptionVersion"] for x in v["items"]] == ["1.0"]
    subs = client.get("/api/v1/indicators/10010/submeasures").json()["items"]
    assert [(s["measureId"], s["sex"], s["parentMeasureId"]) for s in subs] == [("10011", "K", "10010"), ("10012", "M", "10010")]


@pytest.mark.parametrize("mid", ["10015", "10016", "99999"])
def test_restricted_unpublished_and_unknown_indicators_look_the_same(client: TestClient, mid: str) -> None:
    for path in (f"/api/v1/indicators/{mid}", f"/api/v1/indicators/{mid}/versions", f"/api/v1/indicators/{mid}/submeasures"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == f"Det finns ingen öppen indikator med id '{mid}'."
    r = client.get(f"/api/v1/results?measureId={mid}")
    assert r.status_code == 400 and r.json()["parameter"] == "measureId"
    assert "Läkemedelsgenomgång" not in r.text and "Återinskrivning" not in r.text


def test_results_one_indicator_one_year_all_units_paginated(client: TestClient) -> None:
    url = "/api/v1/results?measureId=10001&periodFrom=2024-01-01&periodTo=2024-12-31&limit=250"
    items = all_pages(client, url)
    keys = [(i["periodStart"], i["periodEnd"], i["organisation"]["id"]) for i in items]
    assert len(keys) == len(set(keys)), "a row appeared on two pages"
    assert {i["measureId"] for i in items} == {"10001"}
    assert all("2024-01-01" <= i["periodStart"] and i["periodEnd"] <= "2024-12-31" for i in items)
    periods = {(i["periodStart"], i["periodEnd"]) for i in items}
    assert periods == {("2024-01-01", "2024-12-31"), ("2024-01-01", "2024-03-31"), ("2024-04-01", "2024-06-30"),
                       ("2024-07-01", "2024-09-30"), ("2024-10-01", "2024-12-31")}
    single = client.get("/api/v1/results?measureId=10001&periodFrom=2024-01-01&periodTo=2024-12-31&limit=10000").json()
    assert single["next"] is None and single["items"] == items  # same order, however it is paged
    riket = [i for i in items if i["organisation"]["type"] == "Land" and i["periodEnd"] == "2024-12-31" and i["periodStart"] == "2024-01-01"]
    assert len(riket) == 1 and riket[0]["kind"] == "proportion"
    assert riket[0]["numerator"] / riket[0]["denominator"] == pytest.approx(riket[0]["rate"])


def test_results_organisation_filters(client: TestClient) -> None:
    def orgs(query: str) -> set[tuple[str, str]]:
        r = client.get("/api/v1/results?measureId=10007&periodFrom=2025-01-01&periodTo=2025-12-31&limit=10000&" + query)
        assert r.status_code == 200, r.text
        return {(i["organisation"]["type"], i["organisation"]["id"]) for i in r.json()["items"]}

    assert orgs("riket=true") == {("Land", "oid:1.2.752.129.2.2.1.19:SE")}
    assert orgs("lan=01") == {("Lan", "oid:1.2.752.129.2.2.1.18:01")}
    assert orgs("hsaId=SE2321000000-E0001") == {("Vardenhet", "hsa:SE2321000000-E0001")}
    below = orgs("lan=01&includeSubunits=true")
    assert ("Lan", "oid:1.2.752.129.2.2.1.18:01") in below and len(below) > 5
    assert {t for t, _ in below} >= {"Lan", "Sjukhus", "Vardenhet"}
    assert {t for t, _ in orgs("organisationType=Sjukhus")} == {"Sjukhus"}
    kommun_units = orgs("organisationType=Vardenhet&includeSubunits=true&lan=01")
    assert kommun_units and {t for t, _ in kommun_units} == {"Vardenhet"}
    assert orgs("lan=99") == set()


def test_results_sex_filter_and_several_indicators(client: TestClient) -> None:
    r = client.get("/api/v1/results?measureId=10001,10002,10003&sex=K&riket=true&limit=10000")
    assert {i["measureId"] for i in r.json()["items"]} == {"10002"}
    r = client.get("/api/v1/results?measureId=10001&measureId=10002&sex=T&riket=true&limit=10000")
    assert {i["measureId"] for i in r.json()["items"]} == {"10001"}


def test_csv_uses_the_vis_layout_and_matches_the_json(client: TestClient) -> None:
    q = "measureId=10005&periodFrom=2025-01-01&periodTo=2025-12-31"
    r = client.get("/api/v1/results.csv?" + q)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    items = client.get("/api/v1/results?limit=10000&" + q).json()["items"]
    assert len(rows) == len(items) > 300
    assert list(rows[0])[:4] == ["MeasureID", "Version", "PeriodReportedStartDate", "PeriodReportedEndDate"]
    for row, item in zip(rows, items):
        assert row["MeasureID"] == item["measureId"] and row["PeriodReportedStartDate"] == item["periodStart"]
        if item["value"] is not None:
            assert float(row["Value"]) == item["value"]
        assert row["ReasonCode"] == (item["reasonCode"] or "")
        assert row["CountryName"] == "Riket"
        if item["organisation"]["type"] == "Vardenhet":
            assert row["UnitHSAID"] == item["organisation"]["hsaId"]
    semi = client.get("/api/v1/results.csv?delimiter=semicolon&" + q).text
    assert semi.splitlines()[0].startswith("MeasureID;Version;")


def test_organisations_are_those_with_open_results_and_their_parents(client: TestClient) -> None:
    items = all_pages(client, "/api/v1/organisations?limit=100")
    by_id = {o["id"]: o for o in items}
    assert len(by_id) == len(items)
    assert {o["type"] for o in items} == {"Land", "Lan", "Kommun", "Sjukhus", "Vardenhet"}
    for o in items:
        assert o["parentId"] is None or o["parentId"] in by_id
        assert o["ancestors"][:1] == ([o["parentId"]] if o["parentId"] else [])
    lans = client.get("/api/v1/organisations?type=Lan").json()["items"]
    assert len(lans) == 21 and all(o["organisationId"]["root"] == "1.2.752.129.2.2.1.18" for o in lans)
    kids = client.get("/api/v1/organisations?parentId=oid:1.2.752.129.2.2.1.18:01").json()["items"]
    assert kids and all(k["parentId"] == "oid:1.2.752.129.2.2.1.18:01" for k in kids)


HOSTILE = [
    ("/api/v1/results?limit=0", "limit"),
    ("/api/v1/results?limit=100001", "limit"),
    ("/api/v1/results?limit=1e400", "limit"),
    ("/api/v1/results?limit=-1", "limit"),
    ("/api/v1/results?periodFrom=2024-13-01", "periodFrom"),
    ("/api/v1/results?periodFrom=2024-02-30", "periodFrom"),
    ("/api/v1/results?periodFrom=yesterday", "periodFrom"),
    ("/api/v1/results?periodFrom=2025-01-01&periodTo=2024-01-01", "periodFrom"),
    ("/api/v1/results?measureId=10001%27%20OR%201=1--", "measureId"),
    ("/api/v1/results?measureId=" + "9" * 300, "measureId"),
    ("/api/v1/results?measureId=" + ",".join(str(i) for i in range(300)), "measureId"),
    ("/api/v1/results?lan=1", "lan"),
    ("/api/v1/results?kommun=01%00", "kommun"),
    ("/api/v1/results?hsaId=%3Cscript%3E", "hsaId"),
    ("/api/v1/results?organisationType=Planet", "organisationType"),
    ("/api/v1/results?sex=X", "sex"),
    ("/api/v1/results?riket=maybe", "riket"),
    ("/api/v1/results?updatedSince=not-a-time", "updatedSince"),
    ("/api/v1/results?updatedSince=99999-01-01", "updatedSince"),
    ("/api/v1/results?cursor=%%%", "cursor"),
    ("/api/v1/results?cursor=eyJvIjoibiJ9", "cursor"),
    ("/api/v1/results?cursor=" + "A" * 2000, "cursor"),
    ("/api/v1/results?measureid=10001", "measureid"),
    ("/api/v1/results.csv?delimiter=tab", "delimiter"),
    ("/api/v1/indicators?unitType=Procent", "unitType"),
    ("/api/v1/indicators?q=" + "x" * 500, "q"),
    ("/api/v1/organisations?type=Planet", "type"),
    ("/api/v1/changes?since=31/12/2024", "since"),
    ("/api/v1/changes?type=everything", "type"),
]


@pytest.mark.parametrize("url,param", HOSTILE)
def test_bad_parameters_give_a_problem_naming_the_parameter(sqlite_client: TestClient, url: str, param: str) -> None:
    r = sqlite_client.get(url)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 400 and body["type"].endswith("/bad-parameter")
    assert body["parameter"] == param
    assert body["detail"] and body["detail_en"]
    assert "Traceback" not in r.text


def test_a_cursor_only_continues_its_own_query(client: TestClient) -> None:
    first = client.get("/api/v1/results?measureId=10001&limit=5").json()
    r = client.get(f"/api/v1/results?measureId=10004&limit=5&cursor={first['nextCursor']}")
    assert r.status_code == 400 and r.json()["parameter"] == "cursor"
    ok = client.get(f"/api/v1/results?measureId=10001&limit=5&cursor={first['nextCursor']}")
    assert ok.status_code == 200 and ok.json()["items"][0] != first["items"][0]


def test_only_reading_is_allowed_and_unknown_paths_are_problems(client: TestClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        r = client.request(method.upper(), "/api/v1/results")
        assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_cors_lets_any_browser_app_read(client: TestClient) -> None:
    r = client.get("/api/v1/indicators", headers={"Origin": "https://app.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "ETag" in r.headers["access-control-expose-headers"]
    pre = client.options("/api/v1/results", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "If-None-Match"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"] and "POST" not in pre.headers["access-control-allow-methods"]
    denied = client.options("/api/v1/results", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE"})
    assert denied.status_code == 400
    d = client.get("/datasets/dcat", headers={"Origin": "https://app.example"})
    assert d.headers["access-control-allow-origin"] == "*"


def test_openapi_and_docs_are_served_without_a_cdn(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["servers"] == [{"url": "/api/v1"}]
    assert {"/indicators", "/indicators/{measureId}", "/results", "/results.csv", "/organisations", "/changes"} <= set(spec["paths"])
    for ops in spec["paths"].values():
        assert "422" not in ops["get"]["responses"] and "400" in ops["get"]["responses"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "http" not in page.text.split("<body>")[1]  # nothing fetched from elsewhere
    for asset in ("docs/assets/swagger-ui-bundle.js", "docs/assets/swagger-ui.css"):
        assert asset in page.text
        assert client.get("/api/v1/" + asset).status_code == 200
    assert client.get("/openapi.json").status_code == 404  # the main app keeps its docs off


def test_index_links_and_head_requests(client: TestClient) -> None:
    index = client.get("/api/v1/")
    assert index.status_code == 200
    assert index.json()["links"]["results"] == f"{BASE}/api/v1/results"
    for url in ("/api/v1/", "/api/v1/indicators", "/api/v1/results.csv?measureId=10001&riket=true", "/datasets/dcat"):
        get, head = client.get(url), client.head(url)
        assert head.status_code == 200 and head.content == b"", url
        assert head.headers["etag"] == get.headers["etag"], url

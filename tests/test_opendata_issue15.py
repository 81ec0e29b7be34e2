"""Issue #15, what an app syncing open data trips over: blank filters, links that follow the server, odd ids,
the OpenAPI document's ETag, counts as integers, compression, revalidation and authors as personal data."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings

from .opendata_support import demo_copy

PROBLEM = "application/problem+json"
AUTHOR_NAME, AUTHOR_HSA = "Registrets kvalitetsredaktör (syntetisk)", "SE2321000000-DEMO01"


@pytest.fixture(scope="module")
def db(demo_template, tmp_path_factory) -> str:
    return demo_copy("sqlite", demo_template, tmp_path_factory)


@pytest.fixture(scope="module")
def app(db: str):
    application = create_app(Settings(database_url=db))
    yield application
    application.state.ctx.engine.dispose()


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:9000") as c:
        yield c


def _problem(r, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, (r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"] == PROBLEM, (r.request.url, r.headers["content-type"], r.text[:300])
    return r.json()


# ---------------- defect 2: a blank filter is a 400, never "no filter" ----------------

def test_every_documented_parameter_refuses_a_blank_value(client: TestClient) -> None:
    """Walks the OpenAPI document, so a parameter added later cannot be forgotten."""
    doc = client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, ops in doc["paths"].items():
        concrete = path.replace("{measureId}", "10001")
        assert "{" not in concrete, path
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] != "query":
                    continue
                name = param["name"]
                is_list = "array" in str(param.get("schema"))
                for blank in ("", "%20", ",") if is_list else ("", "%20"):
                    body = _problem(client.get(f"/api/v1{concrete}?{name}={blank}"), 400)
                    assert body["parameter"] == name, (path, name, blank, body)
                checked += 1
    assert checked >= 30  # results, results.csv, indicators, organisations, changes …


@pytest.mark.parametrize("query", [
    "measureId=10001&periodFrom=2024-01-01&hsaId=", "measureId=10001&lan=", "measureId=10001&kommun=",
    "measureId=10001&sjukhus=", "measureId=10001&organisationType=", "measureId=10001&sex=", "measureId=",
    "measureId=10001&hsaId=SE2321000000-E0001,", "measureId=10001&hsaId=SE2321000000-E0001&hsaId=",
])
def test_blank_result_filters_never_widen_the_query(client: TestClient, query: str) -> None:
    blank_name = [p.split("=")[0] for p in query.split("&") if p.endswith("=") or p.endswith(",")][-1]
    for endpoint in ("/api/v1/results", "/api/v1/results.csv"):
        assert _problem(client.get(f"{endpoint}?{query}"), 400)["parameter"] == blank_name


# ---------------- defect 5: odd ids, the OpenAPI ETag, counts ----------------

@pytest.mark.parametrize("odd", ["a%0Ab", "a%0D", "%0A", "a%2Fb", "%C3%A5%C3%A4", "%E2%80%A8", "x" * 65, "%00", "a%20b"])
@pytest.mark.parametrize("suffix", ["", "/versions", "/submeasures"])
def test_odd_ids_in_paths_are_problems(client: TestClient, odd: str, suffix: str) -> None:
    body = _problem(client.get(f"/api/v1/indicators/{odd}{suffix}"), (400, 404))
    assert body["status"] in (400, 404) and body["detail"] and body["detail_en"]


@pytest.mark.parametrize("path", ["/api/v1%0A", "/api/v1/%0A", "/api/v1/results%0A", "/api/v1/indicators/10001%0A/versions"])
def test_line_breaks_anywhere_under_the_api_are_problems(client: TestClient, path: str) -> None:
    assert _problem(client.get(path), (400, 404))["code"] in ("NOT_FOUND", "BAD_PARAMETER")


def test_openapi_document_has_an_etag_and_answers_304(client: TestClient) -> None:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
    etag = r.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/api/v1/openapi.json", headers={"If-None-Match": '"other"'}).status_code == 200


def test_counts_are_integers_in_json_and_csv(client: TestClient) -> None:
    r = client.get("/api/v1/results?measureId=10001&limit=200")
    items = r.json()["items"]
    proportions = [i for i in items if i["kind"] == "proportion"]
    assert proportions
    for item in proportions:
        assert type(item["numerator"]) is int and type(item["denominator"]) is int, item
    assert not re.search(r'"(numerator|denominator|measurePopulation|cohort|exclusions)":-?\d+\.0[,}]', r.text)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/results.csv?measureId=10001").text)))
    counts = [k for k in rows[0] if k.lower() in ("numerator", "denominator")]
    assert counts, rows[0].keys()
    assert not any(row[k].endswith(".0") for row in rows for k in counts)


# ---------------- defect 4: links follow the server ----------------

def _links(c: TestClient) -> tuple[str, str, str, bytes]:
    index = c.get("/api/v1/").json()
    page = c.get("/api/v1/results?measureId=10001&limit=5")
    body = page.json()
    assert page.headers["link"] == f'<{body["next"]}>; rel="next"'
    return index["links"]["results"], index["catalogue"], body["next"], c.get("/datasets/dcat?format=ttl").content


def test_links_follow_host_and_port_of_each_request(app) -> None:
    with TestClient(app, base_url="http://127.0.0.1:9000") as a, TestClient(app, base_url="http://localhost:8081") as b:
        for c, base in ((a, "http://127.0.0.1:9000"), (b, "http://localhost:8081"), (a, "http://127.0.0.1:9000")):
            results, catalogue, nxt, dcat = _links(c)
            assert results == f"{base}/api/v1/results" and catalogue == f"{base}/datasets/dcat"
            assert nxt.startswith(f"{base}/api/v1/results?")
            assert f"<{base}/datasets/catalog>".encode() in dcat and b":8080" not in dcat
            other = "http://localhost:8081" if base.endswith("9000") else "http://127.0.0.1:9000"
            assert other.encode() not in dcat
        # one data version, two bases: the cached answers (and their ETags) must not mix
        ea = a.get("/api/v1/indicators").headers["etag"]
        eb = b.get("/api/v1/indicators").headers["etag"]
        assert ea != eb
        assert b.get("/api/v1/indicators", headers={"If-None-Match": ea}).status_code == 200
        assert b.get("/api/v1/indicators").json()["items"][0]["links"]["self"].startswith("http://localhost:8081/")


def test_forwarded_headers_count_only_from_trusted_proxies(db: str) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "data.example.se"}
    rfc = {"Forwarded": 'for=192.0.2.1;proto=https;host="opendata.example.se"'}
    app = create_app(Settings(database_url=db, trusted_proxies=("127.0.0.1",)))
    with TestClient(app, base_url="http://127.0.0.1:8080", client=("127.0.0.1", 4711)) as proxied, \
            TestClient(app, base_url="http://127.0.0.1:8080", client=("192.0.2.9", 4711)) as direct:
        assert proxied.get("/api/v1/", headers=forwarded).json()["links"]["results"] == "https://data.example.se/api/v1/results"
        assert proxied.get("/api/v1/", headers=rfc).json()["links"]["results"] == "https://opendata.example.se/api/v1/results"
        assert direct.get("/api/v1/", headers=forwarded).json()["links"]["results"] == "http://127.0.0.1:8080/api/v1/results"
        # a Host that is no host[:port] is never copied into links
        bad = direct.get("/api/v1/", headers={"Host": "evil.example/<x>"}).json()["links"]["results"]
        assert "evil" not in bad and "<" not in bad
    app.state.ctx.engine.dispose()


def test_a_configured_base_url_wins(db: str) -> None:
    app = create_app(Settings(database_url=db, base_url="https://data.demoregistret.se/"))
    with TestClient(app, base_url="http://127.0.0.1:9000", client=("127.0.0.1", 1)) as c:
        results, catalogue, nxt, dcat = _links(c)
        assert results == "https://data.demoregistret.se/api/v1/results"
        assert nxt.startswith("https://data.demoregistret.se/api/v1/results?")
        assert b"https://data.demoregistret.se/datasets/catalog" in dcat and b":9000" not in dcat
    app.state.ctx.engine.dispose()


# ---------------- defect 3: compression ----------------

def test_gzip_with_vary_and_the_same_etag(client: TestClient) -> None:
    url = "/api/v1/results?measureId=10001&periodFrom=2024-01-01&periodTo=2024-12-31&limit=10000"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    raw = client.stream("GET", url, headers={"Accept-Encoding": "gzip"})
    with raw as r:
        wire = b"".join(r.iter_raw())
        headers = r.headers
    assert headers["content-encoding"] == "gzip" and "accept-encoding" in headers["vary"].lower()
    assert len(wire) * 5 < len(plain.content)
    assert gzip.decompress(wire) == plain.content
    assert plain.headers.get("content-encoding") is None and "accept-encoding" in plain.headers["vary"].lower()
    assert headers["etag"] == plain.headers["etag"]
    cached = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert cached.status_code == 304 and "accept-encoding" in cached.headers["vary"].lower()
    # small answers stay plain, but say that they could vary
    small = client.get("/api/v1/indicators/does-not-exist", headers={"Accept-Encoding": "gzip"})
    assert small.headers.get("content-encoding") is None and "accept-encoding" in small.headers["vary"].lower()


def test_streamed_csv_and_dcat_are_compressed_and_soap_is_not(client: TestClient) -> None:
    for url in ("/api/v1/results.csv?measureId=10001", "/datasets/dcat"):
        plain = client.get(url, headers={"Accept-Encoding": "identity"}).content
        with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as r:
            assert r.headers["content-encoding"] == "gzip", url
            assert gzip.decompress(b"".join(r.iter_raw())) == plain
    wsdl = client.get("/qualityreporting/GetQualityIndicators/2/rivtabp21?wsdl", headers={"Accept-Encoding": "gzip"})
    assert wsdl.status_code == 200 and wsdl.headers.get("content-encoding") is None


# ---------------- caching that respects de-publication ----------------

def test_answers_are_revalidated_not_served_stale(client: TestClient) -> None:
    for url in ("/api/v1/", "/api/v1/results?measureId=10001", "/api/v1/indicators/10001", "/datasets/dcat"):
        r = client.get(url)
        assert r.headers["cache-control"] == "public, no-cache", url
        assert "max-age" not in r.headers["cache-control"]


# ---------------- personal data: authors ----------------

def _author_free(text: str) -> bool:
    return AUTHOR_NAME not in text and AUTHOR_HSA not in text


def test_authors_are_left_out_of_open_data_by_default(client: TestClient) -> None:
    one = client.get("/api/v1/indicators/10001")
    assert one.json()["document"] and "authors" not in one.json()["document"]
    for url in ("/api/v1/indicators", "/api/v1/indicators/10001/versions", "/api/v1/indicators/10001/submeasures",
                "/datasets/dcat?format=ttl"):
        assert _author_free(client.get(url).content.decode()), url
    assert _author_free(one.text)
    assert client.get("/api/v1/indicators", params={"q": "kvalitetsredaktör"}).json()["items"] == []


def test_authors_are_shown_when_configured(db: str) -> None:
    app = create_app(Settings(database_url=db, opendata_show_authors=True))
    with TestClient(app) as c:
        document = c.get("/api/v1/indicators/10001").json()["document"]
        assert {"hsaId": AUTHOR_HSA, "name": AUTHOR_NAME} in document["authors"]
        assert AUTHOR_HSA in c.get("/api/v1/indicators/10001/versions").text
    app.state.ctx.engine.dispose()


def test_settings_defaults_and_environment(tmp_path, monkeypatch) -> None:
    from indikera.config import load_settings

    monkeypatch.chdir(tmp_path)  # no ./indikera.toml
    defaults = Settings()
    assert defaults.base_url == "" and defaults.publisher_uri == "" and defaults.opendata_show_authors is False
    s = load_settings(env={"INDIKERA_OPENDATA_SHOW_AUTHORS": "true", "INDIKERA_BASE_URL": "https://x.example"})
    assert s.opendata_show_authors is True and s.base_url == "https://x.example"

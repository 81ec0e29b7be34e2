"""The smaller defects of issue #14 (item 7): each test fails on the code before the fix."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.testclient import TestClient

from indikera.access_log import redact_query
from indikera.app import create_app
from indikera.config import Settings
from indikera.server import uvicorn_options
from indikera.store.access_tables import audit_log

from .support import soap_client as sc
from .support.server import free_port

TOKEN = "tok-hardening-5c1e2f9a7b"


@pytest.fixture(scope="module")
def app(demo_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("hardening") / "demo.db"
    shutil.copy(demo_template, path)
    application = create_app(Settings(database_url=f"sqlite:///{path}", admin_tokens=(f"anna:{TOKEN}",)))
    yield application
    application.state.ctx.engine.dispose()


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _is_problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["detail"] and body["detail_en"]
    return body


def test_a_refused_cors_preflight_is_a_problem(client: TestClient) -> None:
    r = client.options("/api/v1/results", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "DELETE"})
    body = _is_problem(r, 400)
    assert "method" in body["detail_en"]
    ok = client.options("/api/v1/results", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/admin/api/v1/indicators/", "/api/v1/indicators/", "/api/v1/results/", "/access/whoami/"])
def test_no_redirect_is_built_from_the_host_header(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}, follow_redirects=False)
    assert "evil.example" not in r.headers.get("location", "")
    assert r.status_code == 404, (r.status_code, r.headers.get("location"))
    if path.startswith(("/admin", "/api")):
        _is_problem(r, 404)


def test_the_api_root_redirect_is_relative(client: TestClient) -> None:
    r = client.get("/api/v1", headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/api/v1/"


def test_search_compares_in_nfc_in_the_api_and_the_ui(client: TestClient) -> None:
    composed, decomposed = "vård", unicodedata.normalize("NFD", "vård")
    assert composed != decomposed
    api = [client.get("/api/v1/indicators", params={"q": q}).json()["count"] for q in (composed, decomposed, composed.upper())]
    assert api[0] > 0 and api == [api[0]] * 3
    ui = [client.get("/indikatorer", params={"q": q}).text.count('href="/indikatorer/') for q in (composed, decomposed)]
    assert ui[0] > 0 and ui[0] == ui[1]


@pytest.mark.parametrize("query,param", [
    ("limit=10&limit=20", "limit"),
    ("limit=1_000", "limit"),
    ("limit=010", "limit"),
    ("limit=%2B5", "limit"),
    ("periodFrom=2023-01-01&periodFrom=2024-01-01", "periodFrom"),
    ("riket=true&riket=false", "riket"),
])
def test_repeated_single_parameters_and_odd_integers_are_refused(client: TestClient, query: str, param: str) -> None:
    body = _is_problem(client.get(f"/api/v1/results?{query}"), 400)
    assert body["parameter"] == param


def test_list_parameters_may_still_repeat(client: TestClient) -> None:
    r = client.get("/api/v1/results?measureId=10001&measureId=10004&limit=5")
    assert r.status_code == 200 and r.json()["count"] == 5


@pytest.mark.parametrize("path", ["/", "/health", "/api/v1/results?limit=1", "/api/v1/nothing", "/indikatorer",
                                  "/admin/api/v1/indicators", sc.PATH + "?wsdl", sc.PATH + "?xsd=%3Cscript%3Ealert(1)%3C/script%3E"])
def test_every_response_says_nosniff(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.headers.get("x-content-type-options") == "nosniff", (path, r.status_code)


def test_an_unknown_schema_name_is_not_echoed(client: TestClient) -> None:
    r = client.get(sc.PATH, params={"xsd": "<script>alert(1)</script>"})
    assert r.status_code == 404 and "script" not in r.text


@contextmanager
def _info_server(application) -> Iterator[str]:
    """A real server as ``serve`` configures it, logging at info (``support.server.running`` logs warnings only)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="info", lifespan="off",
                                           **uvicorn_options(None)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_access_log_has_no_secrets_or_cursors(demo_template, tmp_path, caplog) -> None:
    assert redact_query("/x?access_token=abc&measureId=1&cursor=e30.sig") == "/x?access_token=***&measureId=1&cursor=***"
    shutil.copy(demo_template, tmp_path / "demo.db")
    application = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}"))
    try:
        with _info_server(application) as base:
            access = logging.getLogger("uvicorn.access")
            access.addHandler(caplog.handler)  # uvicorn's access logger does not propagate to the root
            try:
                with caplog.at_level(logging.INFO, logger="uvicorn.access"):
                    httpx.get(f"{base}/api/v1/indicators?token=hemlig-7788&q=v%C3%A5rd&limit=1", timeout=30)
            finally:
                access.removeHandler(caplog.handler)
    finally:
        application.state.ctx.engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/api/v1/indicators?" in line for line in lines), lines
    assert not any("hemlig-7788" in line for line in lines), lines
    assert any("token=***" in line and "limit=1" in line for line in lines), lines


def _rows(app, channel: str) -> list[dict]:
    with app.state.ctx.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.channel == channel).order_by(audit_log.c.id))
        return [dict(r._mapping) for r in rows]


def test_a_logical_address_fault_records_what_was_requested(app, client: TestClient) -> None:
    before = len(_rows(app, "soap"))
    r = sc.post(client, sc.request(ids=("10001", "10004"), address="SE0000000000-NOT-US"))
    code, _ = sc.fault(r)
    rows = _rows(app, "soap")[before:]
    assert len(rows) == 1 and rows[0]["outcome"].startswith("fault:")
    assert rows[0]["requested"]["measureIds"] and rows[0]["requested"]["measureIdCount"] == 2, (code, rows[0])


def test_successful_admin_writes_carry_the_correlation_id(app, client: TestClient) -> None:
    before = len(_rows(app, "admin"))
    r = client.put("/admin/api/v1/indicators/10001/publication", json={"level": "open", "reason": "Granskad"},
                   headers={"Authorization": f"Bearer {TOKEN}", "x-skltp-correlation-id": "corr-write-42"})
    assert r.status_code == 200, r.text
    r = client.get("/admin/api/v1/indicators", headers={"Authorization": f"Bearer {TOKEN}", "x-skltp-correlation-id": "corr-read-43"})
    assert r.status_code == 200
    rows = _rows(app, "admin")[before:]
    assert [(row["outcome"], row["correlation_id"]) for row in rows] == [("ok", "corr-write-42"), ("ok", "corr-read-43")]

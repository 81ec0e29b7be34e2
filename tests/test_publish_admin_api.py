"""The admin HTTP API over a real server: authentication, audit of every call, the operations, hostile input."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select

from indikera import demo
from indikera.app import create_app
from indikera.catalog import jsonformat
from indikera.catalog.demo_descriptions import description_for
from indikera.config import Settings
from indikera.context import AppContext
from indikera.publish.visibility import PUBLIC, visible_measurements
from indikera.store.access_tables import audit_log
from indikera.store.tables import measurements

from .support.server import running

TOKEN = "tok-anna-7f3a9c2e51"
OTHER_TOKEN = "tok-bertil-0d4b8e"
API = "/admin/api/v1"


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_template):
    import shutil

    path = tmp_path_factory.mktemp("admin") / "demo.db"
    shutil.copy(demo_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", admin_tokens=(f"anna:{TOKEN}", f"bertil:{OTHER_TOKEN}"))
    ctx = AppContext.from_settings(settings)
    with running(create_app(ctx=ctx)) as base:
        yield base, ctx
    ctx.engine.dispose()


@pytest.fixture
def client(server):
    base, _ = server
    with httpx.Client(base_url=base + API, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c:
        yield c


def audit_rows(ctx):
    with ctx.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(audit_log).where(audit_log.c.channel == "admin").order_by(audit_log.c.id))]


def public_count(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(measurements).where(visible_measurements(conn, PUBLIC))).scalar_one()


def test_every_call_needs_an_admin_and_refusals_are_audited(server):
    base, ctx = server
    before = len(audit_rows(ctx))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer " + TOKEN[:-1]}):
        r = httpx.get(f"{base}{API}/indicators", headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "ADMIN_REQUIRED"
    r = httpx.put(f"{base}{API}/indicators/10016/publication", json={"level": "open", "reason": "utan token"})
    assert r.status_code == 401
    rows = audit_rows(ctx)[before:]
    assert len(rows) == 5 and {row["outcome"] for row in rows} == {"denied"}
    assert public_count(ctx) > 0 and all(TOKEN not in json.dumps(row, default=str) for row in audit_rows(ctx))


def test_list_show_and_audit_of_reads(server, client):
    _, ctx = server
    before = len(audit_rows(ctx))
    listed = client.get("/indicators").json()
    assert len(listed) == len(demo.INDICATORS)
    states = {x["measureId"]: x["state"] for x in listed}
    assert states["10015"] == "restricted" and states["10016"] == "unpublished" and states["10001"] == "open"
    shown = client.get("/indicators/10001").json()
    assert shown["description"]["texts"]["coverage"] and shown["findings"] == [] and shown["versions"][0]["version"] == "1.0"
    assert client.get("/indicators/99999").status_code == 404
    rows = audit_rows(ctx)[before:]
    assert [(r["operation"], r["outcome"], r["actor"]) for r in rows] == [
        (f"GET {API}/indicators", "ok", "token:anna"),
        (f"GET {API}/indicators/{{measure_id}}", "ok", "token:anna"),
        (f"GET {API}/indicators/{{measure_id}}", "http-404", "token:anna"),
    ]
    assert rows[1]["requested"] == {"measure_id": "10001"}


def test_publication_changes_through_the_api(server, client):
    _, ctx = server
    r = client.put("/indicators/10016/publication", json={"level": "open", "reason": "Täckningen är utredd"})
    assert r.status_code == 200 and r.json() == {"changed": True, "before": "unpublished", "after": "open", "action": "publish"}
    r = client.put("/indicators/10016/publication", json={"level": "unpublished", "reason": "Dölj 2021",
                                                          "periodStart": "2021-01-01", "periodEnd": "2021-12-31"})
    assert r.status_code == 200 and r.json()["after"] == "unpublished"
    assert client.put("/indicators/10016/publication", json={"level": "open", "reason": "x", "periodStart": "2021-01-01"}).status_code == 422
    before = public_count(ctx)
    r = client.post("/indicators/10016/depublish", json={"reason": "Fel i data"})
    assert r.json()["after"] == "depublished" and public_count(ctx) < before
    log = client.get("/log", params={"measureId": "10016", "limit": 5}).json()
    assert [(e["actor"], e["action"], e["reason"]) for e in log][:1] == [("token:anna", "depublish", "Fel i data")]


def test_batches_approve_and_depublish(server, client):
    _, ctx = server
    batches = client.get("/batches").json()
    assert batches[0]["status"] == "approved"
    bid = batches[0]["id"]
    assert client.post(f"/batches/{bid}/approve").json()["changed"] is False
    assert client.post(f"/batches/{bid}/depublish", json={}).status_code == 422  # a reason is required
    r = client.post(f"/batches/{bid}/depublish", json={"reason": "Fel fil"})
    assert r.json() == {"changed": True, "before": "approved", "after": "depublished", "action": "depublish-batch"}
    assert public_count(ctx) == 0
    r = client.post(f"/batches/{bid}/approve", json={"reason": "Rätt fil"})
    assert r.json()["after"] == "approved" and public_count(ctx) > 0
    assert client.post("/batches/4711/approve").status_code == 404


def test_catalogue_validate_import_export(server, client):
    exported = client.get("/catalogue")
    assert exported.status_code == 200 and len(exported.json()["indicators"]) == len(demo.INDICATORS)
    d = description_for(demo.INDICATORS[0].indicator)
    newer = replace(d, version_minor=1, purpose=d.purpose + " Förtydligad.")
    bad = replace(newer, texts={**newer.texts, "coverage": "TODO"})
    r = client.post("/catalogue/validate", content=jsonformat.dumps([bad]), headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["ok"] is False
    assert [(f["code"], f["field"]) for f in r.json()["findings"]] == [("TEXT_PLACEHOLDER", "indicators[0].texts.coverage")]
    r = client.post("/catalogue", content=jsonformat.dumps([bad]))
    assert r.status_code == 422 and r.json()["added"] == [] and r.json()["code"] == "CATALOGUE_INVALID"
    assert r.headers["content-type"] == "application/problem+json" and r.json()["findings"][0]["code"] == "TEXT_PLACEHOLDER"
    r = client.post("/catalogue", content=jsonformat.dumps([newer]))
    assert r.status_code == 200 and r.json()["added"] == ["10001 1.1"]
    assert client.get("/indicators/10001").json()["descriptionVersion"] == "1.0"  # 1.1 is a draft until reviewed
    assert client.get("/catalogue/schema").json()["$defs"]["description"]["required"][0] == "measureId"


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("PUT", "/indicators/10001/publication", {"level": "secret", "reason": "x"}, 422),
        ("PUT", "/indicators/10001/publication", {"level": "open", "reason": "x", "admin": True}, 422),
        ("PUT", "/indicators/10001/publication", {"level": "open", "reason": "x" * 2001}, 422),
        ("PUT", "/indicators/10001/publication", {"level": "open", "reason": ""}, 422),
        ("PUT", "/indicators/10001/publication", {"level": "open", "reason": "ok", "periodStart": "2024-13-01", "periodEnd": "2024-12-31"}, 422),
        ("PUT", "/indicators/10001/publication", [1, 2], 422),
        ("PUT", "/indicators/'%20OR%201=1/publication", {"level": "open", "reason": "x"}, 422),
        ("POST", "/batches/-1/approve", None, 422),
        ("POST", "/batches/abc/approve", None, 422),
        ("POST", "/batches/99999999999999999999999/approve", None, 422),
        ("GET", "/log?limit=0", None, 422),
        ("GET", "/log?measureId=<script>", None, 422),
    ],
)
def test_hostile_requests_get_clear_json_errors(client, method, path, body, status):
    r = client.request(method, path, json=body)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json" and r.json()["detail"] and r.json()["detail_en"]
    assert "Traceback" not in r.text


def test_bodies_are_size_limited_and_must_be_json(client):
    r = client.put("/indicators/10001/publication", content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "TOO_LARGE" and r.json()["detail_en"] == "The request exceeds 64000 bytes."
    r = client.put("/indicators/10001/publication", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post("/catalogue/validate", content=b"\xff\xfe garbage")
    assert r.status_code == 200 and r.json()["findings"][0]["code"] == "FORMAT_JSON"
    big = b'{"format": "indikera-catalogue/1", "indicators": [' + b" " * (jsonformat.MAX_BYTES + 10) + b"]}"
    r = client.post("/catalogue", content=big)
    assert r.status_code == 413


def test_openapi_describes_the_api_and_its_authentication(server):
    base, _ = server
    doc = httpx.get(f"{base}{API}/openapi.json").json()
    assert doc["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    assert {"/indicators", "/indicators/{measure_id}/publication", "/batches/{batch_id}/approve", "/catalogue"} <= set(doc["paths"])
    assert httpx.get(f"{base}{API}/docs").status_code == 404  # no CDN-loaded UI on the admin surface

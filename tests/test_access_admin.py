"""Admin authentication (tokens and admin certificates) on a real server; every refusal is audited."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select

from indikera.access.tls_protocol import TLSPeerProtocol
from indikera.store import db as store_db
from indikera.store.access_tables import agreements, audit_log

from .support.access import ADMIN, CONSUMER, PLATFORM, SeedMeasurement, app_for, client_context, make_access_pki, seed_registry, tls_server
from .support.server import running

TOKEN = "s3cret-Admin-Token-7f9c2e"
BODY = {"consumer_hsa_id": "SE2321000016-VIS1", "reference": "CPUA-1", "measure_ids": ["20001"], "valid_from": "2026-01-01"}


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    store_db.upgrade(url)
    eng = store_db.make_engine(url)
    seed_registry(eng, indicator_ids=["20001"], batch_statuses=["approved"], rows=[SeedMeasurement("20001", "2024-01-01", "2024-12-31", 0, 5, 50)],
                  rules=[("20001", None, None, "restricted")], agreement_rows=[])
    eng.dispose()
    return url


@pytest.fixture
def http_app(db):
    app, ctx = app_for(db, admin_tokens=(f"anna:{TOKEN}", "malformed-entry-without-colon"))
    with running(app, http=TLSPeerProtocol) as url:
        yield url, ctx
    ctx.engine.dispose()


def _audit(ctx) -> list:
    with ctx.engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.id)).all()


def test_token_admin_adds_and_ends_an_agreement_and_is_recorded_by_name(http_app, caplog):
    caplog.set_level(logging.DEBUG)
    url, ctx = http_app
    auth = {"Authorization": f"Bearer {TOKEN}"}
    made = httpx.post(f"{url}/admin/api/v1/agreements", json=BODY, headers=auth)
    assert made.status_code == 201, made.text
    (agreement,) = made.json()
    assert (agreement["measure_id"], agreement["created_by"], agreement["status"]) == ("20001", "token:anna", "gällande")
    listed = httpx.get(f"{url}/admin/api/v1/agreements", headers=auth).json()
    assert [a["id"] for a in listed] == [agreement["id"]]
    ended = httpx.post(f"{url}/admin/api/v1/agreements/{agreement['id']}/end", json={"reason": "uppsagt"}, headers=auth)
    assert ended.status_code == 200 and ended.json()["ended_by"] == "token:anna"
    again = httpx.post(f"{url}/admin/api/v1/agreements/{agreement['id']}/end", json={}, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "AGREEMENT_ENDED"
    missing = httpx.post(f"{url}/admin/api/v1/agreements/999/end", json={}, headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "AGREEMENT_NOT_FOUND"
    assert missing.json()["detail"] == "Avtal 999 finns inte." and missing.json()["detail_en"] == "Agreement 999 does not exist."
    rows = _audit(ctx)
    assert [(r.operation, r.outcome, r.actor) for r in rows if r.operation.startswith("agreement.")] == [
        ("agreement.add", "ok", "token:anna"),
        ("agreement.end", "ok", "token:anna"),
        ("agreement.end", "rejected", "token:anna"),
        ("agreement.end", "rejected", "token:anna"),
    ]
    # the admin API also audits every HTTP call, with its outcome
    assert [(r.operation, r.outcome) for r in rows if not r.operation.startswith("agreement.")] == [
        ("POST /admin/api/v1/agreements", "ok"),
        ("GET /admin/api/v1/agreements", "ok"),
        ("POST /admin/api/v1/agreements/{agreement_id}/end", "ok"),
        ("POST /admin/api/v1/agreements/{agreement_id}/end", "http-409"),
        ("POST /admin/api/v1/agreements/{agreement_id}/end", "http-404"),
    ]
    everything = " ".join(str(tuple(r)) for r in rows) + caplog.text
    assert TOKEN not in everything  # the secret is in no audit row and no log line


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "no admin token or admin certificate"),
        ({"Authorization": "Bearer wrong-token"}, "unknown admin token"),
        ({"Authorization": f"Basic {TOKEN}"}, "no admin token"),
        ({"Authorization": "Bearer malformed-entry-without-colon"}, "unknown admin token"),
    ],
)
def test_writes_without_a_valid_admin_are_refused_and_audited(http_app, headers, why):
    url, ctx = http_app
    response = httpx.post(f"{url}/admin/api/v1/agreements", json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "ADMIN_REQUIRED" and "Administratörsbehörighet krävs" in problem["detail"]
    assert "Admin authentication required" in problem["detail_en"] and why not in response.text  # the reason stays in the audit log
    (row,) = _audit(ctx)
    assert (row.channel, row.outcome, row.operation) == ("admin", "denied", "POST /admin/api/v1/agreements")
    assert why in row.detail and TOKEN not in row.detail and "wrong-token" not in row.detail
    with ctx.engine.connect() as conn:
        assert conn.execute(select(agreements)).all() == []


def test_bad_agreement_over_the_api_is_a_422_with_the_swedish_reason(http_app):
    url, ctx = http_app
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{url}/admin/api/v1/agreements", json={**BODY, "measure_ids": ["nope"]}, headers=auth)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "AGREEMENT_UNKNOWN_MEASURES"
    assert r.json()["detail"] == "Okända indikatorer (KIK-id): nope." and r.json()["detail_en"] == "Unknown indicators (KIK measure ids): nope."
    r = httpx.post(f"{url}/admin/api/v1/agreements", json={**BODY, "valid_from": "not a date"}, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "INVALID_REQUEST"
    assert [(x.operation, x.outcome) for x in _audit(ctx) if x.operation.startswith("agreement.")] == [("agreement.add", "rejected")]


def test_audit_is_readable_by_admins_only(http_app):
    url, ctx = http_app
    assert httpx.get(f"{url}/admin/api/v1/audit").status_code == 401
    rows = httpx.get(f"{url}/admin/api/v1/audit", params={"outcome": "denied"}, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [(r["operation"], r["outcome"]) for r in rows] == [("GET /admin/api/v1/audit", "denied")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_access_pki(tmp_path_factory.mktemp("admin-pki"))


def test_admin_certificate_is_an_admin_and_a_platform_cannot_make_one(db, pki):
    app, ctx = app_for(db, admin_hsa_ids=(ADMIN.lower(),), trusted_platform_hsa_ids=(PLATFORM,))
    with tls_server(app, pki) as url:
        base = url.replace("127.0.0.1", "localhost")

        def post(stem: str, headers: dict | None = None) -> httpx.Response:
            with httpx.Client(verify=client_context(pki, stem), base_url=base) as client:
                return client.post("/admin/api/v1/agreements", json=BODY, headers=headers or {})

        assert post("admin").status_code == 201
        assert post("consumer").status_code == 401
        assert post("platform", {"x-rivta-original-serviceconsumer-hsaid": ADMIN}).status_code == 401
    rows = _audit(ctx)
    ctx.engine.dispose()
    rows = [r for r in rows if r.operation == "agreement.add" or r.outcome == "denied"]  # not the HTTP call's own row
    assert [(r.outcome, r.actor or r.detail) for r in rows] == [
        ("ok", f"certificate:{ADMIN}"),
        ("denied", f"certificate {CONSUMER} is not an admin"),
        ("denied", "calls through a platform cannot administer"),
    ]
    assert rows[2].platform_id == PLATFORM and rows[2].consumer_hsa_id == ADMIN

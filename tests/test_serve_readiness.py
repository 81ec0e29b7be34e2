"""``/health``: liveness and readiness of one serving process (issue #19): which worker, the primary and the
read replica reachable and migrated; not ready is 503 problem+json, so a load balancer takes it out."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext

PROBLEM = "application/problem+json"
NO_SERVER = "postgresql+psycopg://postgres@127.0.0.1:1/indikera"  # nothing listens on port 1


def _health(settings: Settings):
    ctx = AppContext.from_settings(settings)
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            return client.get("/health")
    finally:
        ctx.dispose()


def test_ready_names_the_worker_and_both_databases(db_url):
    r = _health(Settings(database_url=db_url))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert (body["status"], body["database"], body["read_database"], body["pid"]) == ("ok", "ok", "not-configured", os.getpid())


def test_ready_with_a_read_replica(db_url):
    r = _health(Settings(database_url=db_url, database_read_url=db_url))
    assert r.status_code == 200 and r.json()["read_database"] == "ok"


def test_not_migrated_is_503_problem(tmp_path):
    r = _health(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert (body["status"], body["code"], body["readiness"], body["database"]) == (503, "NOT_READY", "migrations-pending", "migrations-pending")
    assert body["detail"].startswith("Tjänsten är inte redo") and body["detail_en"].startswith("The service is not ready")
    assert body["pid"] == os.getpid() and r.headers["retry-after"] == "5"


def test_unreachable_database_is_503_problem():
    r = _health(Settings(database_url=NO_SERVER))
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert (r.json()["readiness"], r.json()["database"]) == ("unavailable", "OperationalError")


@pytest.mark.parametrize("read_url", [NO_SERVER, "sqlite:///{tmp}/not-a-replica.db"])
def test_a_wrong_read_url_makes_the_process_not_ready(db_url, tmp_path, read_url):
    """Answers are read from the replica: one that cannot be reached (or holds no migrated database) would
    fail every request, so the process must leave the load balancer's rotation."""
    r = _health(Settings(database_url=db_url, database_read_url=read_url.format(tmp=tmp_path)))
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["database"] == "ok" and body["read_database"] in ("OperationalError", "migrations-pending")


def test_the_read_url_is_redacted_like_the_primary():
    s = Settings(database_url="postgresql+psycopg://app:hemligt@db1/x", database_read_url="postgresql+psycopg://app:hemligt@db2/x")
    assert "hemligt" not in repr(s)


def test_a_schema_newer_than_this_code_stays_ready_for_a_rolling_upgrade(tmp_path, migrated_sqlite):
    """During a rolling upgrade the database is migrated first; processes of the previous release must not all
    leave the load balancer at once. A revision this code does not know is newer: ready, and said so."""
    import shutil

    from sqlalchemy import text

    from indikera.store.db import make_engine

    path = shutil.copy(migrated_sqlite, tmp_path / "newer.db")
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe0099'"))
    engine.dispose()
    r = _health(Settings(database_url=f"sqlite:///{path}"))
    assert r.status_code == 200 and (r.json()["status"], r.json()["database"]) == ("ok", "schema-newer")

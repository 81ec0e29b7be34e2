"""Admin tokens that expire and rotate (issue #14): ``indikera admin token create|list|revoke``, stored hashed
(migration 0007), on SQLite and PostgreSQL; the ``admin_tokens`` setting still works as the bootstrap path."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient
from typer.testing import CliRunner

from indikera.access import admin_tokens
from indikera.app import create_app
from indikera.cli import app as cli_app
from indikera.config import Settings
from indikera.store import db as store_db
from indikera.store.access_tables import admin_tokens as tokens_table
from indikera.store.access_tables import audit_log
from indikera.store.repositories import utcnow

runner = CliRunner()
BOOTSTRAP = "bootstrap-token-8d21c7e4aa"
URL = "/admin/api/v1/indicators"


def cli(*args: str):
    return runner.invoke(cli_app, list(args))


def _create(db_url: str, name: str, expires: str = "30d") -> str:
    result = cli("admin", "token", "create", "--name", name, "--expires", expires, "--by", "anna", "--db", db_url)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith(admin_tokens.PREFIX) and len(token) > 40
    return token


@pytest.fixture
def client(db_url):
    app = create_app(Settings(database_url=db_url, admin_tokens=(f"boot:{BOOTSTRAP}",)))
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


def _call(client: TestClient, token: str):
    return client.get(URL, headers={"Authorization": f"Bearer {token}"})


def _audit(db_url: str) -> list[dict]:
    eng = store_db.make_engine(db_url)
    try:
        with eng.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]
    finally:
        eng.dispose()


def test_create_use_rotate_and_revoke(db_url: str, client: TestClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    old = _create(db_url, "deploy-2025")
    r = _call(client, old)
    assert r.status_code == 200, r.text
    # Rotation: a new token under a new name, then the old one revoked; the new one keeps working.
    new = _create(db_url, "deploy-2026")
    revoked = cli("admin", "token", "revoke", "deploy-2025", "--by", "anna", "--db", db_url)
    assert revoked.exit_code == 0, revoked.output
    r = _call(client, old)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert _call(client, new).status_code == 200
    assert _call(client, BOOTSTRAP).status_code == 200  # the setting's tokens: the bootstrap path

    listed = [json.loads(line) for line in cli("admin", "token", "list", "--json", "--db", db_url).stdout.splitlines()]
    assert [(t["name"], t["status"]) for t in listed] == [("deploy-2025", "revoked"), ("deploy-2026", "active")]

    rows = _audit(db_url)
    admin_rows = [(r["outcome"], r["actor"], r["detail"]) for r in rows if r["channel"] == "admin"]
    assert ("ok", "token:deploy-2025", None) in admin_rows and ("ok", "token:deploy-2026", None) in admin_rows
    assert ("ok", "token:boot", None) in admin_rows
    denied = [r for r in rows if r["channel"] == "admin" and r["outcome"] == "denied"]
    assert len(denied) == 1 and "deploy-2025" in denied[0]["detail"] and "revoked" in denied[0]["detail"]
    cli_ops = [(r["operation"], r["outcome"]) for r in rows if r["channel"] == "cli"]
    assert cli_ops == [("admin.token.create", "ok"), ("admin.token.create", "ok"), ("admin.token.revoke", "ok")]

    # Never stored, audited or logged: only the SHA-256 is kept.
    everything = json.dumps(rows, default=str) + caplog.text + json.dumps(listed)
    assert old not in everything and new not in everything and BOOTSTRAP not in everything
    eng = store_db.make_engine(db_url)
    try:
        with eng.connect() as conn:
            stored = conn.execute(select(tokens_table.c.token_sha256)).scalars().all()
    finally:
        eng.dispose()
    assert sorted(stored) == sorted([admin_tokens.digest(old), admin_tokens.digest(new)])


def test_an_expired_token_is_refused(db_url: str, client: TestClient) -> None:
    token = _create(db_url, "short", "1h")
    assert _call(client, token).status_code == 200
    eng = store_db.make_engine(db_url)
    try:
        with eng.begin() as conn:
            conn.execute(update(tokens_table).values(expires_at=utcnow() - timedelta(seconds=1)))
    finally:
        eng.dispose()
    r = _call(client, token)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 401 and "short" not in r.text  # the reason stays in the audit log
    denied = [r for r in _audit(db_url) if r["outcome"] == "denied"]
    assert denied and "'short' is expired" in denied[-1]["detail"]
    assert _call(client, token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 401


def test_bad_input_is_refused_clearly(db_url: str) -> None:
    _create(db_url, "taken")
    for args, needle in ((("--name", "taken", "--expires", "30d"), "taken"),
                         (("--name", "bad name!", "--expires", "30d"), "tokennamn"),
                         (("--name", "past", "--expires", "2001-01-01"), "passerat"),
                         (("--name", "soon", "--expires", "tomorrow"), "tidpunkt")):
        result = cli("admin", "token", "create", *args, "--db", db_url)
        assert result.exit_code != 0 and needle in result.output, (args, result.output)
    result = cli("admin", "token", "revoke", "nobody", "--db", db_url)
    assert result.exit_code == 1 and "nobody" in result.output


def test_migration_0007_goes_down_and_up(db_url: str) -> None:
    _create(db_url, "kept-until-downgrade")
    store_db.downgrade(db_url, "0006")
    eng = store_db.make_engine(db_url)
    try:
        from sqlalchemy import inspect

        assert "admin_tokens" not in inspect(eng).get_table_names()
        store_db.upgrade(db_url)
        assert "admin_tokens" in inspect(eng).get_table_names()
        assert store_db.is_up_to_date(eng)
    finally:
        eng.dispose()

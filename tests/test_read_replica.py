"""``database_read_url`` (issue #19): answers (SOAP, open data, pages) read from the replica, with the data
version read there too; writes, admin and the audit go to the primary."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.domain.checksum import EMPTY_CHECKSUM
from indikera.store.access_tables import audit_log

from .support import soap_client as soap

TOKEN = "replica-test-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _state(client: TestClient) -> tuple[int, str, int]:
    """(open-data status of 10001, its SOAP checksum, the start page's status): three readers of answers."""
    checksum = soap.answer(soap.post(client, soap.request(ids=("10001",), include=False))).checksum
    return client.get("/api/v1/indicators/10001").status_code, checksum, client.get("/indikatorer/10001").status_code


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: seen.append(statement))
    return seen


def test_answers_follow_a_lagging_replica_consistently_and_catch_up(demo_url, tmp_path):
    """The replica is a copy of the primary that has not yet received a change: answers keep showing the
    replica's state, consistent with itself (checksum, open data and page agree), until replication brings
    the change; the admin write and the SOAP audit rows land on the primary."""
    primary = demo_url.removeprefix("sqlite:///")
    replica = str(tmp_path / "replica.db")
    shutil.copy(primary, replica)
    ctx = AppContext.from_settings(Settings(database_url=demo_url, database_read_url=f"sqlite:///{replica}",
                                            admin_tokens=(f"test:{TOKEN}",)))
    reads, writes = _statements(ctx.read_engine), _statements(ctx.engine)
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            before = _state(client)
            assert before[0] == 200 and before[1] != EMPTY_CHECKSUM and before[2] == 200
            assert any("measurements" in s for s in reads)

            r = client.put("/admin/api/v1/indicators/10001/publication", json={"level": "unpublished", "reason": "replikatest"}, headers=ADMIN)
            assert r.status_code == 200, r.text
            assert any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in writes)
            assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in reads)
            assert _state(client) == before  # the replica has not seen the change: the old state, whole

            with sqlite3.connect(primary) as src, sqlite3.connect(replica) as dst:  # replication catches up
                src.backup(dst)
            assert _state(client) == (404, EMPTY_CHECKSUM, 404)
        with ctx.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.channel == "soap")).scalar_one() >= 3
    finally:
        ctx.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("demo_db_url", ["postgresql"], indirect=True)
def test_postgresql_primary_and_replica_urls_on_one_database(demo_db_url):
    """The same PostgreSQL database as primary and "replica" (two URLs, told apart by application_name):
    answers are read over the replica's connections, a write through the primary is seen at once."""
    read_url = f"{demo_db_url}?application_name=indikera_read"
    ctx = AppContext.from_settings(Settings(database_url=demo_db_url, database_read_url=read_url, admin_tokens=(f"test:{TOKEN}",)))
    reads = _statements(ctx.read_engine)
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            health = client.get("/health").json()
            assert (health["database"], health["read_database"]) == ("ok", "ok")
            before = _state(client)
            assert before[0] == 200 and before[1] != EMPTY_CHECKSUM
            assert any("measurements" in s for s in reads)
            with ctx.engine.connect() as conn:
                names = conn.execute(text("SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")).scalars().all()
            assert "indikera_read" in names
            r = client.put("/admin/api/v1/indicators/10001/publication", json={"level": "unpublished", "reason": "replikatest"}, headers=ADMIN)
            assert r.status_code == 200, r.text
            assert _state(client) == (404, EMPTY_CHECKSUM, 404)
    finally:
        ctx.dispose()

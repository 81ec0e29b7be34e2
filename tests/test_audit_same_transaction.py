"""A change and the audit row that records it are one transaction: when the audit insert fails, the change
is rolled back too (SQLite and PostgreSQL). The failure is real: a database trigger refuses audit rows of
one actor, so every other write (and every other actor's audit row) works as usual."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from indikera import demo
from indikera.access import agreements
from indikera.app import create_app
from indikera.catalog import jsonformat
from indikera.catalog.demo_descriptions import description_for
from indikera.cli import app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.store import db as store_db
from indikera.store.access_tables import agreements as agreements_table
from indikera.store.access_tables import audit_log
from indikera.store.catalog_tables import indicator_descriptions

from .support.server import running

BROKEN = "audit-down"  # the actor whose audit rows the database refuses
runner = CliRunner()
GOOD_TOKEN, BROKEN_TOKEN = "tok-anna-5d1e0c", "tok-audit-down-9b2f"
API = "/admin/api/v1"


def _break_audit_for(engine, actor: str = BROKEN) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ "
                              "BEGIN RAISE EXCEPTION 'audit unavailable'; END $$ LANGUAGE plpgsql"))
            conn.execute(text(f"CREATE TRIGGER audit_down BEFORE INSERT ON audit_log FOR EACH ROW "
                              f"WHEN (NEW.actor = '{actor}') EXECUTE FUNCTION refuse_audit()"))
        else:
            conn.execute(text(f"CREATE TRIGGER audit_down BEFORE INSERT ON audit_log WHEN NEW.actor = '{actor}' "
                              "BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"))


@pytest.fixture
def broken(demo_db_url):
    """(url, engine) of a demo registry whose database refuses the audit rows of actor ``BROKEN``."""
    engine = store_db.make_engine(demo_db_url)
    _break_audit_for(engine)
    yield demo_db_url, engine
    engine.dispose()


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _state(url: str, measure_id: str) -> str:
    shown = runner.invoke(app, ["catalog", "show", measure_id, "--db", url, "--json"])
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)["state"]


def test_cli_publication_change_rolls_back_when_its_audit_fails(broken):
    url, engine = broken
    assert _state(url, "10016") == "unpublished"
    refused = runner.invoke(app, ["catalog", "publish", "10016", "--level", "open", "--reason", "Utredd", "--db", url, "--by", BROKEN])
    assert refused.exit_code != 0 and "audit unavailable" in str(refused.exception)
    assert _state(url, "10016") == "unpublished"  # the change did not outlive its failed audit row
    assert _count(engine, audit_log, audit_log.c.actor == BROKEN) == 0

    done = runner.invoke(app, ["catalog", "publish", "10016", "--level", "open", "--reason", "Utredd", "--db", url, "--by", "anna"])
    assert done.exit_code == 0, done.output  # the same change by an actor whose audit works goes through
    assert _state(url, "10016") == "open"
    assert _count(engine, audit_log, audit_log.c.actor == "anna", audit_log.c.operation == "catalog.publish") == 1


def test_cli_batch_depublication_rolls_back_when_its_audit_fails(broken):
    url, engine = broken
    refused = runner.invoke(app, ["import", "depublish", "1", "--reason", "Fel fil", "--db", url, "--by", BROKEN])
    assert refused.exit_code != 0 and "audit unavailable" in str(refused.exception)
    approve = runner.invoke(app, ["import", "approve", "1", "--db", url, "--by", "anna"])
    assert approve.exit_code == 0 and "Oförändrat" in approve.output  # still approved: nothing was de-published


def test_cli_catalogue_import_rolls_back_when_its_audit_fails(broken, tmp_path):
    url, engine = broken
    d = description_for(demo.INDICATORS[0].indicator)
    newer = tmp_path / "katalog.json"
    newer.write_text(jsonformat.dumps([replace(d, version_minor=d.version_minor + 1, purpose=d.purpose + " Förtydligad.")]),
                     encoding="utf-8")
    before = _count(engine, indicator_descriptions)
    refused = runner.invoke(app, ["catalog", "import", str(newer), "--db", url, "--by", BROKEN])
    assert refused.exit_code != 0 and "audit unavailable" in str(refused.exception)
    assert _count(engine, indicator_descriptions) == before
    done = runner.invoke(app, ["catalog", "import", str(newer), "--db", url, "--by", "anna"])
    assert done.exit_code == 0, done.output
    assert _count(engine, indicator_descriptions) == before + 1


def test_agreement_add_and_end_roll_back_when_their_audit_fails(broken):
    _, engine = broken
    before = _count(engine, agreements_table)
    with pytest.raises(Exception, match="audit unavailable"):
        agreements.add(engine, consumer="SE2321000000-VIS", reference="CPUA-1", measure_ids=None,
                       valid_from=date(2024, 1, 1), actor=BROKEN)
    assert _count(engine, agreements_table) == before
    (made,) = agreements.add(engine, consumer="SE2321000000-VIS", reference="CPUA-1", measure_ids=None,
                             valid_from=date(2024, 1, 1), actor="anna")
    with pytest.raises(Exception, match="audit unavailable"):
        agreements.end(engine, made.id, actor=BROKEN, reason="Avtalet löpte ut")
    assert _count(engine, agreements_table, agreements_table.c.ended_at.is_not(None)) == 0
    assert agreements.end(engine, made.id, actor="anna").ended_by == "anna"


def test_admin_api_changes_roll_back_when_their_audit_fails(demo_db_url):
    settings = Settings(database_url=demo_db_url, admin_tokens=(f"anna:{GOOD_TOKEN}", f"{BROKEN}:{BROKEN_TOKEN}"))
    ctx = AppContext.from_settings(settings)
    _break_audit_for(ctx.engine, f"token:{BROKEN}")
    d = description_for(demo.INDICATORS[0].indicator)
    newer = jsonformat.dumps([replace(d, version_minor=d.version_minor + 1, purpose=d.purpose + " Förtydligad.")])
    change = {"level": "open", "reason": "Utredd"}
    try:
        with running(create_app(ctx=ctx)) as base:
            # a failed call ends its connection (uvicorn closes it after an unhandled error): one per call
            broken = httpx.Client(base_url=base + API, headers={"Authorization": f"Bearer {BROKEN_TOKEN}", "Connection": "close"},
                                  timeout=30)
            good = httpx.Client(base_url=base + API, headers={"Authorization": f"Bearer {GOOD_TOKEN}"}, timeout=30)
            with broken, good:
                descriptions = _count(ctx.engine, indicator_descriptions)
                assert broken.put("/indicators/10016/publication", json=change).status_code == 500
                assert broken.post("/batches/1/depublish", json={"reason": "Fel fil"}).status_code == 500
                assert broken.post("/catalogue", content=newer).status_code == 500
                assert good.get("/indicators/10016").json()["state"] == "unpublished"  # nothing outlived its audit
                assert good.get("/batches").json()[0]["status"] == "approved"
                assert _count(ctx.engine, indicator_descriptions) == descriptions

                assert good.put("/indicators/10016/publication", json=change).json()["after"] == "open"
                assert good.post("/catalogue", content=newer).status_code == 200
        with ctx.engine.connect() as conn:
            rows = conn.execute(select(audit_log.c.operation, audit_log.c.outcome).where(audit_log.c.actor == "token:anna")
                                .order_by(audit_log.c.id)).all()
        # one row per call: a change's row comes from its transaction, and the middleware adds no second one
        assert [tuple(r) for r in rows] == [
            (f"GET {API}/indicators/{{measure_id}}", "ok"), (f"GET {API}/batches", "ok"),
            (f"PUT {API}/indicators/{{measure_id}}/publication", "ok"), (f"POST {API}/catalogue", "ok")]
    finally:
        ctx.engine.dispose()

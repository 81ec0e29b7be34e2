"""Issue #16, last defect: ``import results --by`` like every other command (``--actor`` a hidden alias), a
results import written to the audit log in the import's own transaction, and admin timestamps with a zone
(admin API and CLI JSON)."""

from __future__ import annotations

import json
import re
import shutil

import httpx
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from indikera.access import audit
from indikera.app import create_app
from indikera.cli import app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.ingest.export import write_csv
from indikera.store.access_tables import audit_log
from indikera.store.tables import batches, measurements

from .support.ingest_files import sample, seed_indicators
from .support.server import running

runner = CliRunner()
ZONED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
TOKEN = "tok-tidszon-4c1f9e"


def _results_rows(engine) -> list[dict]:
    return [r for r in audit.query(engine, audit.AuditFilter(channel="cli")) if r["operation"] == "import.results"]


@pytest.mark.parametrize("writer_process", [False, True], ids=["in-process", "writer-process"])
def test_import_results_takes_by_and_is_audited(engine, tmp_path, writer_process):
    seed_indicators(engine)
    path = tmp_path / "resultat.csv"
    write_csv(path, sample())
    env = {"INDIKERA_IMPORT_WRITER_PROCESS_MIN_ROWS": "0" if writer_process else "1000000"}
    res = runner.invoke(app, ["import", "results", str(path), "--db", str(engine.url), "--by", "anna"], env=env)
    assert res.exit_code == 0, res.output
    with engine.connect() as conn:
        batch = conn.execute(select(batches.c.id, batches.c.created_by)).one()
    assert batch.created_by == "anna"
    [row] = _results_rows(engine)
    assert (row["actor"], row["outcome"], row["returned"]) == ("anna", "ok", len(sample()))
    assert row["requested"] == {"batchId": batch.id, "file": "resultat.csv", "rows": len(sample())}


def test_actor_is_a_hidden_deprecated_alias_of_by(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    path = tmp_path / "resultat.csv"
    write_csv(path, sample())
    help_text = runner.invoke(app, ["import", "results", "--help"]).output
    assert "--by" in help_text and "--actor" not in help_text
    res = runner.invoke(app, ["import", "results", str(path), "--db", str(sqlite_engine.url), "--actor", "bertil"])
    assert res.exit_code == 0, res.output
    assert "--actor" in res.stderr and "--by" in res.stderr  # told to use --by
    assert [r["actor"] for r in _results_rows(sqlite_engine)] == ["bertil"]


def test_a_results_import_that_cannot_be_audited_is_not_committed(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    path = tmp_path / "resultat.csv"
    write_csv(path, sample())
    with sqlite_engine.begin() as conn:  # the database refuses this actor's audit rows, nothing else
        conn.execute(text("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log WHEN NEW.actor = 'audit-down' "
                          "BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"))
    res = runner.invoke(app, ["import", "results", str(path), "--db", str(sqlite_engine.url), "--by", "audit-down"])
    assert res.exit_code != 0
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(measurements)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(batches)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 0


def _stamps(value, key: str = "") -> list[tuple[str, str]]:
    """Every (key, value) whose key names a time (…At, …_at, at) anywhere in a JSON value."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _stamps(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _stamps(v, key)]
    if value is not None and (key == "at" or key.endswith("At") or key.endswith("_at")):
        return [(key, value)]
    return []


def test_admin_timestamps_carry_a_zone(demo_template, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    assert runner.invoke(app, ["catalog", "publish", "10016", "--level", "open", "--reason", "Granskad", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["agreements", "add", "--consumer", "SE2321000000-VIS", "--all-restricted",
                               "--reference", "CPUA-1", "--db", url]).exit_code == 0
    cli_json = [json.loads(runner.invoke(app, ["catalog", "show", "10016", "--db", url, "--json"]).stdout),
                json.loads(runner.invoke(app, ["catalog", "list", "--db", url, "--json"]).stdout)]
    settings = Settings(database_url=url, admin_tokens=(f"anna:{TOKEN}",))
    ctx = AppContext.from_settings(settings)
    try:
        with running(create_app(ctx=ctx)) as base, httpx.Client(base_url=base + "/admin/api/v1", timeout=30,
                                                                 headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            api_json = [c.get(p).json() for p in ("/indicators/10016", "/indicators", "/batches", "/log", "/agreements", "/audit")]
    finally:
        ctx.engine.dispose()
    stamps = _stamps(cli_json) + _stamps(api_json)
    keys = {k for k, _ in stamps}
    assert {"createdAt", "changedAt", "at", "created_at"} <= keys, keys
    # a calendar date (the catalogue's authoredAt, a day as the national catalogue gives it) has no time to zone
    assert [s for s in stamps if not ZONED.match(str(s[1])) and not DATE.match(str(s[1]))] == []
    assert all(not DATE.match(str(v)) for k, v in stamps if k != "authoredAt")  # everything else is a point in time

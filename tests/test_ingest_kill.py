"""All-or-nothing under failure: a process SIGKILLed mid-import leaves the database exactly as before, and
concurrent imports of one registry queue instead of interleaving (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from indikera.ingest.export import write_csv
from indikera.ingest.importer import IMPORT_LOCK_KEY
from indikera.store import db as store_db
from indikera.store.tables import batches, measurement_history, measurements

from .support.ingest_files import Y2024, many, organisations, prop, sample, seed_indicators, snapshot

pytestmark = pytest.mark.slow  # real processes, killed mid-import

ROOT = Path(__file__).resolve().parents[1]


def _start(path: Path, url: str, writer_min_rows: int = 0) -> subprocess.Popen:
    # writer_min_rows 0: the transaction lives in a database writer process (ingest/write_process.py).
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200", INDIKERA_IMPORT_WRITER_PROCESS_MIN_ROWS=str(writer_min_rows))
    return subprocess.Popen(
        [sys.executable, "-m", "indikera.cli", "import", "results", str(path), "--db", url, "--actor", "kill-test"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )


def _wait_for_write_phase(proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Skriver till databasen" in line:
            return
        assert time.monotonic() < deadline, "the import never reached its write phase"
    raise AssertionError(f"the import ended before writing: rc={proc.wait()}")


def _holds_write_lock(url: str) -> bool:
    """True while another process is inside its import transaction."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        con = sqlite3.connect(u.database, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            con.close()
    eng = create_engine(url)
    with eng.connect() as conn:
        n = conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :k "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"), {"k": IMPORT_LOCK_KEY}).scalar_one()
    eng.dispose()
    return n > 0


def _triggers(engine) -> list[tuple]:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).all()
        return conn.execute(text("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal "
                                 "ORDER BY tgname")).all()


def _import(engine, path: Path) -> None:
    from indikera.config import Settings
    from indikera.ingest.importer import apply, validate

    settings = Settings(database_url=str(engine.url))
    plan = validate(engine, path, settings)
    assert plan.ok
    apply(engine, plan, settings, actor="setup")
    plan.spool.close()


@pytest.mark.parametrize("writer_min_rows", [0, 10**9], ids=["writer-process", "local-writer"])
def test_sigkill_mid_import_changes_nothing(db_url, tmp_path, writer_min_rows):
    engine = store_db.make_engine(db_url)
    seed_indicators(engine)
    base = tmp_path / "base.csv"
    write_csv(base, sample())
    _import(engine, base)
    big = tmp_path / "big.csv"
    write_csv(big, sample() + many(4000))  # changes nothing of the base, adds 40 000 values
    before, triggers = snapshot(engine), _triggers(engine)
    proc = _start(big, db_url, writer_min_rows)
    _wait_for_write_phase(proc)
    for _ in range(200):  # kill inside the transaction, while it writes (SQLite: its per-row triggers dropped)
        if _holds_write_lock(db_url):
            break
        time.sleep(0.01)
    time.sleep(0.2)
    assert proc.poll() is None, "the import finished before it could be killed: make the file larger"
    assert _holds_write_lock(db_url), "the import should be inside its transaction"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    for _ in range(50):  # PostgreSQL ends the dead client's backend (and its lock) asynchronously
        if not _holds_write_lock(db_url):
            break
        time.sleep(0.1)
    assert snapshot(engine) == before
    assert _triggers(engine) == triggers  # the data-version triggers are back with the rollback
    # And the database is fully usable: a later import goes through.
    o = organisations()
    small = tmp_path / "small.csv"
    write_csv(small, [prop("10001", Y2024, o["u1"], 300, 500)])
    proc = _start(small, db_url)
    assert proc.wait(60) == 0, proc.stderr.read()
    with engine.connect() as conn:
        assert conn.execute(select(batches.c.id)).scalars().all() == [1, 2] or len(conn.execute(select(batches)).all()) == 2
    engine.dispose()


def test_concurrent_imports_of_one_registry_are_serialised(db_url, tmp_path):
    engine = store_db.make_engine(db_url)
    seed_indicators(engine)
    o = organisations()
    items = sample() + many(300)
    base = tmp_path / "base.csv"
    write_csv(base, items)
    _import(engine, base)
    x = prop("10001", Y2024, o["u1"], 111, 500)  # file A changes x
    y = prop("10001", Y2024, o["u2"], 222, 500)  # file B (made from the same base) changes y
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(a, [x if m.key == x.key else m for m in items])
    write_csv(b, [y if m.key == y.key else m for m in items])
    pa = _start(a, db_url)
    _wait_for_write_phase(pa)
    pb = _start(b, db_url)
    assert pa.wait(120) == 0 and pb.wait(120) == 0
    with engine.connect() as conn:
        rows = conn.execute(select(batches).order_by(batches.c.id)).all()
        assert [r.file_name for r in rows] == ["base.csv", "a.csv", "b.csv"]
        # B ran after A had committed, so B saw A's value of x and (holding the base value) changed it back.
        assert (rows[1].changed, rows[2].changed) == (1, 2)
        hist = conn.execute(select(measurement_history).where(measurement_history.c.batch_id == rows[2].id)).all()
        assert sorted(h.before["numerator"] for h in hist) == sorted([111.0, next(m for m in items if m.key == y.key).result.numerator])
        assert conn.execute(select(measurements.c.numerator).where(measurements.c.batch_id == rows[2].id)).scalars().all()
    engine.dispose()

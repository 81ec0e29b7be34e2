"""PostgreSQL imports skip the per-row foreign-key triggers for their COPYs and check every reference as a set
at the end (``ingest.deferred_checks``). What must hold: the result is exactly the per-row path's, a dangling
reference still rolls the import back, and the fast path is never taken where it would skip something else (a
DBA's own trigger) or is not allowed (a role without the right)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select, text

from indikera.config import Settings
from indikera.domain.errors import IndikeraError
from indikera.ingest import deferred_checks
from indikera.ingest.export import write_csv
from indikera.ingest.writes import MEASUREMENT_COLUMNS
from indikera.store import value_summaries
from indikera.store.bulk import insert_rows
from indikera.store.db import writer
from indikera.store.tables import data_version, measurement_history, measurements

from indikera.store import db as store_db

from .conftest import _pg_url, _truncate
from .support.ingest_files import import_file, many, seed_indicators, snapshot

pytestmark = pytest.mark.postgres

VOLATILE = {"audit_log", "data_version", "value_groups"}  # revisions and versions count statements


def _import(engine, path, set_based: bool) -> list[str]:
    seen: list[str] = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        import_file(engine, path, Settings(database_url=str(engine.url), import_set_based_checks=set_based,
                                           import_writer_process_min_rows=10**9))  # in this process: statements seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


@pytest.fixture
def engine():
    """The emptied PostgreSQL test database only: SQLite has no foreign-key triggers to defer."""
    eng = store_db.make_engine(_pg_url())
    _truncate(eng)
    yield eng
    eng.dispose()


def test_the_set_based_path_stores_exactly_what_the_per_row_path_stores(engine, tmp_path):
    path = tmp_path / "many.csv"
    write_csv(path, many(60))
    results = {}
    for set_based in (False, True):
        _truncate(engine)
        seed_indicators(engine)
        with engine.connect() as conn:
            version = conn.execute(select(data_version.c.version)).scalar_one()
        statements = _import(engine, path, set_based)
        assert any("session_replication_role = replica" in s for s in statements) is set_based
        with engine.connect() as conn:
            assert conn.execute(select(data_version.c.version)).scalar_one() > version  # caches see the import
            assert value_summaries.differences(conn) == []
        results[set_based] = {k: [tuple("<time>" if c.startswith("datetime.datetime") else c for c in row) for row in v]
                              for k, v in snapshot(engine).items() if k not in VOLATILE}
    assert results[True] == results[False]


def test_a_dangling_reference_is_caught_at_the_end(engine):
    seed_indicators(engine)
    with writer(engine).connect() as conn, conn.begin():
        floor = deferred_checks.id_floor(conn)
        iid = conn.execute(text("SELECT min(id) FROM indicators")).scalar_one()
        conn.execute(text("INSERT INTO batches (registry_hsa_id, file_name, sha256, format, created_by, created_at, status) "
                          "VALUES ('X', 'f', 's', 'csv', 't', now(), 'applied')"))
        bid = conn.execute(text("SELECT max(id) FROM batches")).scalar_one()
        row = dict.fromkeys(MEASUREMENT_COLUMNS)
        row.update(indicator_id=iid, version=1, period_start=date(2024, 1, 1), period_end=date(2024, 12, 31),
                   organisation_id=987654, stratum="", kind="cohort", cohort=5.0, source_system_id=987654,
                   batch_id=bid, content_hash="0" * 64, updated_at=func.now())
        row["updated_at"] = conn.execute(select(func.now())).scalar_one()
        with deferred_checks.unchecked(conn):
            insert_rows(conn, measurements.name, MEASUREMENT_COLUMNS, [tuple(row[c] for c in MEASUREMENT_COLUMNS)])
        with pytest.raises(IndikeraError) as caught:
            deferred_checks.check_new_rows(conn, floor, [iid])
        assert "1 rows of measurements" in str(caught.value)


def test_a_trigger_of_the_dba_turns_the_fast_path_off(engine, tmp_path):
    seed_indicators(engine)
    with writer(engine).begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS dba_seen (n bigint)"))
        conn.execute(text("CREATE OR REPLACE FUNCTION dba_count() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$ BEGIN INSERT INTO dba_seen VALUES (1); RETURN NULL; END $$"))
        conn.execute(text("CREATE TRIGGER dba_audit AFTER INSERT ON measurement_history FOR EACH ROW EXECUTE FUNCTION dba_count()"))
    try:
        with engine.connect() as conn:
            assert not deferred_checks.possible(conn)
        path = tmp_path / "m.csv"
        write_csv(path, many(5))
        statements = _import(engine, path, True)
        assert not any("session_replication_role = replica" in s for s in statements)
        with engine.connect() as conn:
            history = conn.execute(select(func.count()).select_from(measurement_history)).scalar_one()
            assert conn.execute(text("SELECT count(*) FROM dba_seen")).scalar_one() == history > 0
    finally:
        with writer(engine).begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS dba_audit ON measurement_history"))
            conn.execute(text("DROP TABLE IF EXISTS dba_seen"))


def test_a_role_without_the_right_keeps_the_per_row_checks(engine):
    with writer(engine).connect() as conn, conn.begin():
        conn.execute(text("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'indikera_plain') "
                          "THEN CREATE ROLE indikera_plain; END IF; END $$"))
        conn.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO indikera_plain"))
        conn.execute(text("SET LOCAL ROLE indikera_plain"))
        assert not deferred_checks.possible(conn)
        conn.rollback()

"""The bulk write path: stored hashes follow the one checksum algorithm, SQLite's per-row triggers are
suspended only inside the import's transaction (and the data version still moves), and history shows an
added value's after-image although it is stored only once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from indikera.cli import app
from indikera.config import Settings
from indikera.domain.checksum import content_hash
from indikera.ingest.export import write_csv
from indikera.ingest.history import changes
from indikera.ingest.importer import apply, validate
from indikera.store.db import writer
from indikera.store.repositories import load_organisations, measurement_from_row
from indikera.store.tables import data_version, indicators, measurements, source_systems
from indikera.domain.measurements import SourceSystem

from .support.ingest_files import Y2024, import_file, many, organisations, prop, sample, seed_indicators

runner = CliRunner()
# The transaction in the importer's own process, or in a database writer process (``write_process``).
WRITERS = pytest.mark.parametrize("writer_min_rows", [10**9, 0], ids=["local-writer", "writer-process"])


def _import(engine, path, **kw):
    return import_file(engine, path, Settings(database_url=str(engine.url), **kw))


def _triggers(conn) -> list[tuple]:
    if conn.dialect.name == "sqlite":
        return conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).all()
    return conn.execute(text("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")).all()


@pytest.mark.slow
@WRITERS
def test_stored_hashes_follow_the_domain_algorithm(engine, tmp_path, writer_min_rows):
    """Every stored content hash (masked values included) equals the domain's hash of the stored values."""
    seed_indicators(engine)
    bulk = many(40)
    small = bulk[0]
    bulk[0] = prop(small.measure_id, small.period, small.organisation, 1, 3)  # a small count: masked on import
    path = tmp_path / "f.csv"
    write_csv(path, sample() + bulk)
    out = _import(engine, path, import_writer_process_min_rows=writer_min_rows)
    assert out.masked_primary >= 1 and out.added > 400
    with engine.connect() as conn:
        orgs = load_organisations(conn)
        systems = {r.id: SourceSystem(r.root, r.extension, r.name) for r in conn.execute(select(source_systems))}
        mids = {r.id: r.measure_id for r in conn.execute(select(indicators.c.id, indicators.c.measure_id))}
        rows = conn.execute(select(measurements)).all()
    assert len(rows) == out.added
    assert any(r.reason_code == "MSK" for r in rows)
    for r in rows:
        m = measurement_from_row(r, measure_id=mids[r.indicator_id], organisation=orgs[r.organisation_id],
                                 source_system=systems[r.source_system_id])
        assert content_hash(m) == r.content_hash


@pytest.mark.slow
@WRITERS
def test_import_moves_the_data_version_and_keeps_the_triggers(engine, tmp_path, writer_min_rows):
    seed_indicators(engine)
    path = tmp_path / "f.csv"
    write_csv(path, sample())
    with engine.connect() as conn:
        triggers, v0 = _triggers(conn), conn.execute(select(data_version.c.version)).scalar_one()
    assert any("measurements" in str(t) for t in triggers)
    _import(engine, path, import_writer_process_min_rows=writer_min_rows)
    with engine.connect() as conn:
        assert _triggers(conn) == triggers
        v1 = conn.execute(select(data_version.c.version)).scalar_one()
    assert v1 > v0
    with writer(engine).begin() as conn:  # the restored triggers still see any other write
        conn.execute(text("UPDATE measurements SET coverage = 0.5 WHERE id = (SELECT min(id) FROM measurements)"))
    with engine.connect() as conn:
        assert conn.execute(select(data_version.c.version)).scalar_one() > v1


@pytest.mark.slow
@WRITERS
def test_a_failed_write_changes_nothing(engine, tmp_path, writer_min_rows):
    """The database refuses rows in the middle of the write (on PostgreSQL inside the background writer):
    the import fails with that error, the triggers dropped for it are back, nothing is stored, and the
    next import goes through."""
    seed_indicators(engine)
    path = tmp_path / "f.csv"
    write_csv(path, sample() + many(300))
    settings = Settings(database_url=str(engine.url), import_writer_process_min_rows=writer_min_rows)
    with engine.connect() as conn:
        triggers = _triggers(conn)
    with writer(engine).begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON measurement_history "
                              "WHEN NEW.organisation_id % 97 = 0 BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            conn.execute(text("CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              "IF NEW.organisation_id % 97 = 0 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$"))
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON measurement_history FOR EACH ROW EXECUTE FUNCTION refuse()"))
    plan = validate(engine, path, settings)
    assert plan.ok
    try:
        apply(engine, plan, settings, actor="tester")
    except Exception as exc:
        assert "refused" in str(exc)
    else:
        raise AssertionError("the import should have failed")
    finally:
        plan.spool.close()
    with engine.connect() as conn:
        assert [t for t in _triggers(conn) if t[0] != "refuse"] == triggers
        assert conn.execute(select(measurements.c.id)).first() is None
    with writer(engine).begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER refuse"))
        else:
            conn.execute(text("DROP TRIGGER refuse ON measurement_history"))
            conn.execute(text("DROP FUNCTION refuse()"))
    assert _import(engine, path).added == len(sample()) + 3000


def test_diff_shows_an_added_value_after_it_changed(engine, tmp_path, db_url):
    seed_indicators(engine)
    items = sample()
    first = tmp_path / "v1.csv"
    write_csv(first, items)
    b1 = _import(engine, first).batch_id
    o = organisations()
    target = prop("10001", Y2024, o["u1"], 300, 500)
    old = next(m for m in items if m.key == target.key)
    second = tmp_path / "v2.csv"
    write_csv(second, [target if m.key == target.key else m for m in items])
    b2 = _import(engine, second).batch_id
    with engine.connect() as conn:
        added = {(c.measure_id, c.period, c.organisation, c.stratum): c for c in changes(conn, b1)}
        changed = changes(conn, b2)
    assert len(added) == len(items) and all(c.operation == "added" and c.after for c in added.values())
    hit = [c for c in added.values() if c.measure_id == "10001" and c.period == "20240101–20241231"
           and o["u1"].key in c.organisation]
    assert len(hit) == 1  # batch 1 added the old value; the stored row now holds batch 2's
    assert (hit[0].after["numerator"], hit[0].after["denominator"]) == (old.result.numerator, old.result.denominator)
    assert hit[0].after["batch_id"] == b1
    assert [(c.operation, c.after["numerator"]) for c in changed] == [("changed", 300)]
    res = runner.invoke(app, ["import", "diff", str(b1), "--db", db_url])
    assert res.exit_code == 0 and f"{old.result.numerator:g}/{old.result.denominator:g}" in res.output
    # A third batch removes a value batch 1 added: batch 1's diff still shows what it added.
    gone = next(m for m in items if m.measure_id == "10008")
    third = tmp_path / "v3.csv"
    write_csv(third, [target if m.key == target.key else m for m in items if m.key != gone.key],
              directive=f"DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:{gone.source_system.extension}")
    assert _import(engine, third).removed == 1
    with engine.connect() as conn:
        again = {(c.measure_id, c.period, c.organisation, c.stratum): c for c in changes(conn, b1)}
    assert again.keys() == added.keys()
    removed = [c for c in again.values() if c.measure_id == "10008" and gone.organisation.key in c.organisation
               and c.period == f"{gone.period.start:%Y%m%d}–{gone.period.end:%Y%m%d}"]
    assert len(removed) == 1 and removed[0].after["cohort"] == gone.result.count and removed[0].after["batch_id"] == b1
    assert all(c.after for c in again.values())


def test_the_cli_reports_a_refused_write_without_a_traceback(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    path = tmp_path / "f.csv"
    write_csv(path, sample())
    with writer(sqlite_engine).begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON measurements BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    res = runner.invoke(app, ["import", "results", str(path), "--db", str(sqlite_engine.url), "--actor", "t"],
                        env={"INDIKERA_IMPORT_WRITER_PROCESS_MIN_ROWS": "0"})
    assert res.exit_code == 1, res.output
    assert "refused" in res.output and "Inget har skrivits" in res.output and "Traceback" not in res.output
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(measurements.c.id)).first() is None

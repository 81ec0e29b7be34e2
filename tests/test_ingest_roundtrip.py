"""Round trips per format, re-imports, revisions with history and diff, replace mode, the CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from indikera.cli import app
from indikera.domain.checksum import content_hash
from indikera.domain.measurements import Proportion
from indikera.ingest.export import write_csv, write_json, write_xlsx
from indikera.store.repositories import load_organisations, measurement_from_row
from indikera.store.tables import batches, indicators, measurement_history, measurements, source_systems

from .support.ingest_files import REG, Y2024, import_file, organisations, prop, sample, seed_indicators, snapshot

runner = CliRunner()


def _import(engine, path: Path, **kw):
    return import_file(engine, path, **kw)


def _stored(engine) -> dict:
    with engine.connect() as conn:
        orgs = load_organisations(conn)
        mids = dict(conn.execute(select(indicators.c.id, indicators.c.measure_id)).all())
        out = {}
        for r in conn.execute(select(measurements)):
            m = measurement_from_row(r, measure_id=mids[r.indicator_id], organisation=orgs[r.organisation_id], source_system=REG)
            assert r.content_hash == content_hash(m), "stored content hash must match the stored values"
            out[m.key] = m
        return out


WRITERS = {
    "csv-semicolon": (".csv", lambda p, ms: write_csv(p, ms)),
    "csv-comma": (".csv", lambda p, ms: write_csv(p, ms, delimiter=",")),
    "csv-bom": (".csv", lambda p, ms: write_csv(p, ms, encoding="utf-8-sig")),
    "csv-cp1252": (".csv", lambda p, ms: write_csv(p, ms, encoding="cp1252")),
    "xlsx": (".xlsx", lambda p, ms: write_xlsx(p, ms)),
    "json": (".json", lambda p, ms: write_json(p, ms, registry=(REG.extension, REG.name))),
}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_round_trip_sqlite(fmt, sqlite_engine, tmp_path):
    _round_trip(fmt, sqlite_engine, tmp_path)


@pytest.mark.parametrize("fmt", ["csv-semicolon", "xlsx", "json"])
def test_round_trip_both_databases(fmt, engine, tmp_path):
    _round_trip(fmt, engine, tmp_path)


def _round_trip(fmt, engine, tmp_path):
    seed_indicators(engine)
    suffix, write = WRITERS[fmt]
    items = sample()
    path = tmp_path / f"results{suffix}"
    write(path, items)
    out = _import(engine, path)
    assert (out.added, out.changed, out.removed, out.unchanged) == (len(items), 0, 0, 0)
    assert out.masked_primary == out.masked_secondary == 0
    stored = _stored(engine)
    assert stored == {m.key: m for m in items}
    with engine.connect() as conn:
        b = conn.execute(select(batches)).one()
        assert (b.status, b.added, b.file_name, b.created_by, len(b.sha256)) == ("applied", len(items), path.name, "tester", 64)
        assert conn.execute(select(func.count()).select_from(measurement_history)).scalar_one() == len(items)
    # The same file again changes nothing: no batch, no history, no row touched.
    before = snapshot(engine)
    again = _import(engine, path)
    assert again.batch_id is None and again.unchanged == len(items) and again.changes == 0
    assert snapshot(engine) == before


def test_revision_keeps_history_and_diff_shows_it(engine, tmp_path, db_url):
    seed_indicators(engine)
    items = sample()
    first = tmp_path / "v1.csv"
    write_csv(first, items)
    b1 = _import(engine, first).batch_id
    o = organisations()
    target = prop("10001", Y2024, o["u1"], 300, 500)
    revised = [target if m.key == target.key else m for m in items]
    old = next(m for m in items if m.key == target.key)
    second = tmp_path / "v2.csv"
    write_csv(second, revised)
    out = _import(engine, second)
    assert (out.added, out.changed, out.removed, out.unchanged) == (0, 1, 0, len(items) - 1)
    with engine.connect() as conn:
        h = conn.execute(select(measurement_history).where(measurement_history.c.batch_id == out.batch_id)).one()
        assert h.operation == "changed"
        assert (h.before["numerator"], h.before["denominator"]) == (old.result.numerator, old.result.denominator)
        assert (h.after["numerator"], h.after["denominator"]) == (300, 500)
        assert h.before["batch_id"] == b1 and h.after["batch_id"] == out.batch_id
        row = conn.execute(select(measurements).where(measurements.c.batch_id == out.batch_id)).one()
        assert row.numerator == 300
    res = runner.invoke(app, ["import", "diff", str(out.batch_id), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert "~ ändrad" in res.output and "numerator:" in res.output and "→ 300" in res.output
    assert "Strokeenheten KS" in res.output
    res = runner.invoke(app, ["import", "history", "--db", db_url])
    assert res.exit_code == 0 and "v1.csv" in res.output and "v2.csv" in res.output


def test_replace_directive_removes_what_the_file_no_longer_has(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    items = sample()
    write_csv(tmp_path / "all.csv", items)
    _import(sqlite_engine, tmp_path / "all.csv")
    fewer = [m for m in items if m.measure_id != "10008"]
    write_csv(tmp_path / "keep.csv", fewer, directive="KEEP_")
    out = _import(sqlite_engine, tmp_path / "keep.csv")
    assert out.batch_id is None and out.removed == 0  # KEEP_: nothing removed, nothing new
    write_csv(tmp_path / "replace.csv", fewer, directive=f"DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:{REG.extension}")
    out = _import(sqlite_engine, tmp_path / "replace.csv")
    assert out.removed == len(items) - len(fewer) and out.added == out.changed == 0
    assert set(_stored(sqlite_engine)) == {m.key for m in fewer}
    with sqlite_engine.connect() as conn:
        ops = conn.execute(select(measurement_history.c.operation).where(measurement_history.c.batch_id == out.batch_id)).scalars().all()
    assert ops == ["removed"] * len(ops) and len(ops) == out.removed


def test_dry_run_reports_counts_and_writes_nothing(engine, tmp_path):
    seed_indicators(engine)
    write_csv(tmp_path / "r.csv", sample())
    before = snapshot(engine)
    out = _import(engine, tmp_path / "r.csv", dry_run=True)
    assert out.dry_run and out.added == len(sample())
    assert snapshot(engine) == before


def test_rename_keeps_every_content_hash_exact(sqlite_engine, tmp_path):
    """A new hospital name in one file changes the answer of values the file does not touch, too."""
    seed_indicators(sqlite_engine)
    items = sample()
    write_csv(tmp_path / "a.csv", items)
    _import(sqlite_engine, tmp_path / "a.csv")
    o = organisations()
    renamed = dataclasses.replace(o["ks"], name="Karolinska (nytt namn)")
    unit = dataclasses.replace(o["u1"], parent=renamed)
    only = [prop("10001", Y2024, unit, 310, 500)]
    write_csv(tmp_path / "b.csv", only)
    out = _import(sqlite_engine, tmp_path / "b.csv")
    assert out.changed == 1 and out.renamed_organisations == 1
    _stored(sqlite_engine)  # asserts every stored content hash matches its values and current names


def test_cli_exit_codes(db_url, tmp_path):
    from indikera.store import db as store_db

    eng = store_db.make_engine(db_url)
    seed_indicators(eng)
    good = tmp_path / "good.csv"
    write_csv(good, sample())
    res = runner.invoke(app, ["import", "results", str(good), "--db", db_url, "--dry-run"])
    assert res.exit_code == 0 and "Provkörning" in res.output
    res = runner.invoke(app, ["import", "results", str(good), "--db", db_url, "--registry", "SE-OTHER"])
    assert res.exit_code == 1 and "SE-OTHER" in res.output and "Inget har skrivits" in res.output
    res = runner.invoke(app, ["import", "results", str(tmp_path / "missing.csv"), "--db", db_url])
    assert res.exit_code == 2
    res = runner.invoke(app, ["import", "results", "--db", db_url])
    assert res.exit_code == 2
    res = runner.invoke(app, ["import", "results", str(good), "--db", db_url, "--registry", REG.extension])
    assert res.exit_code == 0 and "Importomgång" in res.output
    res = runner.invoke(app, ["import", "results", str(good), "--db", db_url])
    assert res.exit_code == 0 and "Inga ändringar" in res.output
    res = runner.invoke(app, ["import", "diff", "999", "--db", db_url])
    assert res.exit_code == 1
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(batches)).scalar_one() == 1
        assert conn.execute(select(source_systems.c.name)).scalar_one() == REG.name
    eng.dispose()


def test_new_values_are_hidden_until_approved(sqlite_engine, tmp_path):
    from indikera.publish.visibility import PUBLIC, visible_measurements
    from indikera.store.catalog_tables import publication_rules
    from indikera.store.repositories import utcnow

    seed_indicators(sqlite_engine)
    write_csv(tmp_path / "r.csv", sample())
    _import(sqlite_engine, tmp_path / "r.csv")
    with sqlite_engine.begin() as conn:
        for iid in conn.execute(select(indicators.c.id)).scalars():
            conn.execute(publication_rules.insert().values(indicator_id=iid, level="open", changed_by="t", changed_at=utcnow(), reason="t"))
        seen = conn.execute(select(func.count()).select_from(measurements).where(visible_measurements(conn, PUBLIC))).scalar_one()
    assert seen == 0
    assert isinstance(sample()[0].result, Proportion)

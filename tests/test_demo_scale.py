"""``indikera demo --scale``: national-size synthetic data whose hashes, checksums and open data are right.

The generator writes rows by COPY with a hand-unrolled canonical text (for speed); these tests audit it
against the one implementation: every stored content hash recomputed from the stored values through the
domain, the SOAP checksum against ``ChecksumBuilder`` over those, and the open data's row count.
"""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from indikera import scale
from indikera.store import value_summaries
from indikera.app import create_app
from indikera.cli import app as cli_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.demo import SOURCE
from indikera.domain.checksum import ChecksumBuilder, content_hash
from indikera.store.repositories import load_organisations, measurement_from_row
from indikera.store.tables import batches, indicators, measurement_history, measurements

from .support import soap_client as sc

SHAPE = scale.Shape(indicators=2, units=20, periods=3)


def _audit(engine) -> dict[str, list[tuple]]:
    """Per measure id, (sort key, content hash recomputed by the domain) of every stored value; asserts
    each stored hash equals the recomputed one."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        orgs = load_organisations(conn)
        mids = dict(conn.execute(select(indicators.c.id, indicators.c.measure_id)).all())
        for r in conn.execute(select(measurements)):
            org = orgs[r.organisation_id]
            m = measurement_from_row(r, measure_id=mids[r.indicator_id], organisation=org, source_system=SOURCE)
            h = content_hash(m)
            assert h == r.content_hash, (mids[r.indicator_id], r.period_start, org.key)
            out.setdefault(m.measure_id, []).append(((m.period.start, m.period.end, org.key, m.stratum), h))
    return out


def test_scale_rows_have_exact_hashes_and_answer_with_the_right_checksum(engine):
    shape = scale.build(engine, SHAPE, processes=1)
    assert shape == SHAPE
    with engine.connect() as conn:
        # The load switched the summaries' triggers off (SQLite: suspended; PostgreSQL: the replica role) and
        # rebuilt them: the open data seals from them.
        assert value_summaries.differences(conn) == []
        assert conn.execute(select(func.count()).select_from(measurements)).scalar_one() == SHAPE.measurements
        # One "added" history row per value, as an import writes; the batch is approved and counts them.
        assert conn.execute(select(func.count()).select_from(measurement_history)).scalar_one() == SHAPE.measurements
        assert conn.execute(select(batches.c.status, batches.c.added)).one() == ("approved", SHAPE.measurements)
        kinds = set(conn.execute(select(measurements.c.kind).distinct()).scalars())
    assert kinds == {"proportion", "missing"}  # small units are masked
    audited = _audit(engine)
    client = TestClient(create_app(ctx=AppContext(Settings(database_url=str(engine.url)), engine)))
    first, last = scale.months(SHAPE.periods)[0][0], scale.months(SHAPE.periods)[-1][1]
    span = (first.strftime("%Y%m%d"), last.strftime("%Y%m%d"))
    for mid in (scale.measure_id(k) for k in range(SHAPE.indicators)):
        expected = ChecksumBuilder().extend(h for _, h in sorted(audited[mid])).hexdigest()
        full = sc.answer(sc.post(client, sc.request((mid,), *span, True)))
        only = sc.answer(sc.post(client, sc.request((mid,), *span, False)))
        assert len(full.measurements) == SHAPE.units * SHAPE.periods
        assert full.checksum == only.checksum == expected
        body = client.get(f"/api/v1/results?measureId={mid}&limit=10000").json()
        assert body["count"] == SHAPE.units * SHAPE.periods


def test_worker_processes_write_the_same_rows_as_one_process(sqlite_engine, tmp_path):
    """The parallel path (spawned workers, the production default) gives byte-identical content hashes."""
    scale.build(sqlite_engine, SHAPE, processes=2)
    parallel = _audit(sqlite_engine)
    serial_url = f"sqlite:///{tmp_path / 'serial.db'}"
    from indikera.store import db as store_db

    store_db.upgrade(serial_url)
    serial_engine = store_db.make_engine(serial_url)
    scale.build(serial_engine, SHAPE, processes=1)
    assert _audit(serial_engine) == parallel
    serial_engine.dispose()


def test_a_database_is_scaled_once(sqlite_engine):
    scale.build(sqlite_engine, scale.Shape(1, 2, 1), processes=1)
    try:
        scale.build(sqlite_engine, scale.Shape(1, 2, 1), processes=1)
    except RuntimeError as exc:
        assert "already" in str(exc)
    else:
        raise AssertionError("a second scale run must be refused")


def test_shape_for_national_size():
    assert scale.shape_for(10_000_000) == scale.Shape(100, 2000, 50)
    small = scale.shape_for(1200)
    assert 900 <= small.measurements <= 1500


def test_cli_help_names_scale():
    result = CliRunner().invoke(cli_app, ["demo", "--help"])
    assert result.exit_code == 0 and "--scale" in result.output


def test_postgresql_checks_every_reference_after_the_load(engine):
    """The per-row foreign-key triggers are skipped for the COPY; the set-based check afterwards must catch a
    dangling reference all the same."""
    import pytest

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's import path keeps its own checks")
    scale.build(engine, scale.Shape(1, 2, 1), processes=1)
    from indikera.store.db import writer

    with writer(engine).connect() as conn:
        with conn.begin():
            assert scale._skip_row_triggers(conn)  # the test database's user is a superuser
            conn.exec_driver_sql("UPDATE measurements SET organisation_id = 999999 WHERE id = (SELECT min(id) FROM measurements)")
            with pytest.raises(RuntimeError, match="does not exist"):
                scale._check_references(conn)
            conn.rollback()

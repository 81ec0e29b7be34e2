"""Disclosure control in the importer and at approval: canonical masks, refusal when a published total pins a
hidden value, the approval re-audit, and ``indikera import audit``."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from indikera.cli import app
from indikera.config import Settings
from indikera.domain.disclosure import DisclosureError
from indikera.domain.measurements import Measurement, Proportion
from indikera.domain.organisations import Organisation, OrgType, lan, riket
from indikera.ingest.batch_audit import audit_batch
from indikera.ingest.export import write_csv
from indikera.publish import control
from indikera.publish.states import PublishError
from indikera.store.db import writer
from indikera.store.tables import batches, indicators, measurements, organisations

from .support.ingest_files import REG, Y2024, import_file, seed_indicators

LN = lan("12", "Region Skåne", riket())
UNITS = [Organisation(OrgType.VARDENHET, f"Enhet {x}", hsa_id=f"SE1-E{x}", parent=LN) for x in "ABCD"]
VALUES = [(1, 4), (3, 6), (20, 40), (30, 61)]  # A is small; the län is the sum


def _rows():
    num, den = sum(v[0] for v in VALUES), sum(v[1] for v in VALUES)
    return [Measurement("10001", 1, Y2024, LN, Proportion(num, den), REG)] + [
        Measurement("10001", 1, Y2024, u, Proportion(*v), REG) for u, v in zip(UNITS, VALUES)]


def _masked(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(organisations.c.key).join(measurements, measurements.c.organisation_id == organisations.c.id)
                                .where(measurements.c.reason_code == "MSK")).scalars())


def test_row_order_and_format_give_the_same_mask(engine, tmp_path):
    seed_indicators(engine)
    write_csv(tmp_path / "a.csv", _rows())
    write_csv(tmp_path / "b.csv", _rows()[::-1])
    settings = Settings(database_url=str(engine.url))
    first = import_file(engine, tmp_path / "a.csv", settings)
    mask = _masked(engine)
    again = import_file(engine, tmp_path / "b.csv", settings)  # same cells, reverse order: nothing changes
    assert mask == {UNITS[0].key, UNITS[1].key} and _masked(engine) == mask
    assert (first.masked_primary, again.changes) == (1, 0)
    with engine.connect() as conn:
        assert audit_batch(conn, first.batch_id).ok


def test_a_published_total_that_pins_a_hidden_value_refuses_the_import(engine, tmp_path):
    """Batch 1 (threshold 5, approved) publishes the län 3/6. Batch 2 (threshold 10) brings two units of 1/3 and
    2/3: whatever is hidden, the published 6 bounds them below 10, so the import refuses and writes nothing."""
    seed_indicators(engine)
    write_csv(tmp_path / "lan.csv", [Measurement("10001", 1, Y2024, LN, Proportion(3, 6), REG)])
    first = import_file(engine, tmp_path / "lan.csv", Settings(database_url=str(engine.url), default_display_threshold=5))
    with writer(engine).begin() as conn:
        control.approve_batch(conn, first.batch_id, actor="t", reason="Granskad och godkänd")
    write_csv(tmp_path / "units.csv", [Measurement("10001", 1, Y2024, UNITS[0], Proportion(1, 3), REG),
                                       Measurement("10001", 1, Y2024, UNITS[1], Proportion(2, 3), REG)], directive="KEEP_")
    with engine.connect() as conn:
        before = conn.execute(select(measurements.c.id)).all()
    with pytest.raises(DisclosureError) as err:
        import_file(engine, tmp_path / "units.csv", Settings(database_url=str(engine.url), default_display_threshold=10))
    assert err.value.code == "DISCLOSURE_AUDIT" and "SE1-EA" in err.value.sv
    with engine.connect() as conn:
        assert conn.execute(select(measurements.c.id)).all() == before
        assert conn.execute(select(batches.c.id)).scalars().all() == [first.batch_id]


def test_approval_reruns_the_audit_and_refuses(engine, tmp_path):
    """Masked with threshold 5, then the registry raises the indicator's threshold to 60: against what would be
    published, the hidden pair is now pinned too tightly, and approval refuses naming the cells."""
    seed_indicators(engine)
    write_csv(tmp_path / "a.csv", _rows())
    out = import_file(engine, tmp_path / "a.csv", Settings(database_url=str(engine.url)))
    with writer(engine).begin() as conn:
        conn.execute(update(indicators).where(indicators.c.measure_id == "10001").values(display_threshold=60))
    with pytest.raises(PublishError) as err:
        with writer(engine).begin() as conn:
            control.approve_batch(conn, out.batch_id, actor="t", reason="Granskad och godkänd")
    assert err.value.code == "BATCH_DISCLOSURE" and "SE1-EA" in err.value.sv
    with engine.connect() as conn:
        assert conn.execute(select(batches.c.status).where(batches.c.id == out.batch_id)).scalar() != "approved"
    result = CliRunner().invoke(app, ["import", "audit", str(out.batch_id), "--db", str(engine.url), "--json"])
    assert result.exit_code == 1, result.output
    assert '"ok": false' in result.output


def test_import_audit_prints_the_tightest_cells(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    write_csv(tmp_path / "a.csv", _rows())
    out = import_file(sqlite_engine, tmp_path / "a.csv", Settings(database_url=str(sqlite_engine.url)))
    result = CliRunner().invoke(app, ["import", "audit", str(out.batch_id), "--db", str(sqlite_engine.url)])
    assert result.exit_code == 0, result.output
    assert "SE1-EA" in result.output and "size" in result.output and "passes" in result.output

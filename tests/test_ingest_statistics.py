"""Statistics on import: Wilson intervals computed where missing, small counts masked, secondary suppression,
per-indicator thresholds, UNK for listed organisations without data, and the JSON schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy.stats import binomtest
from sqlalchemy import select

from indikera.config import Settings
from indikera.domain.indicators import Indicator, UnitType
from indikera.domain.measurements import Measurement, Proportion
from indikera.ingest.export import vis_row, write_csv, write_json
from indikera.ingest.importer import apply, validate
from indikera.store.db import writer
from indikera.store.repositories import upsert_indicator
from indikera.store.tables import indicators, measurements, organisations

from .support.ingest_files import REG, Y2024, organisations as orgs, sample, seed_indicators

SCHEMA = Path(__file__).resolve().parents[1] / "src/indikera/ingest/schema/results.schema.json"


def _import(engine, path: Path, threshold: int = 5):
    settings = Settings(database_url=str(engine.url), default_display_threshold=threshold)
    plan = validate(engine, path, settings)
    assert plan.ok, [p.render() for p in plan.problems.shown]
    out = apply(engine, plan, settings, actor="t")
    plan.spool.close()
    return out


def _values(engine) -> dict[tuple[str, str], object]:
    with engine.connect() as conn:
        q = select(indicators.c.measure_id, organisations.c.hsa_id, organisations.c.org_extension, measurements).join(
            indicators, indicators.c.id == measurements.c.indicator_id).join(organisations, organisations.c.id == measurements.c.organisation_id)
        return {(r.measure_id, r.hsa_id or r.org_extension): r for r in conn.execute(q)}


def test_wilson_interval_filled_in_and_matches_scipy(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    o = orgs()
    rows = []
    for key, (num, den) in {"u1": (7, 50), "u2": (0, 30), "u3": (44, 44), "u4": (123, 400)}.items():
        rows.append(dict(vis_row(Measurement("10001", 1, Y2024, o[key], Proportion(num, den), REG)), Rate=""))
    path = tmp_path / "w.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(";".join(rows[0]) + "\n")
        for r in rows:
            fh.write(";".join(r.values()) + "\n")
    _import(sqlite_engine, path)
    for r in _values(sqlite_engine).values():
        ref = binomtest(int(r.numerator), int(r.denominator)).proportion_ci(confidence_level=0.95, method="wilson")
        assert math.isclose(r.ci_low, ref.low, abs_tol=1e-9) and math.isclose(r.ci_high, ref.high, abs_tol=1e-9)
        assert math.isclose(r.rate, r.numerator / r.denominator)


def _family_file(tmp_path: Path, female_unit_num: int) -> Path:
    """Strokeenheten KS and Medicinkliniken KS by sex, with the hospital and totals adding up."""
    o = orgs()
    parts = {"u1": {"K": (female_unit_num, 40), "M": (30, 60)}, "u2": {"K": (20, 50), "M": (25, 55)}}
    items = []
    for mid, sex in (("10002", "K"), ("10003", "M")):
        for u in ("u1", "u2"):
            items.append(Measurement(mid, 1, Y2024, o[u], Proportion(*parts[u][sex]), REG))
        num = sum(parts[u][sex][0] for u in parts)
        den = sum(parts[u][sex][1] for u in parts)
        items.append(Measurement(mid, 1, Y2024, o["ks"], Proportion(num, den), REG))
    for org in ("u1", "u2", "ks"):
        subs = [m for m in items if m.organisation.key == o[org].key]
        items.append(Measurement("10001", 1, Y2024, o[org], Proportion(sum(m.result.numerator for m in subs), sum(m.result.denominator for m in subs)), REG))
    path = tmp_path / "family.csv"
    write_csv(path, items)
    return path


def test_small_count_and_its_complements_are_hidden(engine, tmp_path):
    seed_indicators(engine)
    out = _import(engine, _family_file(tmp_path, female_unit_num=2))
    v = _values(engine)
    hidden = {k for k, r in v.items() if r.kind == "missing"}
    assert all(v[k].reason_code == "MSK" and v[k].ci_low is None and v[k].numerator is None for k in hidden)
    assert ("10002", "SE2321000016-U1") in hidden and out.masked_primary == 1
    # Women at unit 1 cannot be recovered from the total (10001) minus men, nor from the hospital minus unit 2.
    assert ("10003", "SE2321000016-U1") in hidden or ("10001", "SE2321000016-U1") in hidden
    assert ("10002", "SE2321000016-U2") in hidden or ("10002", "11001") in hidden
    assert out.masked_secondary >= 2 and len(hidden) == out.masked_primary + out.masked_secondary


def test_nothing_hidden_without_small_counts(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    out = _import(sqlite_engine, _family_file(tmp_path, female_unit_num=12))
    assert out.masked_primary == out.masked_secondary == 0


def test_indicator_threshold_overrides_the_default(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    with writer(sqlite_engine).begin() as conn:
        upsert_indicator(conn, Indicator("10004", 1, "Operation inom 24 timmar", UnitType.ANDEL, display_threshold=100))
    o = orgs()
    items = [Measurement("10004", 1, Y2024, o["u1"], Proportion(30, 60), REG), Measurement("10001", 1, Y2024, o["u1"], Proportion(30, 60), REG)]
    write_csv(tmp_path / "t.csv", items)
    _import(sqlite_engine, tmp_path / "t.csv", threshold=5)
    v = _values(sqlite_engine)
    assert v[("10004", "SE2321000016-U1")].reason_code == "MSK"
    assert v[("10001", "SE2321000016-U1")].numerator == 30


def test_listed_organisation_without_data_is_unk(sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    o = orgs()
    row = vis_row(Measurement("10001", 1, Y2024, o["u5"], Proportion(1, 1), REG))
    for col in ("Rate", "Numerator", "Denominator"):
        row[col] = ""
    path = tmp_path / "unk.csv"
    path.write_text(";".join(row) + "\n" + ";".join(row.values()) + "\n", encoding="utf-8")
    _import(sqlite_engine, path)
    assert _values(sqlite_engine)[("10001", "SE2321000222-U5")].reason_code == "UNK"


def test_json_files_follow_the_published_schema(tmp_path):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema_rs.validator_for(schema)
    path = tmp_path / "r.json"
    write_json(path, sample(), registry=(REG.extension, REG.name))
    doc = json.loads(path.read_text())
    validator.validate(doc)
    doc["rows"][0]["Colour"] = "blue"
    assert not validator.is_valid(doc)
    from indikera.ingest.sources import COLUMNS, EXTRA_JSON_COLUMNS

    assert set(schema["properties"]["rows"]["items"]["properties"]) == set(COLUMNS) | set(EXTRA_JSON_COLUMNS)

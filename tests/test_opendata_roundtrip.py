"""The CSV export in the VIS layout, re-imported by the project's own importer (``indikera.ingest``), gives
back the same values: what a consumer downloads is exactly what the registry published."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from indikera import demo
from indikera.app import create_app
from indikera.config import Settings
from indikera.ingest.importer import apply, validate
from indikera.publish import control
from indikera.store import db as store_db
from indikera.store.catalog_tables import publication_rules
from indikera.store.db import writer
from indikera.store.repositories import upsert_indicator, utcnow

QUERY = "measureId=10001,10005,10008&periodFrom=2025-01-01&periodTo=2025-12-31"  # a proportion, a median, a count
VALUE_FIELDS = ("version", "kind", "rate", "numerator", "denominator", "value", "measurePopulation", "cohort", "reasonCode",
                "confidenceInterval", "standardDeviation", "coverage", "exclusions", "referenceInterval")


def _values(client: TestClient, query: str) -> dict[tuple, dict]:
    items = client.get(f"/api/v1/results?limit=10000&{query}").json()["items"]
    return {(i["measureId"], i["periodStart"], i["periodEnd"], i["organisation"]["id"]): {k: i[k] for k in VALUE_FIELDS}
            for i in items}


def _export(url: str, delimiter: str) -> tuple[bytes, dict[tuple, dict]]:
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        exported = client.get(f"/api/v1/results.csv?delimiter={delimiter}&{QUERY}")
        assert exported.status_code == 200
        values = _values(client, QUERY)
    app.state.ctx.engine.dispose()
    return exported.content, values


def _import(url: str, path: Path) -> object:
    """A registry that knows the demo indicators (all open) imports ``path`` with the real importer."""
    settings = Settings(database_url=url)
    engine = store_db.make_engine(url)
    with writer(engine).begin() as conn:
        for spec in demo.INDICATORS:
            iid = upsert_indicator(conn, spec.indicator)
            conn.execute(insert(publication_rules).values(indicator_id=iid, level="open", changed_by="test",
                                                          changed_at=utcnow(), reason="round trip"))
    plan = validate(engine, path, settings)
    assert plan.ok, [str(p) for p in plan.problems][:5]
    outcome = apply(engine, plan, settings, actor="test")
    with writer(engine).begin() as conn:
        control.approve_batch(conn, outcome.batch_id, actor="test", reason="round trip")
    engine.dispose()
    return outcome


@pytest.mark.slow
def test_exported_csv_reimports_to_the_same_values(demo_url: str, db_url: str, tmp_path: Path) -> None:
    # The demo registry's open data is imported the way a registry publishes (checked and masked by
    # indikera): the demo is masked as an import masks, so there is nothing left to hide. That registry's
    # open-data CSV is then downloaded and imported by a third registry, which must end up with the same values.
    first, _ = _export(demo_url, "semicolon")  # both delimiters the API writes are read by the importer
    (tmp_path / "demo.csv").write_bytes(first)
    outcome = _import(db_url, tmp_path / "demo.csv")
    assert outcome.masked_primary == 0 and outcome.masked_secondary == 0
    published, original = _export(db_url, "comma")
    assert len(original) > 1000 and {v["kind"] for v in original.values()} == {"proportion", "continuous", "cohort", "missing"}

    (tmp_path / "oppna-resultat.csv").write_bytes(published)
    third = f"sqlite:///{tmp_path / 'third.db'}"
    store_db.upgrade(third)
    outcome = _import(third, tmp_path / "oppna-resultat.csv")
    assert outcome.added == len(original)
    assert outcome.masked_primary == 0 and outcome.masked_secondary == 0  # nothing left to hide

    again_file, again = _export(third, "comma")
    assert again.keys() == original.keys()
    differing = [k for k in original if again[k] != original[k]]
    assert not differing, (len(differing), differing[:3], [(original[k], again[k]) for k in differing[:2]])
    assert again_file == published  # and the file itself is byte for byte the same

"""Property: whatever the publication levels and batch states, the open-data API and the DCAT catalogue
show exactly the approved, open values, and nothing at all of what is restricted or unpublished."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update

from indikera.app import create_app
from indikera.config import Settings
from indikera.domain import oids
from indikera.domain.indicators import Frequency, Indicator, Sex, UnitType
from indikera.domain.measurements import Measurement, Proportion, SourceSystem
from indikera.domain.organisations import Organisation, OrgType, lan, riket
from indikera.domain.periods import Period
from indikera.store.catalog_tables import indicator_descriptions, publication_rules
from indikera.store.db import make_engine, writer
from indikera.store.repositories import (
    OrganisationRepository, create_batch, ensure_source_system, insert_measurements, measurement_row, upsert_indicator,
)
from indikera.store.tables import batches

IDS = ("KIX-A", "KIX-B", "KIX-C", "KIX-D")  # KIX-D is KIX-A's women sub-measure
PERIODS = (Period(date(2023, 1, 1), date(2023, 12, 31)), Period(date(2024, 1, 1), date(2024, 12, 31)))
LEVELS = ("open", "restricted", "unpublished")
SOURCE = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE2321000000-PROPREG", "Egenskapsregistret")


def _title(mid: str) -> str:
    return f"Sentineltitel {mid[-1]}x"


def _text(mid: str) -> str:
    return f"Sentineltext om täckningsgrad {mid[-1]}y"


def _build(url: str) -> dict:
    engine = make_engine(url)
    land = riket()
    stockholm, uppsala = lan("01", "Stockholms län", land), lan("03", "Uppsala län", land)
    unit = Organisation(OrgType.VARDENHET, "Vanlig enhet", hsa_id="SE2321000000-U1", parent=stockholm)
    lonely = Organisation(OrgType.VARDENHET, "Ensam enhet Zq", hsa_id="SE2321000000-ZQ", parent=uppsala)
    levels = frozenset({OrgType.LAND, OrgType.LAN, OrgType.VARDENHET})
    ids, batch_ids = {}, []
    with writer(engine).begin() as conn:
        for mid in IDS:
            sub = mid == "KIX-D"
            ind = Indicator(mid, 1, _title(mid), UnitType.ANDEL, Frequency.YEAR, levels,
                            "KIX-A" if sub else None, Sex.FEMALE if sub else None)
            ids[mid] = upsert_indicator(conn, ind)
            conn.execute(insert(indicator_descriptions).values(
                measure_id=mid, version_major=1, version_minor=0, created_by="t", created_at=datetime.now(UTC),
                document={"measureId": mid, "description": f"Beskrivning {mid[-1]}w", "texts": {"coverage": _text(mid)}}))
        orgs = OrganisationRepository(conn)
        src = ensure_source_system(conn, SOURCE)
        for n, period in enumerate(PERIODS):
            b = create_batch(conn, registry="SE2321000000-PROPREG", file_name=f"p{n}.csv", sha256="0" * 64, fmt="csv", actor="t")
            batch_ids.append(b)
            rows = []
            for k, mid in enumerate(IDS):
                targets = [land, stockholm, unit] + ([lonely] if mid == "KIX-A" else [])
                for j, org in enumerate(targets):
                    m = Measurement(mid, 1, period, org, Proportion(10 + j + k, 40 + n), SOURCE)
                    rows.append(measurement_row(m, indicator_id=ids[mid], organisation_id=orgs.ensure(org),
                                                source_system_id=src, batch_id=b))
            insert_measurements(conn, rows)
    return {"engine": engine, "ids": ids, "batches": batch_ids}


@pytest.fixture
def registry(db_url: str):
    reg = _build(db_url)
    app = create_app(Settings(database_url=db_url))
    with TestClient(app) as client:
        reg["client"] = client
        yield reg
    app.state.ctx.engine.dispose()
    reg["engine"].dispose()


scenario = st.fixed_dictionaries({
    "wide": st.fixed_dictionaries({mid: st.sampled_from(LEVELS + (None,)) for mid in IDS}),
    "narrow": st.fixed_dictionaries({mid: st.sampled_from(LEVELS + (None,)) for mid in IDS}),  # a rule for 2024 only
    "batches": st.tuples(st.sampled_from(("applied", "approved", "depublished")), st.sampled_from(("applied", "approved", "depublished"))),
})


def _apply(reg: dict, sc: dict) -> None:
    now = datetime.now(UTC)
    with writer(reg["engine"]).begin() as conn:
        conn.execute(delete(publication_rules))
        for mid, iid in reg["ids"].items():
            if sc["wide"][mid]:
                conn.execute(insert(publication_rules).values(indicator_id=iid, level=sc["wide"][mid], changed_by="t", changed_at=now, reason="t"))
            if sc["narrow"][mid]:
                conn.execute(insert(publication_rules).values(
                    indicator_id=iid, period_start=PERIODS[1].start, period_end=PERIODS[1].end, level=sc["narrow"][mid],
                    changed_by="t", changed_at=now, reason="t"))
        for b, status in zip(reg["batches"], sc["batches"]):
            conn.execute(update(batches).where(batches.c.id == b).values(
                status=status, approved_at=now if status != "applied" else None, depublished_at=now if status == "depublished" else None))


def _expected(sc: dict) -> tuple[set[tuple[str, str]], set[str]]:
    """(measure id, period start) of the values the public may see; the ids whose description it may see."""
    values = set()
    for mid in IDS:
        for n, period in enumerate(PERIODS):
            level = (sc["narrow"][mid] if n == 1 and sc["narrow"][mid] else None) or sc["wide"][mid]
            if level == "open" and sc["batches"][n] == "approved":
                values.add((mid, period.start.isoformat()))
    described = {mid for mid in IDS if "open" in (sc["wide"][mid], sc["narrow"][mid])}
    return values, described


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sc=scenario)
def test_nothing_but_approved_open_data_is_ever_shown(registry, sc) -> None:
    _apply(registry, sc)
    client: TestClient = registry["client"]
    values, described = _expected(sc)
    hidden = set(IDS) - described
    bodies: dict[str, str] = {}

    def get(url: str, status: int = 200) -> str:
        r = client.get(url)
        assert r.status_code == status, (url, r.text)
        bodies[url] = r.text
        return r.text

    get("/api/v1/indicators")
    for mid in IDS:
        for suffix in ("", "/versions", "/submeasures"):
            get(f"/api/v1/indicators/{mid}{suffix}", 200 if mid in described else 404)
    assert {i["measureId"] for i in client.get("/api/v1/indicators").json()["items"]} == described
    get("/api/v1/results?limit=10000")
    items = client.get("/api/v1/results?limit=10000").json()["items"]
    got = {(i["measureId"], i["periodStart"]) for i in items}
    if got != values:
        with registry["engine"].connect() as conn:
            stored = (conn.execute(publication_rules.select()).all(), conn.execute(batches.select()).all())
        raise AssertionError(f"{sc}: got {got}, expected {values}; stored {stored}")
    rows = list(csv.DictReader(io.StringIO(get("/api/v1/results.csv"))))
    assert {(r["MeasureID"], r["PeriodReportedStartDate"]) for r in rows} == values
    assert len(rows) == len(items)
    orgs = get("/api/v1/organisations")
    assert ("Ensam enhet Zq" in orgs) == any(m == "KIX-A" for m, _ in values)
    get("/api/v1/changes")
    get("/datasets/dcat?format=ttl")
    for mid in hidden:
        for url, body in bodies.items():
            if mid in url:
                continue  # a 404 for the asked id may repeat the id asked for, nothing else
            for secret in (mid, _title(mid), _text(mid), f"Beskrivning {mid[-1]}w"):
                assert secret not in body, f"{secret!r} leaked through {url}"
    for mid in described:
        assert f"/datasets/indicator/{mid}" in bodies["/datasets/dcat?format=ttl"]

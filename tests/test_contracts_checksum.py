"""measurementChecksum, visibility per consumer, the audit row, and the answer-size limit."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, event, select, update
from starlette.testclient import TestClient

from indikera.access import agreements
from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.domain import oids
from indikera.domain.checksum import EMPTY_CHECKSUM, ChecksumBuilder, content_hash
from indikera.domain.indicators import Indicator, UnitType
from indikera.domain.measurements import Measurement, Proportion, SourceSystem
from indikera.domain.organisations import Organisation, OrgType, kommun, lan, riket
from indikera.domain.periods import Period
from indikera.store.access_tables import audit_log
from indikera.store.db import writer
from indikera.store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    measurement_row,
    upsert_indicator,
)
from indikera.store.tables import batches, indicators, measurements

from .support import soap_client as sc
from .test_contracts_mocks import publish_open

SOURCE = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE2321000000-REG", "Testregistret")
YEAR = Period(date(2023, 1, 1), date(2023, 12, 31))
Q1 = Period(date(2023, 1, 1), date(2023, 3, 31))


def _orgs() -> list[Organisation]:
    """Keys that sort differently by code point than by a natural-language collation (case, punctuation)."""
    land = riket()
    stockholm = lan("01", "Stockholm", land)
    return [
        land,
        stockholm,
        kommun("0180", "Stockholm stad", stockholm),
        Organisation(OrgType.VARDENHET, "Enhet b", hsa_id="SE2321000000-b", parent=stockholm),
        Organisation(OrgType.VARDENHET, "Enhet B", hsa_id="SE2321000000-B", parent=stockholm),
        Organisation(OrgType.VARDENHET, "Enhet _", hsa_id="SE2321000000_A", parent=stockholm),
    ]


def _measurements() -> list[Measurement]:
    out = []
    for measure_id in ("20", "100"):  # "100" < "20" as text, but is inserted second
        for period in (YEAR, Q1):
            for n, org in enumerate(_orgs()):
                for stratum in ("", "K", "M"):
                    out.append(Measurement(measure_id, 1, period, org, Proportion(n + 1, 40), SOURCE, stratum=stratum))
    return out


def _store(engine, items: list[Measurement]) -> None:
    with writer(engine).begin() as conn:
        orgs = OrganisationRepository(conn)
        ids = {mid: upsert_indicator(conn, Indicator(mid, 1, f"Indikator {mid}", UnitType.ANDEL)) for mid in ("20", "100")}
        batch = create_batch(conn, registry="SE2321000000-REG", file_name="t", sha256="0" * 64, fmt="test", actor="test")
        insert_measurements(
            conn,
            [
                measurement_row(m, indicator_id=ids[m.measure_id], organisation_id=orgs.ensure(m.organisation),
                                source_system_id=ensure_source_system(conn, m.source_system), batch_id=batch)
                for m in items
            ],
        )
        conn.execute(update(batches).values(status="approved"))
        publish_open(conn)


def _expected(items: list[Measurement], period: Period) -> str:
    inside = [m for m in items if period.contains(m.period)]
    inside.sort(key=lambda m: (m.measure_id, m.period.start, m.period.end, m.organisation.key, m.stratum))
    return ChecksumBuilder().extend(content_hash(m) for m in inside).hexdigest()


@pytest.fixture
def stored(engine):
    items = _measurements()
    _store(engine, items)
    ctx = AppContext(Settings(database_url=str(engine.url)), engine)
    return TestClient(create_app(ctx=ctx)), items, engine


def test_checksum_is_the_documented_algorithm_on_every_backend(stored):
    client, items, _ = stored
    full = sc.answer(sc.post(client, sc.request(("20", "100"), "20230101", "20231231", True)))
    only = sc.answer(sc.post(client, sc.request(("20", "100"), "20230101", "20231231", False)))
    assert full.checksum == only.checksum == _expected(items, YEAR)
    assert len(full.measurements) == len(items)
    # The answer lists the measurements in checksum order too.
    order = [(sc.text(m, "qr:measureId/qr:extension")) for m in full.measurements]
    assert order == sorted(order)
    q1 = sc.answer(sc.post(client, sc.request(("100",), "20230101", "20230331", False)))
    assert q1.checksum == _expected([m for m in items if m.measure_id == "100"], Q1)


def test_checksum_follows_every_change_of_a_matching_measurement(stored):
    client, items, engine = stored

    def checksum(period=("20230101", "20230331")):
        return sc.answer(sc.post(client, sc.request(("20",), *period, False))).checksum

    before = checksum()
    with writer(engine).begin() as conn:  # a value outside the asked period changes: no effect
        conn.execute(update(measurements).where(measurements.c.period_end == YEAR.end).values(content_hash="f" * 64))
    assert checksum() == before
    with writer(engine).begin() as conn:  # one matching value changes
        row = conn.execute(select(measurements.c.id).where(measurements.c.period_end == Q1.end).limit(1)).scalar_one()
        conn.execute(update(measurements).where(measurements.c.id == row).values(content_hash="e" * 64))
    changed = checksum()
    assert changed != before
    with writer(engine).begin() as conn:  # and is removed
        conn.execute(delete(measurements).where(measurements.c.id == row))
    removed = checksum()
    assert removed not in (before, changed)
    assert checksum(("20240101", "20241231")) == EMPTY_CHECKSUM


def test_checksum_only_reads_hashes_and_builds_no_measurement(stored, monkeypatch):
    client, items, engine = stored
    from indikera.contracts.qualityreporting_v2 import answer

    def forbidden(*args, **kwargs):
        raise AssertionError("a checksum-only answer must not build measurements")

    monkeypatch.setattr(answer, "full", forbidden)
    monkeypatch.setattr(answer, "measure_xml", forbidden)
    statements: list[str] = []
    listener = lambda conn, cursor, stmt, params, context, many: statements.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        only = sc.answer(sc.post(client, sc.request(("20", "100"), "20230101", "20231231", False)))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert only.checksum == _expected(items, YEAR) and not only.measurements
    reading = [s for s in statements if "measurements" in s and "audit_log" not in s]
    assert reading and not any("measurements.rate" in s or "measurements.numerator" in s for s in reading)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_plain_decimals_that_read_back_exactly(x):
    from indikera.contracts.qualityreporting_v2.answer import number

    text = number(x)
    assert not set(text) & set("eEinfINFaA"), text
    assert float(text) == x or (x == 0 and float(text) == 0)


def test_non_finite_number_is_a_server_fault():
    from indikera.contracts.qualityreporting_v2.answer import number
    from indikera.contracts.soap import SoapFault

    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(SoapFault) as info:
            number(bad)
        assert info.value.code == "NOT_FINITE" and not info.value.is_client


# ---------------------------------------------------------------- visibility and audit (demo registry)


@pytest.fixture
def demo_app(demo_db_url):
    ctx = AppContext.from_settings(Settings(database_url=demo_db_url))
    yield ctx, create_app(ctx=ctx)
    ctx.engine.dispose()


def _audit_rows(engine):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(audit_log).where(audit_log.c.channel == "soap").order_by(audit_log.c.id))]


def test_restricted_and_unpublished_indicators_per_consumer(demo_app):
    ctx, app = demo_app
    public = TestClient(app)
    consumer = TestClient(sc.AsConsumer(app, "SE2321000000-VIS1"))
    for client in (public, consumer):  # no agreement: answered exactly like an unknown id
        for mid in ("10015", "10016"):
            r = sc.answer(sc.post(client, sc.request((mid,), "20230101", "20231231", True)))
            assert r.checksum == EMPTY_CHECKSUM and not r.measurements and r.period == ("20230101", "20231231")
    agreements.add(ctx.engine, consumer="SE2321000000-VIS1", reference="CPUA-1", measure_ids=None,
                   valid_from=date(2020, 1, 1), actor="test")
    granted = sc.answer(sc.post(consumer, sc.request(("10015", "10016"), "20230101", "20231231", True)))
    assert granted.measure_ids() == {"10015"} and len(granted.measurements) == 362
    only = sc.answer(sc.post(consumer, sc.request(("10015", "10016"), "20230101", "20231231", False)))
    assert only.checksum == granted.checksum
    still_hidden = sc.answer(sc.post(public, sc.request(("10015",), "20230101", "20231231", True)))
    assert not still_hidden.measurements


def test_every_call_is_audited_with_correlation_id_and_withheld_count(demo_app):
    ctx, app = demo_app
    client = TestClient(sc.AsConsumer(app, "SE2321000000-VIS2"))
    headers = dict(sc.HEADERS, **{"x-skltp-correlation-id": "corr-123"})
    r = client.post(sc.PATH, content=sc.request(("10001", "10015"), "20230101", "20231231", True), headers=headers)
    sc.answer(r)
    assert r.headers["x-skltp-correlation-id"] == "corr-123"
    bad = client.post(sc.PATH, content=sc.request(("10001",), address="SE-OTHER"), headers=dict(headers, **{"x-skltp-correlation-id": "corr-456"}))
    sc.fault(bad)
    rows = _audit_rows(ctx.engine)
    ok, fault = rows[-2], rows[-1]
    assert ok["correlation_id"] == "corr-123" and ok["outcome"] == "ok" and ok["consumer_hsa_id"] == "SE2321000000-VIS2"
    assert ok["logical_address"] == sc.ADDRESS and ok["returned"] == 362 and ok["withheld"] == 362
    assert ok["requested"]["reportingPeriod"] == ["20230101", "20231231"]
    assert f"{sc.KIK}:10015" in ok["requested"]["measureIds"] and ok["duration_ms"] is not None
    assert fault["correlation_id"] == "corr-456" and fault["outcome"] == "fault:LOGICAL_ADDRESS_UNKNOWN"


def test_too_large_answer_is_a_server_fault_not_a_truncated_answer(demo_url):
    ctx = AppContext.from_settings(Settings(database_url=demo_url, soap_max_response_bytes=200_000))
    client = TestClient(create_app(ctx=ctx))
    code, text = sc.fault(sc.post(client, sc.request(("10001",), "20230101", "20231231", True)), "Server")
    assert code == "RESPONSE_TOO_LARGE" and "fewer indicators" in text
    # the checksum-only answer for the same query is small and still served
    assert sc.answer(sc.post(client, sc.request(("10001",), "20230101", "20231231", False))).checksum != EMPTY_CHECKSUM
    ctx.engine.dispose()


def test_indicator_row_order_does_not_leak_into_the_answer(stored):
    client, items, engine = stored
    with engine.connect() as conn:
        ids = dict(conn.execute(select(indicators.c.measure_id, indicators.c.id)).all())
    assert ids["20"] < ids["100"]  # stored first, yet listed second (checksum order is by measure id text)
    r = sc.answer(sc.post(client, sc.request(("20", "100"), "20230101", "20231231", True)))
    assert sc.text(r.measurements[0], "qr:measureId/qr:extension") == "100"

"""The store on SQLite and PostgreSQL: migrations, repositories, the demo registry, visibility."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select

from indikera import demo
from indikera.domain import oids
from indikera.domain.checksum import content_hash
from indikera.domain.indicators import Indicator, UnitType
from indikera.domain.measurements import ConfidenceInterval, Measurement, Proportion, SourceSystem
from indikera.domain.organisations import Organisation, OrgType, kommun, lan
from indikera.domain.periods import Period
from indikera.publish.visibility import PUBLIC, Audience, visible_measurements
from indikera.store import db as store_db
from indikera.store.access_tables import agreements
from indikera.store.all_tables import metadata
from indikera.store.catalog_tables import publication_rules
from indikera.store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    load_organisations,
    measurement_from_row,
    measurement_row,
    upsert_indicator,
    utcnow,
)
from indikera.store.tables import batches, indicators, measurements, organisations

SRC = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")


def test_migrations_create_exactly_the_models(engine):
    assert store_db.is_up_to_date(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_migrations_downgrade_to_nothing_and_up_again(db_url):
    store_db.downgrade(db_url, "base")
    eng = store_db.make_engine(db_url)
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    store_db.upgrade(db_url)
    assert store_db.is_up_to_date(eng)
    eng.dispose()


def _one(engine) -> Measurement:
    ve = Organisation(OrgType.VARDENHET, "VC Solna", hsa_id="SE1-VE", parent=kommun("0184", "Solna", lan("01", "Stockholm")))
    m = Measurement("12345", 2, Period.parse("20230101", "20231231"), ve, Proportion(40, 50), SRC, ci=ConfidenceInterval(0.67, 0.89), coverage=0.9)
    ind = Indicator("12345", 2, "Andel", UnitType.ANDEL)
    with store_db.writer(engine).begin() as conn:
        iid = upsert_indicator(conn, ind)
        oid = OrganisationRepository(conn).ensure(m.organisation)
        sid = ensure_source_system(conn, SRC)
        bid = create_batch(conn, registry="SE1", file_name="f.csv", sha256="0" * 64, fmt="csv", actor="test")
        insert_measurements(conn, [measurement_row(m, indicator_id=iid, organisation_id=oid, source_system_id=sid, batch_id=bid)])
    return m


def test_measurement_round_trip(engine):
    m = _one(engine)
    with engine.connect() as conn:
        orgs = load_organisations(conn)
        row = conn.execute(select(measurements)).one()
        back = measurement_from_row(row, measure_id="12345", organisation=orgs[row.organisation_id], source_system=SRC)
        assert conn.execute(select(func.count()).select_from(organisations)).scalar_one() == 4  # VE, kommun, län, Riket
    assert back == m
    assert row.content_hash == content_hash(m)


def test_organisation_rename_updates_in_place(engine):
    with store_db.writer(engine).begin() as conn:
        repo = OrganisationRepository(conn)
        a = repo.ensure(lan("01", "Stockholms län"))
        b = OrganisationRepository(conn).ensure(lan("01", "Region Stockholm"))
    assert a == b
    with engine.connect() as conn:
        assert conn.execute(select(organisations.c.name).where(organisations.c.id == a)).scalar_one() == "Region Stockholm"


def test_visibility_follows_level_approval_and_agreement(engine):
    _one(engine)
    now = utcnow()
    with engine.begin() as conn:
        iid = conn.execute(select(indicators.c.id)).scalar_one()

        def count(aud):
            return conn.execute(select(func.count()).select_from(measurements).where(visible_measurements(conn, aud))).scalar_one()

        assert count(PUBLIC) == 0  # no rule: unpublished
        conn.execute(insert(publication_rules).values(indicator_id=iid, level="open", changed_by="t", changed_at=now, reason="r"))
        assert count(PUBLIC) == 0  # open but batch not approved
        conn.execute(batches.update().values(status="approved"))
        assert count(PUBLIC) == 1
        conn.execute(publication_rules.update().values(level="restricted"))
        vis = Audience("SE1-VIS", on=date(2024, 6, 1))
        assert (count(PUBLIC), count(vis)) == (0, 0)
        conn.execute(insert(agreements).values(consumer_hsa_id="SE1-VIS", reference="CPUA-1", indicator_id=iid,
                                               valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31), created_by="t", created_at=now))
        assert (count(PUBLIC), count(vis), count(Audience("SE1-OTHER", on=date(2024, 6, 1)))) == (0, 1, 0)
        assert count(Audience("SE1-VIS", on=date(2025, 1, 1))) == 0  # agreement expired
        # A narrowed rule for the period wins over the indicator-wide one.
        conn.execute(insert(publication_rules).values(indicator_id=iid, period_start=date(2023, 1, 1), period_end=date(2023, 12, 31),
                                                      level="unpublished", changed_by="t", changed_at=now, reason="r"))
        assert count(vis) == 0


def test_demo_registry_is_consistent(demo_db_url):
    eng = store_db.make_engine(demo_db_url)
    with eng.connect() as conn:
        rows = conn.execute(select(measurements)).all()
        kinds = {r.kind for r in rows}
        reasons = {r.reason_code for r in rows if r.reason_code}
        n_orgs = dict(conn.execute(select(organisations.c.type, func.count()).group_by(organisations.c.type)).all())
        assert conn.execute(select(func.count()).select_from(indicators)).scalar_one() == len(demo.INDICATORS)
    eng.dispose()
    assert kinds == {"proportion", "continuous", "cohort", "missing"}
    assert reasons == {"MSK", "INV", "UNK"} or reasons >= {"MSK", "UNK"}
    assert n_orgs["Lan"] == 21 and n_orgs["Land"] == 1 and n_orgs["Sjukhus"] == 40 and n_orgs["Vardenhet"] == 300
    for r in rows:
        if r.kind == "proportion":
            assert r.denominator > 0 and abs(r.rate - r.numerator / r.denominator) < 1e-12
            assert r.ci_low <= r.rate <= r.ci_high
        if r.kind == "continuous":
            assert r.population > 0 and r.ci_low <= r.value <= r.ci_high


@pytest.mark.slow
def test_demo_is_deterministic():
    a = [content_hash(m) for m in demo.generate()][:2000]
    b = [content_hash(m) for m in demo.generate()][:2000]
    assert a == b

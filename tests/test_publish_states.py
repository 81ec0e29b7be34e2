"""Publication state machine: unpublished → restricted → open → de-published, batch approvals, period rules,
and the log that records who, when and why — on SQLite and PostgreSQL, checked through the visibility rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.domain import oids
from indikera.domain.indicators import Indicator, UnitType
from indikera.domain.measurements import Continuous, Measurement, Proportion, SourceSystem
from indikera.domain.organisations import riket
from indikera.domain.periods import Period
from indikera.publish import control, states
from indikera.publish.states import BatchState, IndicatorState, PublishError
from indikera.publish.visibility import PUBLIC, Audience, Level, visible_descriptions, visible_indicator_ids, visible_measurements
from indikera.store import db as store_db
from indikera.store.access_tables import agreements
from indikera.store.catalog_tables import publication_log
from indikera.store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    measurement_row,
    upsert_indicator,
    utcnow,
)
from indikera.store.tables import batches, measurements

DEMO = {s.indicator.measure_id: s.indicator for s in demo.INDICATORS}
SRC = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")
VIS = Audience("SE2321000000-VIS", on=date(2025, 6, 1))
OTHER = Audience("SE2321000000-ANNAN", on=date(2025, 6, 1))
Y2023, Y2024 = Period(date(2023, 1, 1), date(2023, 12, 31)), Period(date(2024, 1, 1), date(2024, 12, 31))


# ------------------------------------------------------------------ pure transitions


def test_pure_indicator_transitions():
    t = states.set_level(IndicatorState.UNPUBLISHED, Level.RESTRICTED, description_errors=0)
    assert (t.before, t.after, t.action, t.changed) == ("unpublished", "restricted", "publish", True)
    assert states.set_level(IndicatorState.RESTRICTED, Level.OPEN, description_errors=0).after == "open"
    assert not states.set_level(IndicatorState.OPEN, Level.OPEN, description_errors=0).changed
    assert states.depublish(IndicatorState.OPEN).after == "depublished"
    assert not states.depublish(IndicatorState.DEPUBLISHED).changed
    assert not states.depublish(IndicatorState.UNPUBLISHED).changed
    assert not states.set_level(IndicatorState.DEPUBLISHED, Level.UNPUBLISHED, description_errors=None).changed
    assert states.set_level(IndicatorState.DEPUBLISHED, Level.OPEN, description_errors=0).after == "open"
    with pytest.raises(PublishError) as exc:
        states.set_level(IndicatorState.UNPUBLISHED, Level.OPEN, description_errors=None, key="1")
    assert exc.value.code == "NO_DESCRIPTION"
    with pytest.raises(PublishError) as exc:
        states.set_level(IndicatorState.UNPUBLISHED, Level.RESTRICTED, description_errors=2, key="1")
    assert exc.value.code == "DESCRIPTION_ERRORS" and "2" in exc.value.message
    assert states.set_level(IndicatorState.OPEN, Level.UNPUBLISHED, description_errors=None).changed  # hiding needs no description


def test_pure_batch_transitions():
    assert states.approve(BatchState.APPLIED).changed and states.approve(BatchState.DEPUBLISHED).after == "approved"
    assert not states.approve(BatchState.APPROVED).changed
    assert states.depublish_batch(BatchState.APPROVED).after == "depublished"
    assert not states.depublish_batch(BatchState.DEPUBLISHED).changed
    for reason in ("", "  ", "ok"):
        with pytest.raises(PublishError):
            states.check_reason(reason)


# ------------------------------------------------------------------ in the store


def _setup(engine, mid="10001", describe=True) -> int:
    """An indicator (described), one result per year in a new, applied batch; returns the batch id."""
    if describe:
        assert cs.import_text(engine, jsonformat.dumps([description_for(DEMO[mid])]), "redaktör", approve_as="granskare").ok
    return _batch(engine, DEMO[mid], [Y2023, Y2024])


def _batch(engine, ind: Indicator, periods, result=None) -> int:
    with store_db.writer(engine).begin() as conn:
        iid = upsert_indicator(conn, ind)
        org = OrganisationRepository(conn).ensure(riket())
        sid = ensure_source_system(conn, SRC)
        bid = create_batch(conn, registry="SE1", file_name="f.csv", sha256="0" * 64, fmt="csv", actor="importör")
        rows = [measurement_row(Measurement(ind.measure_id, 1, p, riket(), result or Proportion(40, 50), SRC),
                                indicator_id=iid, organisation_id=org, source_system_id=sid, batch_id=bid) for p in periods]
        insert_measurements(conn, rows)
    return bid


def seen(engine, audience) -> list[date]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(measurements.c.period_start).where(visible_measurements(conn, audience))).scalars())


def change(engine, fn, *args, **kw):
    with store_db.writer(engine).begin() as conn:
        return fn(conn, *args, **kw)


def _agreement(engine, consumer: str, mid: str | None) -> None:
    with engine.begin() as conn:
        iid = control.indicator_id(conn, mid) if mid else None
        conn.execute(insert(agreements).values(consumer_hsa_id=consumer, reference="CPUA-1", indicator_id=iid,
                                               valid_from=date(2025, 1, 1), created_by="t", created_at=utcnow()))


def test_unpublished_restricted_open_depublished_with_approval(engine):
    bid = _setup(engine)
    _agreement(engine, VIS.consumer_hsa_id, "10001")
    both = [Y2023.start, Y2024.start]
    assert seen(engine, PUBLIC) == seen(engine, VIS) == []  # no rule: unpublished

    t = change(engine, control.set_level, "10001", "restricted", actor="anna", reason="Avtal med VIS klart")
    assert (t.before, t.after) == ("unpublished", "restricted")
    assert seen(engine, VIS) == []  # restricted, but the batch is not approved yet ("hide unapproved")
    assert change(engine, control.approve_batch, bid, actor="bertil", reason="Granskad").after == "approved"
    assert (seen(engine, PUBLIC), seen(engine, VIS), seen(engine, OTHER)) == ([], both, [])

    change(engine, control.set_level, "10001", "open", actor="anna", reason="Öppna data beslutat")
    assert seen(engine, PUBLIC) == seen(engine, OTHER) == both

    t = change(engine, control.depublish_indicator, "10001", actor="cecilia", reason="Fel i täckningsgraden")
    assert (t.before, t.after) == ("open", "depublished")
    assert seen(engine, PUBLIC) == seen(engine, VIS) == []
    with engine.connect() as conn:
        assert control.indicator_status(conn, "10001").state is IndicatorState.DEPUBLISHED
        assert visible_indicator_ids(conn, PUBLIC) == set() and visible_descriptions(conn, VIS) == {}
        log = control.log_entries(conn)
    assert [(e["actor"], e["action"], e["before"], e["after"], e["reason"]) for e in reversed(log)] == [
        ("anna", "publish", "unpublished", "restricted", "Avtal med VIS klart"),
        ("bertil", "approve", "applied", "approved", "Granskad"),
        ("anna", "publish", "restricted", "open", "Öppna data beslutat"),
        ("cecilia", "depublish", "open", "unpublished", "Fel i täckningsgraden"),
    ]
    assert all(e["at"] for e in log)
    # Back again after the fix.
    change(engine, control.set_level, "10001", "open", actor="anna", reason="Rättat")
    assert seen(engine, PUBLIC) == both


def test_depublishing_a_batch_hides_its_values_everywhere(engine):
    bid = _setup(engine)
    change(engine, control.set_level, "10001", "open", actor="a", reason="öppen")
    change(engine, control.approve_batch, bid, actor="a", reason="ok nu")
    later = _batch(engine, DEMO["10001"], [Period(date(2022, 1, 1), date(2022, 12, 31))])
    assert seen(engine, PUBLIC) == [Y2023.start, Y2024.start]  # the new batch waits for approval
    change(engine, control.approve_batch, later, actor="a", reason="ok nu")
    assert len(seen(engine, PUBLIC)) == 3
    t = change(engine, control.depublish_batch, bid, actor="b", reason="Fel fil inläst")
    assert (t.before, t.after) == ("approved", "depublished")
    assert seen(engine, PUBLIC) == [date(2022, 1, 1)] and seen(engine, VIS) == [date(2022, 1, 1)]
    with engine.connect() as conn:
        row = conn.execute(select(batches).where(batches.c.id == bid)).one()
        assert (row.status, row.depublished_by) == ("depublished", "b")
    assert not change(engine, control.depublish_batch, bid, actor="b", reason="igen").changed
    change(engine, control.approve_batch, bid, actor="c", reason="Rätt fil trots allt")
    assert len(seen(engine, PUBLIC)) == 3


def test_period_rules_narrow_and_depublish_clears_them(engine):
    bid = _setup(engine)
    change(engine, control.approve_batch, bid, actor="a", reason="ok nu")
    change(engine, control.set_level, "10001", "open", actor="a", reason="öppen")
    t = change(engine, control.set_level, "10001", "unpublished", actor="a", reason="2023 omräknas", period=Y2023)
    assert (t.before, t.after) == (states.INHERITED, "unpublished")
    assert seen(engine, PUBLIC) == [Y2024.start]
    change(engine, control.set_level, "10001", "unpublished", actor="a", reason="allt dolt")
    change(engine, control.set_level, "10001", "open", actor="a", reason="bara 2024", period=Y2024)
    assert seen(engine, PUBLIC) == [Y2024.start]
    with engine.connect() as conn:
        assert visible_indicator_ids(conn, PUBLIC) == {control.indicator_id(conn, "10001")}  # its values show, so does its text
        assert list(visible_descriptions(conn, PUBLIC)) == ["10001"]
    t = change(engine, control.depublish_indicator, "10001", actor="a", reason="ut ur alla kanaler")
    assert t.after == "depublished" and seen(engine, PUBLIC) == []
    with engine.connect() as conn:
        assert {r.level for r in control.rules_of(conn, control.indicator_id(conn, "10001"))} == {Level.UNPUBLISHED}
    with pytest.raises(PublishError) as exc:
        control.parse_period("2024-12-31", "2024-01-01")
    assert exc.value.code == "PERIOD"
    assert control.parse_period("20240101", "2024-03-31") == Period(date(2024, 1, 1), date(2024, 3, 31))


def test_publishing_needs_a_description_without_errors(engine):
    _setup(engine, "10008", describe=False)
    with pytest.raises(PublishError) as exc:
        change(engine, control.set_level, "10008", "open", actor="a", reason="öppna")
    assert exc.value.code == "NO_DESCRIPTION"
    # A description judged against results loaded since import: proportions under a count indicator.
    assert cs.import_text(engine, jsonformat.dumps([description_for(DEMO["10008"])]), "r").written is False  # results contradict it
    assert cs.import_text(engine, jsonformat.dumps([description_for(DEMO["10001"])]), "r", approve_as="g").ok
    _batch(engine, DEMO["10001"], [Period(date(2021, 1, 1), date(2021, 12, 31))], result=Continuous(3.0, 10))
    with pytest.raises(PublishError) as exc:
        change(engine, control.set_level, "10001", "restricted", actor="a", reason="begränsa")
    assert exc.value.code == "DESCRIPTION_ERRORS" and [f.code for f in exc.value.details] == ["UNIT_KIND"]
    assert not change(engine, control.set_level, "10001", "unpublished", actor="a", reason="dölj").changed  # hiding always works
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(publication_log)).scalar_one() == 0


def test_refusals_change_nothing(engine):
    _setup(engine)
    for call in (
        lambda: change(engine, control.set_level, "10001", "open", actor="a", reason=" "),
        lambda: change(engine, control.set_level, "nope", "open", actor="a", reason="skäl"),
        lambda: change(engine, control.approve_batch, 4711, actor="a", reason="skäl"),
        lambda: change(engine, control.depublish_indicator, "10001", actor="a", reason=""),
    ):
        with pytest.raises(PublishError):
            call()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(publication_log)).scalar_one() == 0
    assert not change(engine, control.depublish_indicator, "10001", actor="a", reason="inget att ta bort").changed


def test_restricted_is_for_agreed_consumers_only(engine):
    bid = _setup(engine)
    change(engine, control.approve_batch, bid, actor="a", reason="ok nu")
    change(engine, control.set_level, "10001", "restricted", actor="a", reason="bara VIS")
    _agreement(engine, OTHER.consumer_hsa_id, None)  # an agreement covering every restricted indicator
    assert seen(engine, OTHER) == [Y2023.start, Y2024.start] and seen(engine, VIS) == [] and seen(engine, PUBLIC) == []
    assert seen(engine, replace(OTHER, on=date(2024, 12, 31))) == []  # before the agreement starts

"""Helpers for the import tests: indicators, sample measurements, database snapshots."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from indikera import demo
from indikera.domain import oids
from indikera.domain.measurements import Cohort, ConfidenceInterval, Continuous, Measurement, Missing, Proportion, ReasonCode, SourceSystem
from indikera.domain.organisations import Identifier, Organisation, OrgType, kommun, lan, riket
from indikera.domain.periods import Period
from indikera.domain.statistics import wilson_interval
from indikera.store.all_tables import metadata
from indikera.store.db import writer
from indikera.store.repositories import upsert_indicator

REG = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE2321000000-TESTREG", "Testregistret")
Y2024 = Period(date(2024, 1, 1), date(2024, 12, 31))
Y2023 = Period(date(2023, 1, 1), date(2023, 12, 31))


def seed_indicators(engine: Engine) -> None:
    with writer(engine).begin() as conn:
        for spec in demo.INDICATORS:
            upsert_indicator(conn, spec.indicator)


def organisations() -> dict[str, Organisation]:
    land = riket()
    sthlm = lan("01", "Region Stockholm", land)
    vbotten = lan("24", "Region Västerbotten", land)
    ks = Organisation(OrgType.SJUKHUS, "Karolinska universitetssjukhuset", org_id=Identifier(oids.SJUKHUS_ROOT, "11001"), parent=sthlm)
    nus = Organisation(OrgType.SJUKHUS, "Norrlands universitetssjukhus", hsa_id="SE2321000222-NUS", parent=vbotten)
    return {
        "riket": land,
        "01": sthlm,
        "24": vbotten,
        "ks": ks,
        "nus": nus,
        "u1": Organisation(OrgType.VARDENHET, "Strokeenheten KS", hsa_id="SE2321000016-U1", parent=ks),
        "u2": Organisation(OrgType.VARDENHET, "Medicinkliniken KS", hsa_id="SE2321000016-U2", parent=ks),
        "u3": Organisation(OrgType.VARDENHET, "Vårdcentralen Solna", hsa_id="SE2321000016-U3", parent=kommun("0184", "Solna", sthlm)),
        "u4": Organisation(OrgType.VARDENHET, "Strokeenheten NUS", hsa_id="SE2321000222-U4", parent=nus),
        "u5": Organisation(OrgType.VARDENHET, "Länsmottagningen", hsa_id="SE2321000222-U5", parent=vbotten),
    }


def prop(mid: str, period: Period, org: Organisation, num: int, den: int, **kw) -> Measurement:
    return Measurement(mid, 1, period, org, Proportion(num, den), REG, ci=ConfidenceInterval(*wilson_interval(num, den)), **kw)


def sample() -> list[Measurement]:
    """Large counts only (nothing to mask), every organisation level and every measure kind."""
    o = organisations()
    out: list[Measurement] = []
    for period, shift in ((Y2023, 0), (Y2024, 7)):
        for i, key in enumerate(("riket", "01", "24", "ks", "nus", "u1", "u2", "u3", "u4", "u5")):
            den = 400 + 37 * i + shift
            out.append(prop("10001", period, o[key], den * 3 // 4 - i, den, coverage=0.93))
            out.append(Measurement("10005", 1, period, o[key], Continuous(30.5 + i, 50 + i), REG,
                                   ci=ConfidenceInterval(28.0 + i, 33.25 + i), standard_deviation=4.5))
            out.append(Measurement("10008", 1, period, o[key], Cohort(120 + i * 10 + shift), REG))
    return out


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, for "exactly as before" comparisons."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(map(repr, r)) for r in rows))
    return out


def many(n_units: int, years=range(2015, 2025), mid: str = "10001") -> list[Measurement]:
    """A larger file: ``n_units`` care units spread over the län, one yearly value per unit and year."""
    from indikera import refdata

    land = riket()
    names = {"01": "Region Stockholm", "24": "Region Västerbotten"}  # as in organisations()
    lans = {code: lan(code, names.get(code, item.name), land) for code, item in sorted(refdata.lan().items())}
    codes = sorted(lans)
    units = [
        Organisation(OrgType.VARDENHET, f"Enhet {i}", hsa_id=f"SE2321000000-B{i:06d}", parent=lans[codes[i % len(codes)]])
        for i in range(n_units)
    ]
    out = []
    for y in years:
        period = Period(date(y, 1, 1), date(y, 12, 31))
        for i, u in enumerate(units):
            den = 100 + (i * 7 + y) % 400
            out.append(prop(mid, period, u, den // 2 + (i % 9), den))
    return out


def import_file(engine: Engine, path, settings=None, **apply_kw):
    """Validate and apply one file as ``indikera import results`` does; the file must be valid."""
    from indikera.config import Settings
    from indikera.ingest.importer import apply, validate

    settings = settings or Settings(database_url=str(engine.url))
    plan = validate(engine, path, settings)
    assert plan.ok, [p.render() for p in plan.problems.shown]
    try:
        return apply(engine, plan, settings, actor="tester", **apply_kw)
    finally:
        plan.spool.close()

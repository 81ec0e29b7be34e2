"""A deterministic, realistic synthetic registry for demos and tests ("Demoregistret").

16 indicators (proportions, medians, means, days and counts; two with sex sub-measures), Riket,
all 21 län, 40 hospitals and 300 care units under län, kommun or sjukhus; 5 yearly periods and 8
quarters. Unit values are drawn from a seeded generator; hospital, län and Riket values aggregate
their units, so numerators and denominators add up. Small values are masked (MSK) as an import masks
them, secondary suppression included; empty ones are INV, and a few units have not reported (UNK).
Everything is synthetic: no real patient data.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, insert, select

from . import refdata
from .domain import oids
from .domain.indicators import Frequency, Indicator, Sex, UnitType
from .domain.measurements import (
    Cohort,
    ConfidenceInterval,
    Continuous,
    Measurement,
    Missing,
    Proportion,
    ReasonCode,
    SourceSystem,
)
from .domain.organisations import Identifier, Organisation, OrgType, kommun, lan, riket
from .domain.periods import Period
from .domain.disclosure.masking import group_by_family_year, mask_measurements
from .domain.statistics import Z95, needs_masking, wilson_interval
from .store.catalog_tables import publication_log, publication_rules
from .store.db import writer
from .store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    measurement_row,
    upsert_indicator,
    utcnow,
)
from .store.tables import batches, measurements, settings

SEED = 20240101
DEMO_REGISTRY_HSA_ID = "SE2321000000-DEMOREG"
SOURCE = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, DEMO_REGISTRY_HSA_ID, "Demoregistret")
ALL_LEVELS = frozenset({OrgType.LAND, OrgType.LAN, OrgType.SJUKHUS, OrgType.VARDENHET})
YEARS = (2021, 2022, 2023, 2024, 2025)
QUARTERS = tuple((y, q) for y in (2024, 2025) for q in (1, 2, 3, 4))


@dataclass(frozen=True)
class DemoIndicator:
    indicator: Indicator
    base: float  # typical rate, or typical value
    spread: float
    level: str = "open"  # demo publication level


def _ind(mid, title, unit, freq=Frequency.YEAR, parent=None, sex=None, threshold=None) -> Indicator:
    return Indicator(mid, 1, title, unit, freq, ALL_LEVELS, parent, sex, threshold)


INDICATORS: tuple[DemoIndicator, ...] = (
    DemoIndicator(_ind("10001", "Vård på strokeenhet", UnitType.ANDEL, Frequency.QUARTER), 0.88, 0.06),
    DemoIndicator(_ind("10002", "Vård på strokeenhet, kvinnor", UnitType.ANDEL, parent="10001", sex=Sex.FEMALE), 0.87, 0.06),
    DemoIndicator(_ind("10003", "Vård på strokeenhet, män", UnitType.ANDEL, parent="10001", sex=Sex.MALE), 0.89, 0.06),
    DemoIndicator(_ind("10004", "Operation inom 24 timmar vid höftfraktur", UnitType.ANDEL, Frequency.QUARTER), 0.72, 0.1),
    DemoIndicator(_ind("10005", "Dörr till nål-tid vid trombolys, median (minuter)", UnitType.MEDIAN), 32.0, 8.0),
    DemoIndicator(_ind("10006", "Väntetid från remiss till operation, median (dagar)", UnitType.MEDIAN, Frequency.QUARTER), 45.0, 15.0),
    DemoIndicator(_ind("10007", "Medelvårdtid efter höftprotesoperation (dagar)", UnitType.DAGAR), 3.1, 0.8),
    DemoIndicator(_ind("10008", "Antal registrerade kataraktoperationer", UnitType.ANTAL), 400.0, 150.0),
    DemoIndicator(_ind("10009", "HbA1c hos personer med typ 1-diabetes, medelvärde (mmol/mol)", UnitType.MEDELVARDE), 60.0, 4.0),
    DemoIndicator(_ind("10010", "HbA1c under 52 mmol/mol vid typ 1-diabetes", UnitType.ANDEL), 0.30, 0.08),
    DemoIndicator(_ind("10011", "HbA1c under 52 mmol/mol vid typ 1-diabetes, kvinnor", UnitType.ANDEL, parent="10010", sex=Sex.FEMALE), 0.31, 0.08),
    DemoIndicator(_ind("10012", "HbA1c under 52 mmol/mol vid typ 1-diabetes, män", UnitType.ANDEL, parent="10010", sex=Sex.MALE), 0.29, 0.08),
    DemoIndicator(_ind("10013", "Överlevnad 30 dagar efter hjärtinfarkt", UnitType.ANDEL, Frequency.QUARTER), 0.91, 0.03),
    DemoIndicator(_ind("10014", "Antal vårdtillfällen för KOL", UnitType.ANTAL), 120.0, 60.0),
    DemoIndicator(_ind("10015", "Läkemedelsgenomgång för äldre", UnitType.ANDEL), 0.55, 0.15, level="restricted"),
    DemoIndicator(_ind("10016", "Återinskrivning inom 30 dagar", UnitType.ANDEL), 0.12, 0.04, level="unpublished"),
)


@dataclass(frozen=True)
class Unit:
    org: Organisation
    lan_code: str
    hospital: Organisation | None
    size: float  # relative patient volume


def periods_for(ind: Indicator) -> list[Period]:
    out = [Period(date(y, 1, 1), date(y, 12, 31)) for y in YEARS]
    if ind.frequency is Frequency.QUARTER:
        for y, q in QUARTERS:
            start = date(y, 3 * q - 2, 1)
            end_month = 3 * q
            end = date(y, 12, 31) if end_month == 12 else date.fromordinal(date(y, end_month + 1, 1).toordinal() - 1)
            out.append(Period(start, end))
    return out


def build_organisations(rng: random.Random) -> tuple[Organisation, dict[str, Organisation], list[Organisation], list[Unit]]:
    land = riket()
    lans = {code: lan(code, item.name, land) for code, item in sorted(refdata.lan().items())}
    kommuner_by_lan: dict[str, list] = {}
    for k in sorted(refdata.kommuner().values(), key=lambda k: k.code):
        kommuner_by_lan.setdefault(k.lan_code, []).append(k)
    codes = sorted(lans)
    hospitals: list[Organisation] = []
    hospital_lan: dict[str, str] = {}
    for i in range(40):
        code = codes[i % len(codes)]
        seat = kommuner_by_lan[code][(i // len(codes)) % len(kommuner_by_lan[code])]
        name = f"{'Universitetssjukhuset' if i < 7 else 'Länssjukhuset'} i {seat.name}"
        if i % 4 == 3:  # a quarter of the hospitals are identified by HSA-id instead of sjukhuskod
            h = Organisation(OrgType.SJUKHUS, name, hsa_id=f"SE2321000000-S{i:04d}", parent=lans[code])
        else:
            h = Organisation(OrgType.SJUKHUS, name, org_id=Identifier(oids.SJUKHUS_ROOT, f"{51000 + i * 7:05d}"), parent=lans[code])
        hospitals.append(h)
        hospital_lan[h.key] = code
    units: list[Unit] = []
    clinics = ("Medicinkliniken", "Ortopedkliniken", "Kardiologkliniken", "Strokeenheten", "Ögonkliniken")
    for i in range(300):
        hsa = f"SE2321000000-E{i:04d}"
        size = rng.lognormvariate(0, 0.9)
        if i < 150:
            h = hospitals[i % len(hospitals)]
            code = hospital_lan[h.key]
            name = f"{clinics[i % len(clinics)]}, {h.name}"
            org = Organisation(OrgType.VARDENHET, name, hsa_id=hsa, parent=h)
            units.append(Unit(org, code, h, size * 2))
        elif i < 250:
            code = codes[i % len(codes)]
            k = kommuner_by_lan[code][i % len(kommuner_by_lan[code])]
            org = Organisation(OrgType.VARDENHET, f"Vårdcentralen {k.name} {i}", hsa_id=hsa, parent=kommun(k.code, k.name, lans[code]))
            units.append(Unit(org, code, None, size * 0.5))
        else:
            code = codes[i % len(codes)]
            org = Organisation(OrgType.VARDENHET, f"Regional specialistmottagning {lans[code].name} {i}", hsa_id=hsa, parent=lans[code])
            units.append(Unit(org, code, None, size))
    return land, lans, hospitals, units


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _proportion(num: int, den: int, threshold: int) -> tuple[object, ConfidenceInterval | None]:
    if den == 0:
        return Missing(ReasonCode.INV), None
    if needs_masking(numerator=num, denominator=den, threshold=threshold):
        return Missing(ReasonCode.MSK), None
    low, high = wilson_interval(num, den)
    return Proportion(num, den), ConfidenceInterval(low, high)


def _continuous(value: float, n: int, sd: float, threshold: int) -> tuple[object, ConfidenceInterval | None, float | None]:
    if n == 0:
        return Missing(ReasonCode.INV), None, None
    if n < threshold:
        return Missing(ReasonCode.MSK), None, None
    value = round(value, 1)
    half = Z95 * sd / math.sqrt(n)
    return Continuous(value, n), ConfidenceInterval(max(0.0, round(value - half, 3)), round(value + half, 3)), round(sd, 3)


def generate(threshold: int = 5) -> Iterator[Measurement]:
    """Every demo measurement, deterministically, masked as an import masks them: small values (primary)
    and the canonical secondary suppression that the LP audit proves protective, one indicator family and
    calendar year at a time (``domain.disclosure``)."""
    indicators = {spec.indicator.measure_id: spec.indicator for spec in INDICATORS}
    for items in group_by_family_year(list(_generate_unmasked(threshold)), indicators):
        yield from mask_measurements(items, indicators, threshold).measurements


def _generate_unmasked(threshold: int) -> Iterator[Measurement]:
    """The synthetic values; proportions and means already hide their small cells (primary rule)."""
    rng = random.Random(SEED)
    land, lans, hospitals, units = build_organisations(rng)
    for spec in INDICATORS:
        ind = spec.indicator
        irng = random.Random(f"{SEED}-{ind.measure_id}")
        unit_effect = {u.org.key: irng.gauss(0, spec.spread) for u in units}
        for period in periods_for(ind):
            share = period.days / 365.0
            year_drift = (period.start.year - 2021) * 0.01
            groups: dict[str, list[tuple[int, int]]] = {}
            for u in units:
                key = u.org.key
                if irng.random() < 0.02:  # has not reported
                    yield _m(ind, period, u.org, Missing(ReasonCode.UNK), None)
                    continue
                n = _poisson(irng, 60 * u.size * share)
                parents = [u.lan_code, "SE"] + ([u.hospital.key] if u.hospital else [])
                if ind.kind.value == "proportion":
                    p = _clip(spec.base + year_drift + unit_effect[key], 0.01, 0.99)
                    num = sum(1 for _ in range(n) if irng.random() < p)
                    result, ci = _proportion(num, n, threshold)
                    yield _m(ind, period, u.org, result, ci, coverage=round(_clip(irng.gauss(0.93, 0.04), 0.5, 1.0), 3))
                    for g in parents:
                        groups.setdefault(g, []).append((num, n))
                elif ind.kind.value == "continuous":
                    value = max(0.1, spec.base * (1 - year_drift) + unit_effect[key])
                    result, ci, sd = _continuous(value, n, spec.spread * 2, threshold)
                    yield _m(ind, period, u.org, result, ci, sd=sd, coverage=round(_clip(irng.gauss(0.9, 0.05), 0.5, 1.0), 3))
                    for g in parents:
                        groups.setdefault(g, []).append((value, n))
                else:
                    count = max(0, round(spec.base * u.size * share / 3 + unit_effect[key]))
                    yield _m(ind, period, u.org, Cohort(count), None)
                    for g in parents:
                        groups.setdefault(g, []).append((count, 1))
            aggregates = [(h, h.key) for h in hospitals] + [(lans[c], c) for c in sorted(lans)] + [(land, "SE")]
            for org, gkey in aggregates:
                parts = groups.get(gkey, [])
                if ind.kind.value == "proportion":
                    num, den = sum(a for a, _ in parts), sum(b for _, b in parts)
                    result, ci = _proportion(num, den, threshold)
                    yield _m(ind, period, org, result, ci)
                elif ind.kind.value == "continuous":
                    n = sum(b for _, b in parts)
                    value = sum(a * b for a, b in parts) / n if n else 0.0
                    result, ci, sd = _continuous(value, n, spec.spread * 2, threshold)
                    yield _m(ind, period, org, result, ci, sd=sd)
                else:
                    yield _m(ind, period, org, Cohort(sum(a for a, _ in parts)), None)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _m(ind: Indicator, period: Period, org: Organisation, result, ci, sd=None, coverage=None) -> Measurement:
    return Measurement(
        measure_id=ind.measure_id,
        version=ind.version,
        period=period,
        organisation=org,
        result=result,
        source_system=SOURCE,
        ci=ci,
        standard_deviation=sd if not isinstance(result, Missing) else None,
        coverage=coverage,
    )


def build(engine: Engine, *, progress: Callable[[int], None] | None = None, actor: str = "demo") -> int:
    """Load the demo registry into an empty, migrated database. Returns the number of measurements."""
    total = 0
    with writer(engine).begin() as conn:
        if conn.execute(select(settings.c.value).where(settings.c.key == "demo")).first():
            raise RuntimeError("this database already holds the demo registry")
        ids = {spec.indicator.measure_id: upsert_indicator(conn, spec.indicator) for spec in INDICATORS}
        orgs = OrganisationRepository(conn)
        source_id = ensure_source_system(conn, SOURCE)
        digest = hashlib.sha256(f"demo-{SEED}".encode()).hexdigest()
        batch_id = create_batch(conn, registry=DEMO_REGISTRY_HSA_ID, file_name="demo", sha256=digest, fmt="demo", actor=actor)

        def rows():
            nonlocal total
            for m in generate():
                total += 1
                if progress and total % 1000 == 0:
                    progress(1000)
                yield measurement_row(
                    m,
                    indicator_id=ids[m.measure_id],
                    organisation_id=orgs.ensure(m.organisation),
                    source_system_id=source_id,
                    batch_id=batch_id,
                )

        insert_measurements(conn, rows())
        now = utcnow()
        conn.execute(
            batches.update().where(batches.c.id == batch_id).values(added=total, status="approved", approved_by=actor, approved_at=now)
        )
        conn.execute(measurements.update().where(measurements.c.batch_id == batch_id).values(visible_since=now))  # approved now
        for spec in INDICATORS:
            conn.execute(
                insert(publication_rules).values(
                    indicator_id=ids[spec.indicator.measure_id], level=spec.level, changed_by=actor, changed_at=now,
                    reason="demo registry",
                )
            )
            conn.execute(
                insert(publication_log).values(
                    at=now, actor=actor, action="publish", indicator_id=ids[spec.indicator.measure_id],
                    level_before="unpublished", level_after=spec.level, reason="demo registry",
                )
            )
        from .catalog.demo_descriptions import seed as seed_descriptions  # catalogue texts for every demo indicator

        seed_descriptions(conn, [spec.indicator for spec in INDICATORS], actor)
        conn.execute(insert(settings).values(key="demo", value=str(SEED)))
    return total

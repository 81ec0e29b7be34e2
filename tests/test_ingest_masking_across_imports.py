"""Secondary suppression looks at everything published after an import, not only at the file: a file that
adds units next to totals loaded earlier must not make a masked value recoverable by subtraction."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from indikera import refdata
from indikera.config import Settings
from indikera.domain import oids
from indikera.domain.measurements import Measurement, Proportion
from indikera.domain.organisations import Identifier, Organisation, OrgType, lan, riket
from indikera.ingest.export import write_csv
from indikera.store import db as store_db
from indikera.store.tables import indicators, measurements, organisations

from .support.disclosure import pinned
from .support.ingest_files import REG, Y2024, import_file, seed_indicators

SEXES = {"10002": "K", "10003": "M"}  # the demo family: 10001 = 10002 (women) + 10003 (men)
LANS = sorted(refdata.lan())[:3]


@st.composite
def registries(draw):
    """Units under hospitals and län, each unit's counts per sex, and which file carries each value."""
    land = riket()
    aggregates, leaves = [land], []
    for li, code in enumerate(LANS[:draw(st.integers(1, 3))]):
        ln = lan(code, f"Län {code}", land)
        aggregates.append(ln)
        for hi in range(draw(st.integers(0, 2))):
            h = Organisation(OrgType.SJUKHUS, f"Sjukhus {li}{hi}", org_id=Identifier(oids.SJUKHUS_ROOT, f"5{li}{hi}00"), parent=ln)
            aggregates.append(h)
            for ui in range(draw(st.integers(1, 3))):
                leaves.append((Organisation(OrgType.VARDENHET, f"Enhet {li}{hi}{ui}", hsa_id=f"SE1-E{li}{hi}{ui}", parent=h),
                               [land, ln, h]))
        for ui in range(draw(st.integers(0, 2))):
            leaves.append((Organisation(OrgType.VARDENHET, f"Enhet {li}x{ui}", hsa_id=f"SE1-E{li}x{ui}", parent=ln), [land, ln]))
    counts = {}
    for u, _ in leaves:
        for mid in SEXES:
            den = draw(st.integers(1, 30))
            counts[(mid, u.key)] = (draw(st.integers(0, den)), den)
    totals: dict[tuple[str, str], list[int]] = {}
    for u, ancestors in leaves:
        for mid in SEXES:
            num, den = counts[(mid, u.key)]
            for m in (mid, "10001"):
                for org in [u, *ancestors]:
                    acc = totals.setdefault((m, org.key), [0, 0])
                    acc[0] += num
                    acc[1] += den
    orgs = {u.key: u for u, _ in leaves} | {a.key: a for a in aggregates}
    cells = sorted(totals)
    second = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))  # True: in the later file
    items = {key: Measurement(key[0], 1, Y2024, orgs[key[1]], Proportion(*totals[key]), REG) for key in cells}
    return aggregates, leaves, items, second


def _relations(aggregates, leaves):
    """The sums an attacker knows hold, written independently of the importer."""
    rels = []
    for mid in ("10001", *SEXES):
        for a in aggregates:
            rels.append(((mid, a.key), tuple((mid, u.key) for u, anc in leaves if a in anc)))
    for org in [u for u, _ in leaves] + aggregates:
        rels.append((("10001", org.key), tuple((mid, org.key) for mid in SEXES)))
    return rels


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(registries(), st.integers(3, 12))
def test_no_masked_value_is_derivable_after_two_imports(tmp_path_factory, registry, threshold):
    aggregates, leaves, items, second = registry
    tmp = tmp_path_factory.mktemp("two")
    url = f"sqlite:///{tmp}/t.db"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    seed_indicators(engine)
    settings_ = Settings(database_url=url, default_display_threshold=threshold)
    keys = sorted(items)
    write_csv(tmp / "first.csv", [items[k] for k, later in zip(keys, second) if not later])
    write_csv(tmp / "second.csv", [items[k] for k, later in zip(keys, second) if later])
    for name in ("first.csv", "second.csv"):
        if any(later == (name == "second.csv") for later in second):
            import_file(engine, tmp / name, settings_)
    with engine.connect() as conn:
        stored = conn.execute(
            select(indicators.c.measure_id, organisations.c.key, measurements.c.reason_code, measurements.c.numerator,
                   measurements.c.denominator)
            .join(indicators, indicators.c.id == measurements.c.indicator_id)
            .join(organisations, organisations.c.id == measurements.c.organisation_id)).all()
    engine.dispose()
    assert {(r.measure_id, r.key) for r in stored} == set(items)
    hidden = []
    for r in stored:
        truth = items[(r.measure_id, r.key)].result
        if r.reason_code == "MSK":
            hidden.append((r.measure_id, r.key))
        else:  # published: the true value, and never a small one
            assert (r.numerator, r.denominator) == (truth.numerator, truth.denominator)
            num, den = truth.numerator, truth.denominator
            assert not (den < threshold or 0 < num < 3 or 0 < den - num < 3)
    assert pinned(hidden, _relations(aggregates, leaves)) == []


def test_a_kept_value_is_masked_when_a_new_small_one_would_be_recoverable(engine, tmp_path):
    """Batch 1: a län and two of its units. Batch 2 (KEEP_): a third unit with 2 patients. The län total
    minus the two stored units would give it away, so the smaller stored unit is masked in batch 2."""
    from indikera.store.tables import measurement_history

    seed_indicators(engine)
    ln = lan(LANS[0], "Län", riket())
    a, b, c = (Organisation(OrgType.VARDENHET, f"Enhet {x}", hsa_id=f"SE1-E{x}", parent=ln) for x in "ABC")
    first = [Measurement("10001", 1, Y2024, ln, Proportion(60, 132), REG),
             Measurement("10001", 1, Y2024, a, Proportion(40, 80), REG),
             Measurement("10001", 1, Y2024, b, Proportion(19, 40), REG)]
    write_csv(tmp_path / "first.csv", first)
    write_csv(tmp_path / "second.csv", [Measurement("10001", 1, Y2024, c, Proportion(1, 12), REG)], directive="KEEP_")
    settings_ = Settings(database_url=str(engine.url))
    assert import_file(engine, tmp_path / "first.csv", settings_).masked_secondary == 0
    # The second import writes through a database writer process, re-masking a value stored by the first.
    out = import_file(engine, tmp_path / "second.csv", Settings(database_url=str(engine.url), import_writer_process_min_rows=0))
    assert (out.added, out.changed, out.masked_primary, out.masked_secondary) == (1, 1, 1, 1)
    with engine.connect() as conn:
        masked = conn.execute(select(organisations.c.key).join(measurements, measurements.c.organisation_id == organisations.c.id)
                              .where(measurements.c.reason_code == "MSK")).scalars().all()
        change = conn.execute(select(measurement_history).where(measurement_history.c.batch_id == out.batch_id,
                                                                measurement_history.c.operation == "changed")).one()
    assert sorted(masked) == sorted([b.key, c.key])  # B (40) is smaller than A (80)
    assert (change.before["numerator"], change.after["reason_code"]) == (19, "MSK")

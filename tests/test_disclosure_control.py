"""Disclosure control (domain.disclosure): canonical suppression over linked tables, proven by an LP interval
audit that the test builds independently from the true generated table."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from indikera.domain import oids
from indikera.domain.disclosure.masking import key_of, mask_measurements
from indikera.domain.indicators import Indicator, Sex, UnitType
from indikera.domain.measurements import Measurement, Missing, Proportion, SourceSystem
from indikera.domain.organisations import Identifier, Organisation, OrgType, kommun, lan, riket
from indikera.domain.periods import Period
from indikera.domain.statistics import MIN_CELL, needs_masking

from .support.disclosure import pinned

SRC = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")
YEAR = Period(date(2024, 1, 1), date(2024, 12, 31))
QUARTERS = [Period(date(2024, m, 1), date(2024, m + 2, 30 if m + 2 in (6, 9) else 31)) for m in (1, 4, 7, 10)]


def family(threshold: int) -> dict[str, Indicator]:
    return {
        "P": Indicator("P", 1, "Andel", UnitType.ANDEL, display_threshold=threshold),
        "K": Indicator("K", 1, "Andel, kvinnor", UnitType.ANDEL, parent_measure_id="P", sex=Sex.FEMALE, display_threshold=threshold),
        "M": Indicator("M", 1, "Andel, män", UnitType.ANDEL, parent_measure_id="P", sex=Sex.MALE, display_threshold=threshold),
    }


def independent_intervals(truth: dict, relations: list, hidden: list) -> dict:
    """min/max of each hidden cell's denominator, numerator and complement over all non-negative solutions of
    the true table's equalities with the published cells fixed: one linprog per bound, nothing shared with
    the code under test."""
    col = {}
    for k in hidden:
        col[(k, 0)], col[(k, 1)] = len(col), len(col) + 1
    a_eq, b_eq = [], []
    for total, parts in relations:
        for q in (0, 1):
            row, rhs = np.zeros(len(col)), 0.0
            for key, coef in ((total, -1.0), *((p, 1.0) for p in parts)):
                if (key, q) in col:
                    row[col[(key, q)]] += coef
                else:
                    rhs -= coef * truth[key][q]
            if row.any():
                a_eq.append(row)
                b_eq.append(rhs)
    a_ub = []
    for k in hidden:
        row = np.zeros(len(col))
        row[col[(k, 0)]], row[col[(k, 1)]] = 1, -1
        a_ub.append(row)
    out = {}
    for k in hidden:
        for name, vec in (("den", {1: 1}), ("num", {0: 1}), ("rest", {1: 1, 0: -1})):
            c = np.zeros(len(col))
            for q, v in vec.items():
                c[col[(k, q)]] = v
            bounds = []
            for sign in (1, -1):
                r = linprog(sign * c, A_ub=np.array(a_ub), b_ub=np.zeros(len(a_ub)), A_eq=np.array(a_eq) if a_eq else None,
                            b_eq=np.array(b_eq) if b_eq else None, bounds=(0, None), method="highs")
                assert r.status in (0, 3), r.message
                bounds.append(sign * r.fun if r.status == 0 else float("inf"))
            out[(k, name)] = (np.ceil(bounds[0] - 1e-6), np.floor(bounds[1] + 1e-6) if bounds[1] != float("inf") else bounds[1])
    return out


def assert_protected(truth, relations, hidden, threshold):
    for (k, name), (low, high) in independent_intervals(truth, relations, hidden).items():
        if name == "den":
            assert high - low >= threshold, f"{k} denominator pinned to [{low}, {high}]"
        elif not (high <= 0 or low >= MIN_CELL):
            assert high - low >= MIN_CELL, f"{k} {name} pinned to [{low}, {high}]"


# --- the län example of issue #13 -------------------------------------------------------------------------


def test_lan_with_kommuner_and_hospitals_is_two_relations():
    land = riket()
    skane = lan("12", "Region Skåne", land)
    orgs = {
        "lan": (skane, (192, 240)),
        "malmo": (kommun("1280", "Malmö", skane), (101, 125)),
        "lund": (kommun("1281", "Lund", skane), (90, 113)),
        "hbg": (kommun("1283", "Helsingborg", skane), (1, 2)),
        "h1": (Organisation(OrgType.SJUKHUS, "Sjukhus A", org_id=Identifier(oids.SJUKHUS_ROOT, "12001"), parent=skane), (140, 171)),
        "h2": (Organisation(OrgType.SJUKHUS, "Sjukhus B", org_id=Identifier(oids.SJUKHUS_ROOT, "12002"), parent=skane), (52, 69)),
    }
    items = [Measurement("P", 1, YEAR, o, Proportion(*v), SRC) for o, v in orgs.values()]
    for order in (items, items[::-1]):
        out = mask_measurements(order, family(10), 10)
        hidden = {m.organisation.name for m in out.measurements if isinstance(m.result, Missing)}
        assert "Helsingborg" in hidden and hidden == {"Helsingborg", "Lund"}  # Lund: the cheapest kommun, not a hospital
    key = {name: ("P", orgs[name][0].key) for name in orgs}
    rels = [(key["lan"], (key["malmo"], key["lund"], key["hbg"])), (key["lan"], (key["h1"], key["h2"]))]
    truth = {key[n]: v for n, (_, v) in orgs.items()}
    assert pinned([key["hbg"], key["lund"]], rels) == []
    assert_protected(truth, rels, [key["hbg"], key["lund"]], 10)


# --- random hierarchies: Riket, sjukvårdsregioner, län with kommuner and hospitals, units, sex, quarters ---


@st.composite
def tables(draw):
    rng = random.Random(draw(st.integers(0, 2**32)))
    land = riket()
    n_lan = draw(st.integers(1, 3))
    lans = [lan(f"{i + 1:02d}", f"Län {i}", land) for i in range(n_lan)]
    region = Organisation(OrgType.SJUKVARDSREGION, "Region", org_id=Identifier(oids.SJUKVARDSREGION_ROOT, "SVR-T"), parent=land)
    with_region = n_lan > 1 and draw(st.booleans())
    leaves = {}  # leaf organisation → its listed ancestors (hospital units; kommuner are a second partition)
    kommuner = {}
    for i, ln in enumerate(lans):
        for h in range(draw(st.integers(1, 2))):
            hosp = Organisation(OrgType.SJUKHUS, f"Sjukhus {i}{h}", org_id=Identifier(oids.SJUKHUS_ROOT, f"5{i}{h}00"), parent=ln)
            for u in range(draw(st.integers(1, 2))):
                leaves[Organisation(OrgType.VARDENHET, f"Enhet {i}{h}{u}", hsa_id=f"SE1-E{i}{h}{u}", parent=hosp)] = [hosp, ln]
        kommuner[ln] = [kommun(f"{i + 1:02d}{k + 1:02d}", f"Kommun {i}{k}", ln) for k in range(draw(st.integers(0, 2)))]
    periods = QUARTERS
    # true counts per leaf, sex and quarter; kommuner split the same län total another way
    values = {}
    for leaf in leaves:
        for sex in "KM":
            for p in periods:
                den = rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 30, 60])
                values[(sex, leaf, p)] = (rng.randint(0, den), den)
    totals = {}

    def add(sex, org, p, v):
        acc = totals.setdefault((sex, org.key, p), [0, 0])
        acc[0] += v[0]
        acc[1] += v[1]

    for (sex, leaf, p), v in values.items():
        for org in [leaf, *leaves[leaf], land] + ([region] if with_region else []):
            add(sex, org, p, v)
    for ln, ks in kommuner.items():
        if not ks:
            continue
        for sex in "KM":
            for p in periods:
                num, den = totals[(sex, ln.key, p)]
                dcuts = sorted(rng.randint(0, den) for _ in ks[1:])
                parts_den = [b - a for a, b in zip([0, *dcuts], [*dcuts, den])]
                left = num
                for k, d in zip(ks, parts_den):
                    n = min(left, d) if k is ks[-1] else rng.randint(max(0, left - (den - d)), min(left, d)) if d else 0
                    totals[(sex, k.key, p)] = [n, d]
                    left -= n
                    den -= d
                if left:  # the split must add up: put the rest in the last kommun (capacity checked below)
                    return None
    orgs = {o.key: o for o in [land, *lans, *leaves, *[h for anc in leaves.values() for h in anc]]
            + [k for ks in kommuner.values() for k in ks] + ([region] if with_region else [])}
    cells = {}
    for (sex, okey, p), (num, den) in totals.items():
        for mid in (sex, "P"):
            acc = cells.setdefault((mid, okey, p), [0, 0])
            acc[0] += num
            acc[1] += den
    for (mid, okey, p), (num, den) in list(cells.items()):  # the year = sum of its quarters
        acc = cells.setdefault((mid, okey, YEAR), [0, 0])
        acc[0] += num
        acc[1] += den
    return land, lans, region if with_region else None, leaves, kommuner, orgs, cells


def true_relations(land, lans, region, leaves, kommuner, orgs, cells):
    """The sums that hold in the generated table, written from the generator's structure."""
    rels = []
    hospitals = sorted({anc[0] for anc in leaves.values()}, key=lambda o: o.key)
    for (mid, okey, p) in cells:
        if okey != land.key:
            continue
        k = lambda o: (mid, o.key, p)  # noqa: E731
        rels.append((k(land), tuple(k(ln) for ln in lans)))
        if region is not None:
            rels.append((k(region), tuple(k(ln) for ln in lans)))
            rels.append((k(land), (k(region),)))
        for ln in lans:
            rels.append((k(ln), tuple(k(h) for h in hospitals if h.parent is ln)))
            if kommuner[ln]:
                rels.append((k(ln), tuple(k(x) for x in kommuner[ln])))
        for h in hospitals:
            rels.append((k(h), tuple(k(u) for u in leaves if u.parent is h)))
    for (mid, okey, p) in cells:
        if mid == "P":
            rels.append((("P", okey, p), (("K", okey, p), ("M", okey, p))))
        if p == YEAR:
            rels.append(((mid, okey, p), tuple((mid, okey, q) for q in QUARTERS)))
    return rels


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tables(), st.integers(3, 10), st.randoms(use_true_random=False))
def test_masks_are_canonical_and_pass_an_independent_audit(table, threshold, rnd):
    if table is None:
        return
    land, lans, region, leaves, kommuner, orgs, cells = table
    items = [Measurement(mid, 1, p, orgs[okey], Proportion(num, den), SRC)
             for (mid, okey, p), (num, den) in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2].start))
             if den > 0]
    regions = {region.key: tuple(ln.key for ln in lans)} if region is not None else {}
    first = mask_measurements(items, family(threshold), 99, regions)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    second = mask_measurements(shuffled, family(threshold), 99, regions)
    hidden = {key_of(m) for m in first.measurements if isinstance(m.result, Missing)}
    assert hidden == {key_of(m) for m in second.measurements if isinstance(m.result, Missing)}  # canonical
    for m in first.measurements:
        if not isinstance(m.result, Missing):
            assert not needs_masking(numerator=m.result.numerator, denominator=m.result.denominator, threshold=threshold)
    # the independent audit: zero-denominator cells are not values (INV), so relations through them are left out
    present = {(m.measure_id, m.organisation.key, m.period) for m in items}
    truth = {k: tuple(v) for k, v in cells.items()}
    rels = [r for r in true_relations(land, lans, region, leaves, kommuner, orgs, cells)
            if all(x in present for x in (r[0], *r[1]))]
    hidden_keys = sorted(((m.measure_id, m.organisation.key, m.period) for m in first.measurements
                          if isinstance(m.result, Missing)), key=lambda k: (k[0], k[1], k[2].start, k[2].end))
    assert pinned(hidden_keys, rels) == []
    assert_protected(truth, rels, hidden_keys, threshold)

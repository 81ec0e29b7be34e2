"""Small-count masking and secondary suppression (domain.disclosure): no hidden value can be recovered by
subtraction. The hand-made cases speak in cells and relations; the property masks random hierarchy × sex
tables and checks with an independent rank test that no hidden cell is determined."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indikera.domain import oids
from indikera.domain.indicators import Indicator, Sex, UnitType
from indikera.domain.measurements import Measurement, Missing, Proportion, ReasonCode, SourceSystem
from indikera.domain.organisations import Identifier, Organisation, OrgType, lan, riket
from indikera.domain.periods import Period
from indikera.domain.disclosure import Cell, Relation, audit, protect
from indikera.domain.disclosure.masking import mask_measurements
from indikera.domain.statistics import needs_masking

from .support.disclosure import pinned

SRC = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")
PERIOD = Period.parse("20240101", "20241231")
FAMILY = {
    "P": Indicator("P", 1, "Andel", UnitType.ANDEL),
    "K": Indicator("K", 1, "Andel, kvinnor", UnitType.ANDEL, parent_measure_id="P", sex=Sex.FEMALE),
    "M": Indicator("M", 1, "Andel, män", UnitType.ANDEL, parent_measure_id="P", sex=Sex.MALE),
}


def test_primary_rule_examples():
    assert needs_masking(numerator=2, denominator=40, threshold=5)  # 2 people
    assert needs_masking(numerator=38, denominator=40, threshold=5)  # all but 2
    assert needs_masking(numerator=3, denominator=4, threshold=5)  # below the threshold
    assert not needs_masking(numerator=0, denominator=40, threshold=5)
    assert not needs_masking(numerator=40, denominator=40, threshold=5)
    assert not needs_masking(numerator=3, denominator=6, threshold=5)
    assert needs_masking(population=4, threshold=5) and not needs_masking(population=5, threshold=5)
    assert needs_masking(count=2, threshold=5) and not needs_masking(count=0, threshold=5)


def _cohorts(values: dict[str, int], threshold: int = 5, fixed: frozenset = frozenset()) -> list[Cell]:
    """One-quantity cells (counts) keyed by name; small ones are primary."""
    return [Cell((k,), "cohort", (float(v),), threshold, small=needs_masking(count=v, threshold=threshold) and k not in fixed,
                 fixed=k in fixed) for k, v in sorted(values.items())]


def _eq(total: str, *parts: str) -> Relation:
    return Relation((total,), tuple((p,) for p in sorted(parts)))


def test_single_hidden_part_pulls_the_cheapest_sibling():
    decision = protect(_cohorts({"T": 30, "a": 2, "b": 20, "c": 8}), [_eq("T", "a", "b", "c")])
    assert decision.hidden == {("a",), ("c",)} and decision.ok  # c: the smallest other part, width 2 + 8 ≥ 5


def test_fixed_cells_are_never_hidden():
    decision = protect(_cohorts({"T": 30, "a": 2, "b": 28}, fixed=frozenset({"b"})), [_eq("T", "a", "b")])
    assert ("b",) not in decision.hidden
    # a = T − b with b published: only hiding the total too leaves a open
    assert decision.hidden == {("a",), ("T",)} and decision.ok


def test_pinned_across_two_dimensions():
    # x1+x2 = A, x2+x3 = B, x1+x3 = C: every relation has two hidden cells, yet all three are pinned down.
    cells = {c.key: c for c in _cohorts({"A": 20, "B": 20, "C": 20, "x1": 10, "x2": 10, "x3": 10})}
    rels = [_eq("A", "x1", "x2"), _eq("B", "x2", "x3"), _eq("C", "x1", "x3")]
    result = audit(cells, rels, [("x1",), ("x2",), ("x3",)])
    assert {i.key for i in result.failures} == {("x1",), ("x2",), ("x3",)}
    assert all(i.low == i.high == 10.0 for i in result.intervals if i.exact)  # x1 = (A − B + C) / 2
    small = _cohorts({"A": 10, "B": 10, "C": 4, "x1": 2, "x2": 8, "x3": 2})
    decision = protect(small, rels)
    assert decision.ok and ("x1",) in decision.hidden


# --- the property: build an additive hierarchy × sex table, mask it, try to recover hidden cells ---------


@st.composite
def tables(draw):
    land = riket()
    leaves: list[tuple[Organisation, list[Organisation]]] = []  # (unit, its listed ancestors)
    aggregates: list[Organisation] = [land]
    with_hospitals = draw(st.booleans())
    for li in range(draw(st.integers(1, 3))):
        ln = lan(f"{li + 1:02d}", f"Län {li}", land)
        aggregates.append(ln)
        for hi in range(draw(st.integers(0, 2))):
            h = Organisation(OrgType.SJUKHUS, f"Sjukhus {li}{hi}", org_id=Identifier(oids.SJUKHUS_ROOT, f"5{li}{hi}00"), parent=ln)
            if with_hospitals:
                aggregates.append(h)
            for ui in range(draw(st.integers(1, 3))):
                u = Organisation(OrgType.VARDENHET, f"Enhet {li}{hi}{ui}", hsa_id=f"SE1-E{li}{hi}{ui}", parent=h)
                leaves.append((u, [land, ln] + ([h] if with_hospitals else [])))
        for ui in range(draw(st.integers(0, 2))):
            u = Organisation(OrgType.VARDENHET, f"Enhet {li}x{ui}", hsa_id=f"SE1-E{li}x{ui}", parent=ln)
            leaves.append((u, [land, ln]))
    counts = {}
    for u, _ in leaves:
        for sex in ("K", "M"):
            den = draw(st.integers(1, 25))
            counts[(sex, u.key)] = (draw(st.integers(0, den)), den)
    return aggregates, leaves, counts


def _measurements(aggregates, leaves, counts):
    totals: dict[tuple[str, str], list[int]] = {}
    for u, ancestors in leaves:
        for sex in ("K", "M"):
            num, den = counts[(sex, u.key)]
            for mid in (sex, "P"):
                for org in [u, *ancestors]:
                    acc = totals.setdefault((mid, org.key), [0, 0])
                    acc[0] += num
                    acc[1] += den
    orgs = {u.key: u for u, _ in leaves} | {a.key: a for a in aggregates}
    return [
        Measurement(mid, 1, PERIOD, orgs[okey], Proportion(num, den), SRC)
        for (mid, okey), (num, den) in sorted(totals.items())
    ]


def _true_relations(aggregates, leaves):
    """The sums an attacker knows hold, written independently of the code under test."""
    rels = []
    for mid in ("P", "K", "M"):
        for a in aggregates:
            parts = tuple((mid, u.key) for u, anc in leaves if a in anc)
            rels.append(((mid, a.key), parts))
    for org in [u for u, _ in leaves] + aggregates:
        rels.append((("P", org.key), (("K", org.key), ("M", org.key))))
    return rels


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(3, 12))
def test_no_hidden_value_is_derivable(table, threshold):
    aggregates, leaves, counts = table
    items = _measurements(aggregates, leaves, counts)
    family = {k: Indicator(v.measure_id, 1, v.title, v.unit_type, parent_measure_id=v.parent_measure_id, sex=v.sex, display_threshold=threshold) for k, v in FAMILY.items()}
    out = mask_measurements(items, family, default_threshold=99)
    hidden = []
    for before, after in zip(items, out.measurements):
        key = (before.measure_id, before.organisation.key)
        r = before.result
        small = needs_masking(numerator=r.numerator, denominator=r.denominator, threshold=threshold)
        if isinstance(after.result, Missing):
            assert after.result.reason is ReasonCode.MSK and after.ci is None
            hidden.append(key)
        else:
            assert not small, f"{key} is too small to publish but was published"
            assert after == before
    assert out.primary + out.secondary == len(hidden)
    assert pinned(hidden, _true_relations(aggregates, leaves)) == []


def test_sex_split_needs_a_second_hidden_sex():
    ln = lan("01", "Stockholm", riket())
    u = Organisation(OrgType.VARDENHET, "Enhet", hsa_id="SE1-E1", parent=ln)
    items = [
        Measurement("P", 1, PERIOD, u, Proportion(30, 60), SRC),
        Measurement("K", 1, PERIOD, u, Proportion(2, 20), SRC),  # 2 women: primary
        Measurement("M", 1, PERIOD, u, Proportion(28, 40), SRC),
    ]
    out = mask_measurements(items, FAMILY, default_threshold=5)
    kinds = [type(m.result).__name__ for m in out.measurements]
    assert kinds.count("Missing") == 2 and out.primary == 1 and out.secondary == 1
    assert isinstance(out.measurements[1].result, Missing)

"""Measurements: the contract's per-value rules as invariants (R10–R14), periods and R8/R9."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from indikera.domain import oids
from indikera.domain.errors import DomainError
from indikera.domain.measurements import (
    Cohort,
    ConfidenceInterval,
    Continuous,
    Measurement,
    Missing,
    Proportion,
    ReasonCode,
    SourceSystem,
)
from indikera.domain.organisations import riket
from indikera.domain.periods import Period, parse_date
from indikera.domain.rules import find_conflicts

SRC = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")
YEAR = Period(date(2023, 1, 1), date(2023, 12, 31))


def m(result, **kw) -> Measurement:
    return Measurement("12345", 1, kw.pop("period", YEAR), riket(), result, SRC, **kw)


def test_rate_is_computed_from_counts():
    assert Proportion(5, 10).rate == 0.5


@pytest.mark.parametrize(
    "build, code",
    [
        (lambda: Proportion(5, 10, rate=1.0), "RATE_MISMATCH"),  # the official mock's defect
        (lambda: Proportion(0, 0), "ZERO_DENOMINATOR"),
        (lambda: Proportion(11, 10), "NUM_GT_DEN"),
        (lambda: Proportion(-1, 10), "NEGATIVE"),
        (lambda: Proportion(1, 10, rate=float("nan")), "NOT_FINITE"),
        (lambda: Continuous(float("inf")), "NOT_FINITE"),
        (lambda: Continuous(3.0, population=0), "ZERO_POPULATION"),
        (lambda: Cohort(-2), "NEGATIVE"),
        (lambda: Missing("XYZ"), "REASON_CODE"),
        (lambda: ConfidenceInterval(0.5, 0.4), "CI"),
        (lambda: ConfidenceInterval(-0.1, 0.4), "CI"),
        (lambda: m(Proportion(5, 10), ci=ConfidenceInterval(0.6, 0.9)), "CI_EXCLUDES_VALUE"),
        (lambda: m(Proportion(5, 10), coverage=1.2), "COVERAGE_RANGE"),
        (lambda: m(Missing(ReasonCode.MSK), ci=ConfidenceInterval(0.1, 0.2)), "MISSING_WITH_VALUE"),
        (lambda: m("not a result"), "MEASURE_KIND"),
        (lambda: Period.parse("20231332", "20231231"), "BAD_DATE"),
        (lambda: Period.parse("20230230", "20231231"), "BAD_DATE"),
        (lambda: Period.parse("20231231", "20230101"), "PERIOD_ORDER"),
    ],
)
def test_rule_breaking_values_are_refused(build, code):
    with pytest.raises(DomainError) as err:
        build()
    assert err.value.code == code


def test_parse_date_accepts_leap_day():
    assert parse_date("20240229") == date(2024, 2, 29)


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.integers(0, 10_000), st.integers(1, 10_000), st.one_of(st.none(), st.floats(0, 1)), st.one_of(st.none(), finite, st.floats(-1, 2)))
def test_accepted_proportions_pass_the_contract_rules(num, den, coverage, low):
    """Whatever the model accepts satisfies R11 and R14: rate, coverage in [0,1], 0 ≤ low ≤ value ≤ high."""
    assume(num <= den)
    p = Proportion(num, den)
    ci = None
    try:
        if low is not None:
            ci = ConfidenceInterval(min(low, p.rate), max(low, p.rate) + 0.01)
        meas = m(p, coverage=coverage, ci=ci)
    except DomainError:
        return
    assert 0 <= meas.result.rate <= 1 and math.isclose(meas.result.rate, num / den)
    assert meas.coverage is None or 0 <= meas.coverage <= 1
    if meas.ci:
        assert 0 <= meas.ci.low <= meas.result.rate <= meas.ci.high


@given(st.floats(allow_nan=True, allow_infinity=True), st.one_of(st.none(), st.floats(allow_nan=True)))
def test_accepted_continuous_values_are_finite_and_population_positive(value, pop):
    try:
        c = Continuous(value, pop)
    except DomainError:
        return
    assert math.isfinite(c.value) and (c.population is None or c.population > 0)


def test_conflicts_find_duplicates_and_same_length_overlaps():
    s = ("12345", "oid:x", "")
    items = [
        (s, Period.parse("20090101", "20111231")),
        (s, Period.parse("20110101", "20131231")),  # same length (3 years), overlaps: R8
        (s, Period.parse("20110101", "20110331")),  # a quarter inside a 3-year period: allowed
        (s, Period.parse("20090101", "20111231")),  # duplicate: R9
        (("12345", "oid:y", ""), Period.parse("20110101", "20131231")),  # other organisation: fine
    ]
    codes = sorted((c.code, c.first, c.second) for c in find_conflicts(items))
    assert codes == [("DUPLICATE", 0, 3), ("OVERLAP", 0, 1)]


@given(st.lists(st.tuples(st.integers(2000, 2003), st.sampled_from([1, 4, 7, 10]), st.sampled_from(["q", "y"])), max_size=12))
def test_conflict_finder_agrees_with_pairwise_check(raw):
    periods = []
    for year, month, kind in raw:
        if kind == "y":
            periods.append(Period(date(year, 1, 1), date(year, 12, 31)))
        else:
            end = date(year, month + 2, 28)
            periods.append(Period(date(year, month, 1), end))
    items = [(("1", "o", ""), p) for p in periods]
    found = {(c.first, c.second) for c in find_conflicts(items)}
    # Every pair of equal or same-length overlapping periods is reported directly or via a chain of neighbours.
    for i, a in enumerate(periods):
        for j in range(i + 1, len(periods)):
            b = periods[j]
            if a == b or (a.same_length(b) and a.overlaps(b)):
                assert any(j in pair or i in pair for pair in found)
    for i, j in found:
        a, b = periods[i], periods[j]
        assert a == b or (a.same_length(b) and a.overlaps(b))


@pytest.mark.parametrize("text", ["20240101\n", " 20240101", "2024010"])
def test_dates_with_trailing_newline_or_spaces_are_refused(text):
    with pytest.raises(DomainError):
        parse_date(text)


def test_measure_id_with_trailing_newline_is_refused():
    from indikera.domain.indicators import check_measure_id

    with pytest.raises(DomainError):
        check_measure_id("10001\n")

"""The Wilson interval against SciPy (a test-only dependency)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from indikera.domain.statistics import wilson_interval


def test_reference_value():
    low, high = wilson_interval(7, 50)
    assert (round(low, 4), round(high, 4)) == (0.0695, 0.2619)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_matches_scipy(kn):
    k, n = kn
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert math.isclose(low, ref.low, abs_tol=1e-9) and math.isclose(high, ref.high, abs_tol=1e-9)
    assert 0 <= low <= k / n <= high <= 1

"""Statistics the registry may not have computed: Wilson score intervals (and, in the ingest
issue, small-count masking). Pure Python, so SciPy stays a test-only dependency."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal distribution


def wilson_interval(successes: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927), clipped to [0, 1].

    Unlike the Wald interval it stays inside [0, 1] and behaves at 0 and n successes.
    """
    if trials <= 0:
        raise ValueError("the Wilson interval needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and the number of trials")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # Guard the invariant low ≤ p ≤ high against the last bit of floating-point error.
    return min(low, p), max(high, p)

"""Statistics the registry may not have computed: Wilson score intervals, the primary small-count rule, and
which indicator family and display threshold a measure belongs to.

Disclosure control (relations, canonical suppression, the LP audit) lives in ``domain.disclosure``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from .indicators import Indicator

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


# --------------------------------------------------------------------------------------------------
# Small-count masking (rule R12) and secondary suppression.
#
# Primary masking hides a value whose count is too small to publish. Secondary suppression then hides
# enough further cells that no hidden value can be recovered by subtraction from published ones.
# The cells of one indicator family (a parent indicator and its sex sub-measures) and one period are
# tied together by additive relations, "total = sum of parts":
#   * sex:        parent(org) = female(org) + male(org)
#   * hierarchy:  org = sum of the rows whose nearest listed ancestor is org
#                 (units → hospital / kommun / län, län → Riket)
# Numerators, denominators, populations and counts all obey these relations, so it is enough to
# reason about which cells are hidden. A hidden cell x is recoverable exactly when the unit vector
# e_x lies in the row space of the relations restricted to hidden cells (published cells move to
# the right-hand side). See docs/import.md for the algorithm and its limits.
# --------------------------------------------------------------------------------------------------


MIN_CELL = 3  # a numerator (or denominator − numerator) of 1 or 2 identifies too few people


def needs_masking(
    *, numerator: float | None = None, denominator: float | None = None, population: float | None = None,
    count: float | None = None, threshold: int, min_cell: int = MIN_CELL,
) -> bool:
    """Primary rule: is this value too small to publish?

    * proportion: denominator below the display threshold, or a numerator (or its complement
      denominator − numerator) between 1 and ``min_cell`` − 1; 0 and "all" are publishable;
    * continuous: measure population below the threshold (no population: nothing to judge);
    * cohort: a count between 1 and threshold − 1.
    Zero denominators and populations are never values at all (INV) and are not judged here.
    """
    if denominator is not None:
        num = numerator or 0
        return denominator < threshold or 0 < num < min_cell or 0 < denominator - num < min_cell
    if population is not None:
        return population < threshold
    if count is not None:
        return 0 < count < threshold
    return False


def family_of(measure_id: str, indicators: Mapping[str, Indicator]) -> str:
    """The root measure id of an indicator family (a parent and its sex sub-measures)."""
    ind = indicators.get(measure_id)
    return ind.parent_measure_id if ind is not None and ind.parent_measure_id else measure_id


def threshold_of(measure_id: str, indicators: Mapping[str, Indicator], default_threshold: int) -> int:
    """The indicator's own display threshold, else the configured default."""
    ind = indicators.get(measure_id)
    return ind.display_threshold if ind is not None and ind.display_threshold is not None else default_threshold

"""A cell: one value a registry may publish, seen as the additive quantities an attacker can sum."""

from __future__ import annotations

from dataclasses import dataclass

from ..statistics import MIN_CELL, needs_masking  # noqa: F401 - MIN_CELL: one definition, by the primary rule

# Cell keys are tuples of strings and integers in fixed positions: (measure id, period start ordinal, period
# end ordinal, stratum, organisation key). Comparing them is a total order, so every choice below can be
# made "smallest key first" and never depends on input order or set iteration.
Key = tuple


@dataclass(frozen=True)
class Cell:
    """One value: ``values`` are (numerator, denominator) for a proportion, (population,) for a continuous
    value, (count,) for a cohort, or None when nobody knows the value (a stored masked value, UNK/NI/INV).

    * ``small``: the primary rule hides it;
    * ``fixed``: a reader knows it (published and stays published, another registry's): never hidden;
    * ``masked``: already hidden with no true value (a stored MSK): hidden, value unknown;
    * ``threshold``: the indicator's display threshold (the protection width of the size quantity).
    """

    key: Key
    kind: str  # proportion | continuous | cohort | missing
    values: tuple[float, ...] | None
    threshold: int
    small: bool = False
    fixed: bool = False
    masked: bool = False

    @property
    def size(self) -> float:
        """The cost of hiding the cell (least information lost first): denominator, population or count."""
        if not self.values:
            return 0.0
        return float(self.values[-1])

    @property
    def opaque(self) -> bool:
        """A missing value (UNK/NI/INV) or another value nobody can know: free in every relation, never audited."""
        return self.values is None and not self.masked

    @property
    def width(self) -> int:
        """Quantities per cell in the relations: 2 for a proportion (numerator, denominator), else 1."""
        return 2 if self.kind == "proportion" else 1


def cell(key: tuple, kind: str, num, den, pop, count, reason: str | None, threshold: int, indicator_kind: str, *,
         fixed: bool = False, judge: bool = True) -> Cell:
    """A cell from flat values. ``judge``: apply the primary rule (stored values are not judged again).
    ``indicator_kind`` gives a missing value its quantities (a masked proportion hides two)."""
    if kind == "proportion":
        values, small = (float(num or 0), float(den)), needs_masking(numerator=num, denominator=den, threshold=threshold)
    elif kind == "continuous" and pop is not None:
        values, small = (float(pop),), needs_masking(population=pop, threshold=threshold)
    elif kind == "cohort":
        values, small = (float(count),), needs_masking(count=count, threshold=threshold)
    else:
        masked = kind == "missing" and reason == "MSK"
        return Cell(key, indicator_kind, None, threshold, masked=masked)
    return Cell(key, kind, values, threshold, small=small and judge and not fixed, fixed=fixed)

"""Statistics the registry may not have computed: Wilson score intervals and the primary small-count rule.

Disclosure control (relations, canonical suppression, the LP audit) lives in ``domain.disclosure``; the
GF(p) recoverability helpers below (``recoverable``, ``suppress``, ``hidden_cells``, ``mask_measurements``)
are the earlier exact-recovery method, kept for its tests and no longer used by the importer or the demo."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .indicators import Indicator
from .measurements import Cohort, Continuous, Measurement, Missing, Proportion, ReasonCode

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


@dataclass(frozen=True)
class Relation:
    """``total = sum(parts)``, between cells identified by hashable keys."""

    total: Hashable
    parts: tuple[Hashable, ...]

    @property
    def members(self) -> tuple[Hashable, ...]:
        return (self.total, *self.parts)


_P = (1 << 61) - 1  # a Mersenne prime: ranks mod p equal ranks over Q except with negligible probability


def recoverable(masked: Iterable[Hashable], relations: Sequence[Relation]) -> set[Hashable]:
    """Hidden cells whose value follows exactly from the published ones through ``relations``.

    Gaussian elimination (to reduced row echelon form) over GF(p) of each relation restricted to
    the hidden cells; a hidden cell is recoverable iff some reduced row is its unit vector.
    """
    hidden = set(masked)
    index: dict[Hashable, int] = {}
    rows: list[dict[int, int]] = []
    for rel in relations:
        row: dict[int, int] = {}
        for key, coef in ((rel.total, _P - 1), *((p, 1) for p in rel.parts)):
            if key in hidden:
                col = index.setdefault(key, len(index))
                row[col] = (row.get(col, 0) + coef) % _P
        row = {c: v for c, v in row.items() if v}
        if row:
            rows.append(row)
    pivots: dict[int, dict[int, int]] = {}  # pivot column → fully reduced row with 1 at the pivot
    for row in rows:
        for col in [c for c in row if c in pivots]:
            factor = row.get(col, 0)
            if factor:
                for c, v in pivots[col].items():
                    nv = (row.get(c, 0) - factor * v) % _P
                    if nv:
                        row[c] = nv
                    else:
                        row.pop(c, None)
        # A later pivot row may have reintroduced an earlier pivot column only if not reduced; pivots are
        # kept fully reduced, so one sweep suffices.
        if not row:
            continue
        col = min(row)
        inv = pow(row[col], _P - 2, _P)
        row = {c: v * inv % _P for c, v in row.items()}
        for other in pivots.values():
            factor = other.get(col, 0)
            if factor:
                for c, v in row.items():
                    nv = (other.get(c, 0) - factor * v) % _P
                    if nv:
                        other[c] = nv
                    else:
                        other.pop(c, None)
        pivots[col] = row
    keys = {i: k for k, i in index.items()}
    return {keys[col] for col, row in pivots.items() if len(row) == 1}


def suppress(
    sizes: Mapping[Hashable, float],
    primary: Iterable[Hashable],
    relations: Sequence[Relation],
    fixed: Iterable[Hashable] = (),
) -> set[Hashable]:
    """All cells to hide: the primary ones plus the fewest-and-smallest further cells (heuristic) such
    that no hidden cell is recoverable from the published cells through ``relations``.

    ``sizes`` maps every cell to its weight (denominator, population or count); smaller cells are hidden
    first because they carry the least information. Relations naming cells outside ``sizes`` are ignored
    (an absent part cannot be published, so it already blocks subtraction). ``fixed`` cells count as
    published and are never hidden (UNK, NI, INV: their meaning must not change, and an attacker may know
    their value anyway).
    """
    rels = [r for r in relations if all(m in sizes for m in r.members) and r.parts]
    hidden = set(primary)
    frozen = set(fixed) - hidden
    by_cell: dict[Hashable, list[Relation]] = defaultdict(list)
    for r in rels:
        for m in r.members:
            by_cell[m].append(r)

    def cheapest(candidates: Iterable[Hashable]) -> Hashable | None:
        open_ = [c for c in candidates if c not in hidden and c not in frozen]
        return min(open_, key=lambda c: (sizes[c], str(c))) if open_ else None

    while True:
        # 1. Fast pass: no relation may have exactly one hidden member.
        queue = [r for r in rels]
        while queue:
            r = queue.pop()
            members = r.members
            if sum(1 for m in members if m in hidden) != 1:
                continue
            pick = cheapest(r.parts)
            if pick is None:
                pick = cheapest(members)
            if pick is None:
                continue
            hidden.add(pick)
            queue.extend(by_cell[pick])
        # 2. Exact check: combinations of relations can still pin a cell down (e.g. across sex and units).
        leaks = recoverable(hidden, rels)
        if not leaks:
            return hidden
        picks = set()
        for cell in sorted(leaks, key=str):
            pick = cheapest(m for r in by_cell[cell] for m in r.members)
            if pick is not None:
                picks.add(pick)
        if not picks:  # every related cell is already hidden: nothing more can be done
            return hidden
        hidden |= picks


def hierarchy_relations(listed: Iterable[Hashable], parent_of: Mapping[Hashable, Hashable | None]) -> list[Relation]:
    """Relations "org = sum of the listed organisations below it" for one indicator and period.

    ``listed`` are the organisations that have a value; ``parent_of`` gives every organisation's parent
    (None at the top), unlisted intermediate levels included. A listed organisation is a part of its
    nearest listed ancestor: a unit under an unlisted kommun counts towards the län.
    """
    listed = set(listed)
    parts: dict[Hashable, list[Hashable]] = defaultdict(list)
    for org in listed:
        node, seen = parent_of.get(org), 0
        while node is not None and node not in listed and seen < 32:
            node, seen = parent_of.get(node), seen + 1
        if node is not None and node in listed:
            parts[node].append(org)
    return [Relation(total, tuple(sorted(ps, key=str))) for total, ps in sorted(parts.items(), key=lambda kv: str(kv[0]))]


# --------------------------------------------------------------------------------------------------
# Applying the rules to measurements of one import.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaskingOutcome:
    measurements: list[Measurement]
    primary: int  # values hidden because they were too small
    secondary: int  # values hidden so that the small ones cannot be recovered


def cell_of(kind: str, *, numerator=None, denominator=None, population=None, count=None, reason: str | None = None,
            threshold: int, min_cell: int = MIN_CELL) -> tuple[float | None, bool]:
    """(size for ranking, needs primary masking) from flat values; size None: in no additive relation."""
    if kind == "proportion":
        return denominator, needs_masking(numerator=numerator, denominator=denominator, threshold=threshold,
                                          min_cell=min_cell)
    if kind == "continuous":
        if population is None:
            return None, False
        return population, needs_masking(population=population, threshold=threshold)
    if kind == "cohort":
        return count, needs_masking(count=count, threshold=threshold)
    return 0.0, reason == ReasonCode.MSK.value


def _cell(m: Measurement, threshold: int, min_cell: int) -> tuple[float | None, bool]:
    r = m.result
    if isinstance(r, Proportion):
        return cell_of("proportion", numerator=r.numerator, denominator=r.denominator, threshold=threshold, min_cell=min_cell)
    if isinstance(r, Continuous):
        return cell_of("continuous", population=r.population, threshold=threshold)
    if isinstance(r, Cohort):
        return cell_of("cohort", count=r.count, threshold=threshold)
    return cell_of("missing", reason=r.reason.value, threshold=threshold)


def family_of(measure_id: str, indicators: Mapping[str, Indicator]) -> str:
    """The root measure id of an indicator family (a parent and its sex sub-measures)."""
    ind = indicators.get(measure_id)
    return ind.parent_measure_id if ind is not None and ind.parent_measure_id else measure_id


def hidden_cells(
    cells: Iterable[tuple[tuple, float | None, bool, bool]],
    indicators: Mapping[str, Indicator],
    parent_of: Mapping[str, str | None],
) -> set[tuple]:
    """The cells to hide among ``cells`` = (key, size, small, fixed) with key (measure id, period, stratum,
    organisation key): every small one plus secondary suppression.

    Relations are formed per (family, period, stratum): sex parts sum to the parent indicator at the same
    organisation, and listed organisations sum to their nearest listed ancestor (``parent_of`` maps every
    organisation key to its parent's, unlisted levels included). Groups without a small cell need no
    relations at all, which keeps a file with few small counts cheap.
    """
    sizes: dict[Hashable, float] = {}
    primary: set[Hashable] = set()
    fixed: set[Hashable] = set()
    groups: dict[tuple, list[tuple[str, str]]] = defaultdict(list)  # (family, period, stratum) → (measure id, org key)
    families: dict[str, str] = {}
    for key, size, small, is_fixed in cells:
        mid, period, stratum, okey = key
        if small:
            primary.add(key)
        if size is not None:
            sizes[key] = size
            if is_fixed:
                fixed.add(key)
        root = families.get(mid)
        if root is None:
            root = families[mid] = family_of(mid, indicators)
        groups[(root, period, stratum)].append((mid, okey))
    if not primary:
        return set()
    hidden = set(primary)
    touched = {(families[k[0]], k[1], k[2]) for k in primary}
    for group in touched:
        root, period, stratum = group
        by_mid: dict[str, set[str]] = defaultdict(set)
        for mid, okey in groups[group]:
            by_mid[mid].add(okey)
        rels: list[Relation] = []
        for mid, orgs in by_mid.items():
            for rel in hierarchy_relations(orgs, parent_of):
                rels.append(Relation((mid, period, stratum, rel.total), tuple((mid, period, stratum, p) for p in rel.parts)))
        subs = [mid for mid in by_mid if mid != root and (ind := indicators.get(mid)) is not None and ind.sex is not None]
        if root in by_mid and len({indicators[mid].sex for mid in subs}) == 2:
            for org in by_mid[root]:
                parts = tuple((mid, period, stratum, org) for mid in sorted(subs) if org in by_mid[mid])
                if len(parts) == len(subs):
                    rels.append(Relation((root, period, stratum, org), parts))
        # Cells of different (family, period, stratum) groups never share a relation: each group alone.
        if rels:
            hidden |= suppress(sizes, hidden, rels, fixed)
    return hidden


def mask_measurements(
    items: Sequence[Measurement], indicators: Mapping[str, Indicator], default_threshold: int, min_cell: int = MIN_CELL
) -> MaskingOutcome:
    """Primary masking and secondary suppression over a set of measurements (typically one family).

    Each measurement's threshold is its indicator's ``display_threshold``, else ``default_threshold``;
    see :func:`hidden_cells` for the relations.
    """
    parent_of: dict[str, str | None] = {}
    org_keys: dict[int, str] = {}  # id(organisation) → key; organisations are shared objects
    thresholds: dict[str, int] = {}
    cells = []
    keys = []
    for m in items:
        org = m.organisation
        okey = org_keys.get(id(org))
        if okey is None:
            okey = org_keys[id(org)] = org.key
            for node in org.chain():
                parent_of.setdefault(node.key, node.parent.key if node.parent else None)
        threshold = thresholds.get(m.measure_id)
        if threshold is None:
            threshold = thresholds[m.measure_id] = threshold_of(m.measure_id, indicators, default_threshold)
        key = (m.measure_id, m.period, m.stratum, okey)
        size, small = _cell(m, threshold, min_cell)
        cells.append((key, size, small, isinstance(m.result, Missing) and m.result.reason is not ReasonCode.MSK))
        keys.append(key)
    primary = {c[0] for c in cells if c[2]}
    hidden = hidden_cells(cells, indicators, parent_of)
    out: list[Measurement] = []
    n_primary = n_secondary = 0
    for m, key in zip(items, keys):
        if key in hidden and not isinstance(m.result, Missing):
            if key in primary:
                n_primary += 1
            else:
                n_secondary += 1
            m = replace(m, result=Missing(ReasonCode.MSK), ci=None, standard_deviation=None)
        out.append(m)
    return MaskingOutcome(out, n_primary, n_secondary)


def threshold_of(measure_id: str, indicators: Mapping[str, Indicator], default_threshold: int) -> int:
    """The indicator's own display threshold, else the configured default."""
    ind = indicators.get(measure_id)
    return ind.display_threshold if ind is not None and ind.display_threshold is not None else default_threshold

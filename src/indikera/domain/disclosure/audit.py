"""The interval audit: how tightly can a reader pin down each hidden value from everything published?

Per connected component of hidden cells (cells linked by relations), a linear programme: variables are the
quantities of the hidden cells (and of values nobody knows, UNK/NI/INV, which are free), the relations are
constraints with the published values on the right-hand side, every quantity is ≥ 0 and a numerator is at
most its denominator. Minimising and maximising each hidden quantity (SciPy's HiGHS) gives the interval of
values consistent with everything published. Counts are integers, so the LP bounds are rounded inwards.

Protection rule (τ-ARGUS / sdcTable "protection level"): the interval of a hidden cell's size quantity
(denominator, population, count) must be at least the indicator's display threshold wide; a proportion's
numerator and its complement (denominator − numerator) at least ``MIN_CELL`` wide, unless the interval shows no
small count at all: its upper bound is 0 (nobody, which the primary rule publishes anyway) or its lower bound
is at least ``MIN_CELL``. The rule needs no knowledge of why a cell is hidden, so an approval can re-run it on
stored masks. An unbounded interval passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from .cells import MIN_CELL, Cell, Key
from .lp import CAP, ComponentLP
from .relations import Relation

_EPS = 1e-6


@dataclass(frozen=True)
class Interval:
    """The values of one hidden quantity (``size``, ``num`` or ``rest`` = denominator − numerator) a reader
    cannot rule out; ``required`` is the width the protection rule asks for."""

    key: Key
    quantity: str
    low: float
    high: float
    required: int
    infeasible: bool = False
    exact: bool = True  # False: [low, high] is spanned by two feasible solutions; the true interval may be wider

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def ok(self) -> bool:
        if self.infeasible:
            return False
        if self.quantity != "size" and (self.high <= 0 or self.low >= self.required):
            return True  # nobody, or certainly not a small count
        return self.width >= self.required


@dataclass
class AuditResult:
    intervals: list[Interval] = field(default_factory=list)
    lps: int = 0  # linear programmes solved

    @property
    def failures(self) -> list[Interval]:
        return [i for i in self.intervals if not i.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def tightest(self, n: int = 20) -> list[Interval]:
        """The intervals closest to failing: smallest slack (width − required) first, ties by key."""
        return sorted(self.intervals, key=lambda i: (not i.infeasible, i.width - i.required, i.key, i.quantity))[:n]


def components(relations: Iterable[Relation], free: set[Key]) -> list[list[Key]]:
    """Connected components of ``free`` cells: two cells are linked when a relation names both."""
    parent: dict[Key, Key] = {k: k for k in free}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for rel in relations:
        inside = [m for m in rel.members if m in free]
        for other in inside[1:]:
            a, b = find(inside[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[Key, list[Key]] = {}
    for k in sorted(free):
        groups.setdefault(find(k), []).append(k)
    return [groups[r] for r in sorted(groups)]


def audit(cells: Mapping[Key, Cell], relations: Iterable[Relation], hidden: Iterable[Key],
          cache: dict | None = None) -> AuditResult:
    """Intervals of every audited quantity of every hidden cell (opaque cells are free but not audited).

    Each component is solved on its own (``_solve_component``): an LP per bound only for the quantities that
    the feasible tables found so far do not already show wide enough. Variables are capped at ``lp.CAP`` so that
    no LP is unbounded; a bound at the cap is infinite.
    ``cache`` (component cells → intervals) lets the suppression loop re-solve only components that changed:
    with the same relations, the same component has the same intervals."""
    rels = list(relations)
    hidden = set(hidden)
    free = hidden | {m for r in rels for m in r.members if cells[m].opaque}
    by_cell: dict[Key, list[Relation]] = {}
    for r in rels:
        for m in r.members:
            if m in free:
                by_cell.setdefault(m, []).append(r)
    out = AuditResult()
    systems = []
    fresh: list[tuple] = []
    for comp in components(rels, free):
        audited = [k for k in comp if k in hidden and not cells[k].opaque]
        if not audited:
            continue
        ident = tuple(comp)
        if cache is not None and ident in cache:
            out.intervals.extend(cache[ident])
            continue
        fresh.append((ident, set(audited)))
        comp_rels = sorted({r for k in comp for r in by_cell.get(k, ())})
        if not comp_rels:  # in no relation: nothing bounds it
            for k in audited:
                out.intervals.extend(_unbounded(cells[k]))
            continue
        system = _system(cells, comp, comp_rels, audited)
        if any(r.assumed for r in comp_rels):
            system = _believable(cells, comp, comp_rels, audited, system)
        systems.append(system)
    if systems:
        pool = cache.setdefault(_POOL, []) if cache is not None else []
        passed = cache.setdefault(_PASSED, {}) if cache is not None else {}
        for system in systems:
            _solve_component(system, out, pool, passed)
    if cache is not None:
        by_key: dict[Key, list[Interval]] = {}
        for i in out.intervals:
            by_key.setdefault(i.key, []).append(i)
        for ident, audited in fresh:
            cache[ident] = [i for k in sorted(audited) for i in by_key.get(k, ())]
    return out


def _requirements(c: Cell) -> list[tuple[str, dict[int, float], int]]:
    """(quantity, objective over the cell's own variables, required width) per audited quantity."""
    if c.kind == "proportion":
        return [("size", {1: 1.0}, c.threshold), ("num", {0: 1.0}, MIN_CELL), ("rest", {1: 1.0, 0: -1.0}, MIN_CELL)]
    return [("size", {0: 1.0}, c.threshold)]


def _believable(cells: Mapping[Key, Cell], comp: list[Key], rels: list[Relation], audited: list[Key],
                system: tuple) -> tuple:
    """``system`` (of ``rels``) with as many equalities taken on trust kept as the published values allow.
    Where they contradict (no table satisfies them all), some assumed sum does not hold: relax assumed
    equalities to ≥ in key order until the system is consistent, then tighten back each one that does not
    break it. Canonical (key order), and every equality the values allow stays, so no interval is wider than
    the truth allows."""
    import numpy as np

    def consistent(candidate: tuple) -> bool:
        n, eq, eq_rhs, ub, ub_rhs, *_ = candidate
        return ComponentLP(n, eq, eq_rhs, ub, ub_rhs).optimum_of(np.zeros(n)) is not None

    def with_relaxed(relaxed: set[Relation]) -> tuple:
        return _system(cells, comp, sorted(x.relaxed() if x in relaxed else x for x in rels), audited)

    if consistent(system):
        return system
    relaxed: set[Relation] = set()
    for r in (r for r in rels if r.assumed):
        relaxed.add(r)
        if consistent(with_relaxed(relaxed)):
            break
    for r in sorted(relaxed):
        if consistent(with_relaxed(relaxed - {r})):
            relaxed = relaxed - {r}
    return with_relaxed(relaxed)


def _unbounded(c: Cell) -> list[Interval]:
    return [Interval(c.key, q, 0.0, math.inf, req) for q, _, req in _requirements(c)]


def _system(cells: Mapping[Key, Cell], comp: list[Key], rels: list[Relation], audited: list[Key]) -> tuple:
    """One component's constraints (sparse rows), objectives and true values (None when a value is unknown):
    (n, eq rows, eq rhs, ub rows, ub rhs, objectives, truth, variables)."""
    width = max(cells[k].width for k in comp)
    col: dict[tuple[Key, int], int] = {}
    for k in comp:
        for q in range(cells[k].width):
            col[(k, q)] = len(col)
    eq, eq_rhs, ub, ub_rhs = [], [], [], []
    for r in rels:
        for q in range(width):
            row: dict[int, float] = {}
            rhs = 0.0
            for m, coef in ((r.total, -1.0), *((p, 1.0) for p in r.parts)):
                j = col.get((m, q))
                if j is not None:
                    row[j] = row.get(j, 0.0) + coef
                else:
                    v = cells[m].values
                    rhs -= coef * (v[q] if v is not None and q < len(v) else 0.0)
            row = {j: v for j, v in row.items() if v}
            if not row:
                continue
            (eq if r.op == "eq" else ub).append(row)
            (eq_rhs if r.op == "eq" else ub_rhs).append(rhs)
    for k in comp:
        if cells[k].width == 2:  # numerator ≤ denominator
            ub.append({col[(k, 0)]: 1.0, col[(k, 1)]: -1.0})
            ub_rhs.append(0.0)
    objectives = []
    for k in audited:
        for quantity, objective, required in _requirements(cells[k]):
            vec = {col[(k, q)]: coef for q, coef in objective.items()}
            objectives.append((k, quantity, required, vec))
    known = all(cells[k].values is not None for k in comp)
    truth = [cells[k].values[q] if q < len(cells[k].values) else 0.0 for (k, q) in col] if known else None
    return len(col), eq, eq_rhs, ub, ub_rhs, objectives, truth, list(col)


_POOL = "feasible tables"  # the cache's entry of solutions kept between the suppression's rounds
_POOL_SIZE = 64
_PASSED = "passed"  # (cell, quantity) → the interval that showed it wide enough in an earlier round


def _solve_component(system: tuple, out: AuditResult, pool: list[dict], passed: dict) -> None:
    """The intervals of one component. Every optimum the solver returns is a feasible table, and so is the true
    one: a quantity whose values over the tables seen so far already spread at least its required width
    passes without an LP of its own (its interval is at least that wide). Only the others get their min and
    max solved, which makes them exact. Most quantities of a component pass on the first few optima."""
    import numpy as np

    n, eq, eq_rhs, ub, ub_rhs, objectives, truth, col = system
    lp = ComponentLP(n, eq, eq_rhs, ub, ub_rhs)
    points: list = []
    candidates = [truth] if truth is not None else []
    for old in reversed(pool):
        x = [old.get(v, t) for v, t in zip(col, truth or [None] * n)]
        if None not in x:
            candidates.append(x)
    for x in candidates:
        x = np.array(x, dtype=float)
        if lp.feasible(x):
            points.append(x)
    known = len(points)

    def value(x, vec):
        return sum(coef * x[j] for j, coef in vec.items())

    # Two opening LPs push every audited quantity at once, alternately up and down, then the other way:
    # two tables far apart in most directions, so that few quantities need LPs of their own.
    spread = np.zeros(n)
    for i, (_, _, _, vec) in enumerate(objectives):
        for j, coef in vec.items():
            spread[j] += coef if i % 2 else -coef
    if len(objectives) > 2:
        for sense in (1.0, -1.0):
            x = lp.optimum_of(sense * spread)
            if x is not None:
                points.append(x)

    matrix_of_points = None
    for k, quantity, required, vec in objectives:
        if (k, quantity) in passed:
            out.intervals.append(replace(passed[k, quantity], exact=False))
            continue
        if points:  # rounded inwards, as the solved bounds are: counts are integers
            if matrix_of_points is None or len(matrix_of_points) != len(points):
                matrix_of_points = np.array(points)
            js = list(vec)
            seen = matrix_of_points[:, js] @ np.array([vec[j] for j in js])
            low, high = max(0.0, math.ceil(seen.min() - _EPS)), math.floor(seen.max() + _EPS)
            if high - low >= required:
                passed[k, quantity] = Interval(k, quantity, float(low), float(high), required, exact=False)
                out.intervals.append(passed[k, quantity])
                continue
        bounds = []
        for sense in (1.0, -1.0):
            x = lp.optimum(vec, sense)
            if x is None:
                break
            points.append(x)
            bounds.append(value(x, vec))
        if len(bounds) != 2:  # the published values contradict each other: nothing is consistent with them
            out.intervals.append(Interval(k, quantity, math.nan, math.nan, required, infeasible=True))
            continue
        lo, hi = bounds
        low = max(0.0, math.ceil(lo - _EPS))
        high = math.inf if hi >= CAP / 10 else math.floor(hi + _EPS)
        found = Interval(k, quantity, float(low), float(high), required)
        if found.ok:
            passed[k, quantity] = found
        out.intervals.append(found)
    out.lps += lp.solves
    pool.extend({v: float(x[j]) for j, v in enumerate(col)} for x in points[known:])
    del pool[:-_POOL_SIZE]

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
from dataclasses import dataclass, field

from .cells import MIN_CELL, Cell, Key
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

    Every (cell, quantity, min or max) is one copy of its component's constraints; all copies go into one
    block-diagonal LP, whose optimum optimises each block on its own: one HiGHS call per audit, not one per
    bound. Variables are capped at ``_CAP`` so that no block is unbounded; a bound at the cap is infinite.
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
        systems.append(_system(cells, comp, comp_rels, audited))
    if systems:
        _solve_all(systems, out)
    if cache is not None:
        by_key: dict[Key, list[Interval]] = {}
        for i in out.intervals:
            by_key.setdefault(i.key, []).append(i)
        for ident, audited in fresh:
            cache[ident] = [i for k in sorted(audited) for i in by_key.get(k, ())]
    return out


_CAP = 1e9


def _requirements(c: Cell) -> list[tuple[str, dict[int, float], int]]:
    """(quantity, objective over the cell's own variables, required width) per audited quantity."""
    if c.kind == "proportion":
        return [("size", {1: 1.0}, c.threshold), ("num", {0: 1.0}, MIN_CELL), ("rest", {1: 1.0, 0: -1.0}, MIN_CELL)]
    return [("size", {0: 1.0}, c.threshold)]


def _unbounded(c: Cell) -> list[Interval]:
    return [Interval(c.key, q, 0.0, math.inf, req) for q, _, req in _requirements(c)]


def _system(cells: Mapping[Key, Cell], comp: list[Key], rels: list[Relation], audited: list[Key]) -> tuple:
    """One component's constraints (sparse rows) and objectives: (n, eq rows, eq rhs, ub rows, ub rhs, objectives)."""
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
    return len(col), eq, eq_rhs, ub, ub_rhs, objectives


def _solve_all(systems: list[tuple], out: AuditResult) -> None:
    """All (system, objective, direction) blocks in one LP; an infeasible LP is split per system to name it."""
    blocks = [(s, o, sense) for s in systems for o in s[5] for sense in (1.0, -1.0)]
    x = _solve_blocks(blocks, out)
    if x is None:
        for s in systems:
            part = [(s, o, sense) for o in s[5] for sense in (1.0, -1.0)]
            xs = _solve_blocks(part, out)
            _read(part, xs, out)
        return
    _read(blocks, x, out)


def _solve_blocks(blocks: list[tuple], out: AuditResult):
    # SciPy only when an audit has something to solve: imports that never mask stay as light as before.
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    c, er, ec, ev, eb, ur, uc, uv, ub_ = [], [], [], [], [], [], [], [], []
    offset = 0
    for (n, eq, eq_rhs, ub, ub_rhs, _), (_, _, _, vec), sense in blocks:
        obj = [0.0] * n
        for j, coef in vec.items():
            obj[j] = sense * coef
        c.extend(obj)
        for row, rhs in zip(eq, eq_rhs):
            for j, v in row.items():
                er.append(len(eb)), ec.append(offset + j), ev.append(v)
            eb.append(rhs)
        for row, rhs in zip(ub, ub_rhs):
            for j, v in row.items():
                ur.append(len(ub_)), uc.append(offset + j), uv.append(v)
            ub_.append(rhs)
        offset += n
    a_eq = coo_matrix((ev, (er, ec)), shape=(len(eb), offset)).tocsr() if eb else None
    a_ub = coo_matrix((uv, (ur, uc)), shape=(len(ub_), offset)).tocsr() if ub_ else None
    res = linprog(np.array(c), A_ub=a_ub, b_ub=np.array(ub_) if ub_ else None, A_eq=a_eq,
                  b_eq=np.array(eb) if eb else None, bounds=(0, _CAP), method="highs")
    out.lps += 1
    return res.x if res.status == 0 else None


def _read(blocks: list[tuple], x, out: AuditResult) -> None:
    """Intervals from the block optima (min block then max block of each objective); None: infeasible."""
    offset = 0
    found: dict[tuple, list[float]] = {}
    for (n, *_, objectives), (k, quantity, required, vec), sense in blocks:
        if x is not None:
            value = sum(coef * x[offset + j] for j, coef in vec.items())
            found.setdefault((k, quantity, required), []).append(value)
        else:
            found.setdefault((k, quantity, required), [])
        offset += n
    for (k, quantity, required), values in found.items():
        if len(values) != 2:
            out.intervals.append(Interval(k, quantity, math.nan, math.nan, required, infeasible=True))
            continue
        lo, hi = values
        low = max(0.0, math.ceil(lo - _EPS))
        high = math.inf if hi >= _CAP / 10 else math.floor(hi + _EPS)
        out.intervals.append(Interval(k, quantity, float(low), float(high), required))

"""Canonical secondary suppression: which further cells to hide so that every hidden cell passes the audit.

The result is a function of the set of cells alone (keys, values, flags): every loop runs over sorted keys
and relations, so row order, file format and file split cannot change it.

1. Hidden: the primary cells (``small``) and the stored masked ones (``masked``).
2. Fast pass: an equality with exactly one hidden member gives it away by subtraction; hide the cheapest
   other member. Cost = the size quantity (denominator, population, count: least information lost),
   ties broken by key. Repeated until no equality has a lone hidden member.
3. Audit (:mod:`.audit`). For each failing cell, hide the cheapest open member of the relations it is in
   (else of any relation of its component); back to 2. Each round hides at least one more cell, and hiding
   every open cell of a component always ends the loop; a component that still fails has fixed (published)
   values that pin it down, and the caller must refuse it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .audit import AuditResult, audit, components
from .cells import Cell, Key
from .relations import Relation


@dataclass
class Decision:
    hidden: set[Key]
    primary: set[Key]
    secondary: set[Key]  # cells with a known value hidden to protect others
    audit: AuditResult
    rounds: int = 0

    @property
    def ok(self) -> bool:
        return self.audit.ok


def _cost(c: Cell) -> tuple:
    return (c.size, c.key)


def protect(cells: Iterable[Cell], relations: Iterable[Relation]) -> Decision:
    """Hide the primary cells and the cheapest further cells until the audit passes (or nothing is left)."""
    by_key = {c.key: c for c in sorted(cells, key=lambda c: c.key)}
    rels = sorted(relations)
    primary = {k for k, c in by_key.items() if c.small and not c.fixed and not c.opaque}
    hidden = primary | {k for k, c in by_key.items() if c.masked}
    if not hidden:
        return Decision(set(), set(), set(), AuditResult())
    by_cell: dict[Key, list[Relation]] = {}
    for r in rels:
        for m in r.members:
            by_cell.setdefault(m, []).append(r)

    def open_(k: Key) -> bool:
        c = by_key[k]
        return k not in hidden and not c.fixed and not c.opaque

    def cheapest(keys: Iterable[Key]) -> Key | None:
        options = [by_key[k] for k in keys if open_(k)]
        return min(options, key=_cost).key if options else None

    # Only relations that reach a hidden cell matter; the rest of a large group never enters the loop.
    rounds = 0
    cache: dict = {}  # component → intervals: later rounds re-solve only what changed
    while True:
        rounds += 1
        changed = True
        while changed:
            changed = False
            for r in rels:
                if r.op != "eq" or any(by_key[m].opaque for m in r.members):
                    continue
                if sum(1 for m in r.members if m in hidden) == 1:
                    pick = cheapest(r.members)
                    if pick is not None:
                        hidden.add(pick)
                        changed = True
        result = audit(by_key, rels, hidden, cache)
        failing = sorted({i.key for i in result.failures})
        if not failing:
            break
        picks: set[Key] = set()
        comps = None
        for k in failing:
            pick = cheapest(m for r in by_cell.get(k, ()) for m in r.members)
            if pick is None:
                if comps is None:
                    free = hidden | {m for r in rels for m in r.members if by_key[m].opaque}
                    comps = {m: comp for comp in components(rels, free) for m in comp}
                pick = cheapest(m for h in comps.get(k, [k]) for r in by_cell.get(h, ()) for m in r.members)
            if pick is not None:
                picks.add(pick)
        if not picks:
            break  # nothing left to hide: the caller refuses
        hidden |= picks
    secondary = {k for k in hidden - primary if not by_key[k].masked}
    return Decision(hidden, primary, secondary, result, rounds)

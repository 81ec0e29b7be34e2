"""Every additive relation a reader can form from the published values of one indicator family and year.

A relation says ``total = sum(parts)`` (or, when the true values show the listed parts are incomplete,
``total ≥ sum(parts)``) and holds for every additive quantity of the cells at once (numerator and
denominator, population, count). A cell sits in several relations at once (linked tables):

* organisations: the listed children of a listed organisation, grouped by organisation type, each group
  its own relation (kommuner → län and sjukhus → län are two relations; units → sjukhus; län → Riket;
  sjukvårdsregioner → Riket), and every union of these groups (units straight under a län + its sjukhus).
  A listed organisation whose parent is not listed counts toward its nearest listed ancestor, in the group
  of its own type;
* sjukvårdsregion = Σ its län (from the reference data), formed only when all its län are listed;
* sex: the parent indicator = its female + male sub-measures (both present), per organisation;
* periods: a calendar year = Σ its four quarters, = Σ its twelve months; a quarter = Σ its three months
  (formed only when every part is present).

Relations are checked against the true values where they are all known: an exact sum is an equality, a
total larger than its listed parts an inequality (some parts are not listed), anything else is dropped
(the data are not additive there, so no reader can use it either).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from .cells import Cell, Key

_TOL = 1e-6


@dataclass(frozen=True, order=True)
class Relation:
    """``total = sum(parts)`` (``op`` "eq") or ``total ≥ sum(parts)`` (``op`` "ge"); keys in key order."""

    total: Key
    parts: tuple[Key, ...]
    op: str = "eq"
    why: str = ""  # org:<type> | region | sex | year-quarters | year-months | quarter-months
    # An equality taken on trust: a stored mask (value unknown) is among its members, so the values cannot
    # confirm it. The audit uses it as an equality (a reader who assumes the sum holds is right whenever it
    # does) and relaxes it to ≥ only where the published values contradict it (``audit``).
    assumed: bool = field(default=False, compare=False)

    def relaxed(self) -> Relation:
        return Relation(self.total, self.parts, "ge", self.why)

    @property
    def members(self) -> tuple[Key, ...]:
        return (self.total, *self.parts)


@lru_cache(maxsize=256)
def _quarters(year: int) -> list[tuple[int, int]]:
    out = []
    for q in range(4):
        start = date(year, 3 * q + 1, 1)
        end = date(year + (q == 3), (3 * q + 4 - 1) % 12 + 1, 1)
        out.append((start.toordinal(), end.toordinal() - 1))
    return out


@lru_cache(maxsize=1024)
def _months(year: int, first: int = 1, n: int = 12) -> list[tuple[int, int]]:
    out = []
    for m in range(first, first + n):
        start = date(year, m, 1)
        end = date(year + (m == 12), m % 12 + 1, 1)
        out.append((start.toordinal(), end.toordinal() - 1))
    return out


def _period_relations(periods: set[tuple[int, int]]) -> list[tuple[tuple[int, int], list[tuple[int, int]], str]]:
    out: list = []
    if len(periods) < 4:  # the smallest relation, a quarter and its three months, has four periods
        return out
    years = {date.fromordinal(s).year for s, _ in periods}
    for y in sorted(years):
        whole = (date(y, 1, 1).toordinal(), date(y, 12, 31).toordinal())
        quarters = _quarters(y)
        if whole in periods:
            if all(q in periods for q in quarters):
                out.append((whole, quarters, "year-quarters"))
            months = _months(y)
            if all(m in periods for m in months):
                out.append((whole, months, "year-months"))
        for i, q in enumerate(quarters):
            months = _months(y, 3 * i + 1, 3)
            if q in periods and all(m in periods for m in months):
                out.append((q, months, "quarter-months"))
    return out


def build_relations(cells: Iterable[Cell], *, family: Mapping[str, tuple[str, str | None]],
                    parent_of: Mapping[str, str | None], org_type: Mapping[str, str],
                    regions: Mapping[str, tuple[str, ...]] = {}) -> list[Relation]:
    """The relations among ``cells`` (keys (measure id, start, end, stratum, organisation key)).

    ``family`` maps a measure id to (its family's root, its sex or None); ``parent_of`` every organisation key
    to its parent's (unlisted levels included); ``org_type`` a key to its OrgType value; ``regions`` a
    Sjukvardsregion's key to the keys of its län."""
    by_key = {c.key: c for c in cells}
    slices: dict[tuple, set[str]] = defaultdict(set)
    for mid, start, end, stratum, org in by_key:
        slices[(mid, start, end, stratum)].add(org)
    raw: list[tuple[Key, list[Key], str, object, str]] = []  # total, parts, why, category, op if unverifiable
    for sl in sorted(slices):
        listed = slices[sl]
        parts: dict[tuple[str, str], list[str]] = defaultdict(list)
        for org in listed:
            node, hops = parent_of.get(org), 0
            while node is not None and node not in listed and hops < 32:
                node, hops = parent_of.get(node), hops + 1
            if node is not None and node in listed:
                parts[(node, org_type.get(org, ""))].append(org)
        by_total: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for (total, typ), orgs in parts.items():
            by_total[total][typ] = orgs
        for total, groups in sorted(by_total.items()):
            for t, parts_, why, op in _partitions(by_key, (*sl, total), {t: [(*sl, o) for o in sorted(g)] for t, g in groups.items()}):
                raw.append((t, parts_, why, (why, org_type.get(total, "")), op))
        for region, lans in sorted(regions.items()):
            if region in listed and lans and all(ln in listed for ln in lans):
                raw.append(((*sl, region), [(*sl, ln) for ln in sorted(lans)], "region", "region", "eq"))
    sexes: dict[tuple, dict[str, Key]] = defaultdict(dict)
    for key in by_key:
        root, sex = family.get(key[0], (key[0], None))
        if key[0] == root or sex is not None:
            sexes[(root, *key[1:])][sex or ""] = key
    for _, found in sorted(sexes.items()):
        if "" in found and len(found) == 3:
            raw.append((found[""], sorted(k for s, k in found.items() if s), "sex", "sex", "eq"))
    periods: dict[tuple, set[tuple[int, int]]] = defaultdict(set)
    for mid, start, end, stratum, org in by_key:
        periods[(mid, stratum, org)].add((start, end))
    for (mid, stratum, org), present in sorted(periods.items()):
        for whole, parts, why in _period_relations(present):
            raw.append(((mid, *whole, stratum, org), [(mid, *p, stratum, org) for p in parts], why, why, "eq"))
    return _judged(by_key, raw)


def _judged(by_key: Mapping[Key, Cell], raw: list) -> list[Relation]:
    """Check each candidate on the true values. One with an unknown value (a stored mask) is not formed when
    fully known ones of its category (same kind of relation, same type of total) are not additive at all;
    otherwise it is what the structure says (``_partitions``), an equality marked ``assumed``."""
    out: set[Relation] = set()
    evidence: dict[object, set[str]] = defaultdict(set)
    unknown = []
    for total, parts, why, category, op in raw:
        if not parts:
            continue
        if any(by_key[m].values is None for m in (total, *parts)):
            unknown.append((total, parts, why, category, op))
            continue
        rel = _checked(by_key, total, parts, why)
        evidence[category].add(rel.op if rel is not None else "none")
        if rel is not None:
            out.add(rel)
    for total, parts, why, category, op in unknown:
        seen = evidence.get(category, set())
        if op == "skip" or "none" in seen:
            continue
        rel = _checked(by_key, total, parts, why)
        if rel is not None:
            # Where the structure makes it a sum, it is one for the audit even if totals of the same kind
            # elsewhere are larger than their parts: a reader who assumes it is right whenever it holds, and
            # the masked value cannot tell us it does not (issue #13: a län whose only hospital was masked
            # in an earlier import published its total, which equalled the hospital).
            out.add(Relation(total, tuple(parts), op if op == "ge" else "eq", why, assumed=op != "ge"))
    return sorted(out)


def _partitions(by_key: Mapping[Key, Cell], total: Key, groups: dict[str, list[Key]]) -> list[tuple]:
    """Candidate relations between one organisation and its listed children, grouped by type: each type
    group and every union of groups (units straight under a län plus its hospitals add up to the län
    although neither does alone; kommuner and hospitals each add up to it on their own). The value check
    decides among them. Unverifiable ones (a stored mask among them) default to: a single type group
    ``total ≥ Σ`` (true whatever the structure), the union of all groups an equality unless the known values
    show the groups are alternatives (two fully known groups with equal sums); other unions are not formed."""
    types = sorted(groups)
    sums = {}
    for t in types:
        if all(by_key[k].values is not None for k in groups[t]):
            sums[t] = tuple(round(sum(by_key[k].values[q] for k in groups[t]), 6)
                            for q in range(len(by_key[groups[t][0]].values)))
    alternatives = len(set(sums.values())) < len(sums)
    out = []
    for mask in range(1, 1 << len(types)):
        chosen = [t for i, t in enumerate(types) if mask >> i & 1]
        parts = sorted(k for t in chosen for k in groups[t])
        if len(types) == 1:
            op = "eq"
        elif len(chosen) == 1:
            op = "ge"
        else:
            op = "eq" if len(chosen) == len(types) and not alternatives else "skip"
        out.append((total, parts, "org:" + "+".join(chosen), op))
    return out


def _checked(by_key: Mapping[Key, Cell], total: Key, parts: list[Key], why: str) -> Relation | None:
    """The relation as a reader may use it, judged on the true values where they are known."""
    members = [by_key[total], *(by_key[p] for p in parts)]
    kinds = {c.kind for c in members if c.kind != "missing"}
    if len(kinds) != 1:
        return None
    width = 2 if kinds == {"proportion"} else 1
    known = [c for c in members if c.values is not None]
    if any(len(c.values) != width for c in known):
        return None
    t = by_key[total]
    residual = [0.0] * width
    for c in known:
        sign = 1.0 if c is t else -1.0
        for q in range(width):
            residual[q] += sign * c.values[q]
    if len(known) == len(members):
        if all(abs(r) <= _TOL * max(1.0, abs(v)) for r, v in zip(residual, t.values)):
            return Relation(total, tuple(parts), "eq", why)
        if all(r >= -_TOL for r in residual):
            return Relation(total, tuple(parts), "ge", why)
        return None
    if t.values is not None and any(r < -_TOL for r in residual):
        return None  # the known parts already exceed the total: not additive here
    return Relation(total, tuple(parts), "eq", why)

"""Masking a list of measurements (the demo registry, tests): the same cells, relations, suppression and
audit as an import, from domain objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..indicators import Indicator
from ..measurements import Cohort, Continuous, Measurement, Missing, Proportion, ReasonCode
from ..statistics import family_of, threshold_of
from .cells import Cell, cell
from .errors import DisclosureError
from .relations import build_relations
from .suppression import Decision, protect


@dataclass(frozen=True)
class MaskingOutcome:
    measurements: list[Measurement]
    primary: int  # values hidden because they were too small
    secondary: int  # values hidden so that the small ones cannot be narrowed down
    decision: Decision | None = None


def key_of(m: Measurement) -> tuple:
    return (m.measure_id, m.period.start.toordinal(), m.period.end.toordinal(), m.stratum or "", m.organisation.key)


def cell_of_measurement(m: Measurement, threshold: int, indicator_kind: str, fixed: bool = False) -> Cell:
    r = m.result
    if isinstance(r, Proportion):
        return cell(key_of(m), "proportion", r.numerator, r.denominator, None, None, None, threshold, indicator_kind, fixed=fixed)
    if isinstance(r, Continuous):
        return cell(key_of(m), "continuous", None, None, r.population, None, None, threshold, indicator_kind, fixed=fixed)
    if isinstance(r, Cohort):
        return cell(key_of(m), "cohort", None, None, None, r.count, None, threshold, indicator_kind, fixed=fixed)
    return cell(key_of(m), "missing", None, None, None, None, r.reason.value, threshold, indicator_kind)


def mask_measurements(items: Sequence[Measurement], indicators: Mapping[str, Indicator], default_threshold: int,
                      regions: Mapping[str, tuple[str, ...]] | None = None) -> MaskingOutcome:
    """Primary masking and canonical secondary suppression over ``items`` (one family and calendar year, or
    more: relations never cross families, and a larger set only costs time). Raises DisclosureError when
    the audit cannot pass (inconsistent input)."""
    parent_of: dict[str, str | None] = {}
    org_type: dict[str, str] = {}
    cells: list[Cell] = []
    for m in items:
        for node in m.organisation.chain():
            parent_of.setdefault(node.key, node.parent.key if node.parent else None)
            org_type.setdefault(node.key, node.type.value)
        ind = indicators.get(m.measure_id)
        kind = ind.kind.value if ind is not None else type(m.result).__name__.lower()
        cells.append(cell_of_measurement(m, threshold_of(m.measure_id, indicators, default_threshold), kind))
    family = {}
    for mid in {m.measure_id for m in items}:
        ind = indicators.get(mid)
        family[mid] = (family_of(mid, indicators), ind.sex.value if ind is not None and ind.sex is not None else None)
    if not any(c.small or c.masked for c in cells):
        return MaskingOutcome(list(items), 0, 0)
    decision = protect(cells, build_relations(cells, family=family, parent_of=parent_of, org_type=org_type,
                                              regions=regions or {}))
    if not decision.ok:
        raise DisclosureError(decision.audit.failures)
    out: list[Measurement] = []
    n_primary = n_secondary = 0
    for m, c in zip(items, cells):
        if c.key in decision.hidden and not isinstance(m.result, Missing):
            if c.small:
                n_primary += 1
            else:
                n_secondary += 1
            m = replace(m, result=Missing(ReasonCode.MSK), ci=None, standard_deviation=None)
        out.append(m)
    return MaskingOutcome(out, n_primary, n_secondary, decision)


def group_by_family_year(items: Sequence[Measurement], indicators: Mapping[str, Indicator]) -> list[list[Measurement]]:
    """Measurements in the bundles an import masks together: (indicator family, calendar year)."""
    groups: dict[tuple, list[Measurement]] = defaultdict(list)
    for m in items:
        groups[(family_of(m.measure_id, indicators), m.period.start.year)].append(m)
    return [groups[k] for k in sorted(groups)]

"""Version rules of the catalogue, judged over a whole file against what is stored.

* Versions move forward only; a version stored already with the same content is *unchanged* and skipped
  (so ``catalog export --all-versions`` imports into the database it came from), with other content an error.
* A minor version changes texts, frequencies or levels, never the computation: the fields in
  ``COMPUTATION_FIELDS`` must equal those of the previous version with the same major (docs/catalogue.md).
* A parent's new major version may not leave a published sub-measure behind on the old major: its results
  and description would no longer fit the parent (refused, naming the sub-measure).
"""

from __future__ import annotations

from typing import Any

from .findings import Finding, error, warning
from .jsonformat import to_dict
from .model import Description

# The fields that say how a value is computed (JSON names). Texts are compared with white space collapsed,
# so re-wrapping a definition is not a change; any other edit to them is.
COMPUTATION_FIELDS: tuple[str, ...] = (
    "unitType", "measureKind", "unit", "numerator", "denominator", "valueDefinition", "inclusionCriteria",
    "exclusionCriteria", "regionAssignment", "parentMeasureId", "sex", "unitUcum", "targetPopulation",
    "measurePopulation", "selections", "subCategories",
)


def is_unchanged(d: Description, stored: dict[tuple[int, int], dict[str, Any]]) -> bool:
    return d.version in stored and stored[d.version] == to_dict(d)


def version_findings(d: Description, stored: dict[tuple[int, int], dict[str, Any]], at) -> list[Finding]:
    """Forward only; an unchanged stored version is fine wherever it lies (it is skipped)."""
    if d.version in stored:
        return [] if stored[d.version] == to_dict(d) else [error("VERSION_NOT_BUMPED", at("versionMinor"), d.measure_id, version=d.version_text)]
    if stored and d.version < max(stored):
        latest = max(stored)
        return [error("VERSION_BACKWARDS", at("versionMinor" if d.version_major == latest[0] else "versionMajor"), d.measure_id,
                      version=d.version_text, stored=f"{latest[0]}.{latest[1]}")]
    return []


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.split() == b.split()
    return a == b


def computation_findings(descriptions: list[Description], paths: list[str],
                         stored_versions: dict[str, dict[tuple[int, int], dict[str, Any]]]) -> list[Finding]:
    """A new minor version whose computation differs from the version before it (same major)."""
    docs: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    for mid, versions in stored_versions.items():
        docs[mid] = dict(versions)
    for d in descriptions:
        docs.setdefault(d.measure_id, {}).setdefault(d.version, to_dict(d))
    out: list[Finding] = []
    for d, path in zip(descriptions, paths):
        stored = stored_versions.get(d.measure_id, {})
        if d.version in stored:
            continue  # unchanged (skipped) or VERSION_NOT_BUMPED
        earlier = [v for v in docs[d.measure_id] if v[0] == d.version_major and v < d.version]
        if not earlier:
            continue
        previous = max(earlier)
        before, now = docs[d.measure_id][previous], to_dict(d)
        for name in COMPUTATION_FIELDS:
            if not _same(before.get(name), now.get(name)):
                out.append(error("VERSION_COMPUTATION", f"{path}.{name}", d.measure_id, field_name=name,
                                 previous=f"{previous[0]}.{previous[1]}", version=d.version_text,
                                 next_major=d.version_major + 1))
    return out


def stranded_findings(latest: dict[str, tuple[Description, str]], stored_majors: dict[str, int],
                      sub_measures: dict[str, list[str]], published: set[str]) -> list[Finding]:
    """A parent whose latest version in the file moves to a new major while a stored sub-measure stays.

    ``latest``: measure id → (newest description in the file, its path); ``stored_majors``: the major
    version of each stored indicator identity; ``sub_measures``: parent → its stored sub-measures.
    """
    out: list[Finding] = []
    for mid, (d, path) in sorted(latest.items()):
        old = stored_majors.get(mid)
        if old is None or d.version_major <= old:
            continue
        for sub in sorted(sub_measures.get(mid, ())):
            if sub in latest and latest[sub][0].version_major == d.version_major:
                continue  # follows in the same file
            params = dict(mid=mid, version=d.version_major, sub=sub, sub_version=stored_majors.get(sub, old))
            make = error if sub in published else warning
            out.append(make("SUB_MEASURE_STRANDED" if sub in published else "SUB_MEASURE_BEHIND", f"{path}.versionMajor", mid, **params))
    return out


__all__ = ["COMPUTATION_FIELDS", "computation_findings", "is_unchanged", "stranded_findings", "version_findings"]

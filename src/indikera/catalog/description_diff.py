"""Field-by-field difference between two description documents (``catalog diff``), pure.

Documents are the catalogue JSON of one version (``jsonformat.to_dict``). Nested objects and lists are
flattened to JSON paths (``texts.coverage``, ``targets[0].value``) so that a reviewer sees exactly which
field changed, with its old and new value; the version numbers themselves are not a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IGNORED = frozenset({"versionMajor", "versionMinor"})


@dataclass(frozen=True)
class Change:
    field: str
    before: Any  # None: the field was absent
    after: Any

    @property
    def kind(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "kind": self.kind, "before": self.before, "after": self.after}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON value by path; an empty list or object is a leaf of its own."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every field that differs, in the order of the newer document (fields only in the older one last)."""
    a = {k: v for k, v in flatten(before).items() if k.split(".")[0] not in IGNORED}
    b = {k: v for k, v in flatten(after).items() if k.split(".")[0] not in IGNORED}
    order = list(b) + [k for k in a if k not in b]
    return [Change(k, a.get(k), b.get(k)) for k in order if a.get(k) != b.get(k)]


__all__ = ["Change", "diff", "flatten"]

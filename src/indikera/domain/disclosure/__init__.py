"""Disclosure control: which published values could reveal a small count, and proof that none does.

* :mod:`.cells`: one publishable value (a cell) with its additive quantities;
* :mod:`.relations`: every "total = sum of parts" a reader can form (organisation partitions, sex, periods);
* :mod:`.suppression`: the canonical choice of the cells to hide;
* :mod:`.audit`: the LP interval audit (SciPy's HiGHS) that every hidden cell must pass.

Pure: no I/O. See docs/import.md, "Masking and secondary suppression".
"""

from .audit import AuditResult, Interval, audit
from .cells import MIN_CELL, Cell
from .errors import DisclosureError, describe
from .relations import Relation, build_relations
from .suppression import Decision, protect

__all__ = ["AuditResult", "Cell", "Decision", "DisclosureError", "Interval", "MIN_CELL", "Relation", "audit", "build_relations", "describe", "protect"]

"""Named result rows whose fields come from the very column list a SELECT uses.

Hot paths read plain DB-API tuples (SQLAlchemy's ``Row`` attribute access costs more than the work done per
row). Indexing those tuples by position would tie every reader to a column order defined elsewhere; a
``NamedTuple`` built from the same columns keeps C-speed field access and cannot drift from the SELECT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple


def row_type(name: str, columns: Sequence[Any]) -> type:
    """A ``NamedTuple`` class with one field per column, named by the column's key (or label), in order."""
    keys = [getattr(c, "key", None) or getattr(c, "name", None) for c in columns]
    if not all(isinstance(k, str) and k.isidentifier() and not k.startswith("_") for k in keys):
        raise ValueError(f"{name}: every column needs a plain name (label it): {keys}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{name}: duplicate column names {sorted(k for k in keys if keys.count(k) > 1)}")
    return NamedTuple(name, [(k, Any) for k in keys])


def maker(row_class: type) -> Callable[[Sequence[Any]], Any]:
    """A fast ``row_class._make`` for rows of a SELECT over the class's own columns (lengths match by
    construction): ``tuple.__new__`` called from C, without ``_make``'s Python frame and length check."""
    return partial(tuple.__new__, row_class)


def picker(row_class: type, *names: str) -> Callable[[Sequence[Any]], tuple]:
    """Several fields of a row in one C call, chosen by name: ``itemgetter`` over the indices the row class
    gives those names (so they follow the SELECT's columns). An unknown name fails at import, not per row."""
    unknown = [n for n in names if n not in row_class._fields]
    if unknown or len(names) < 2:
        raise ValueError(f"{row_class.__name__}: pick at least two of {row_class._fields}, not {unknown or names}")
    return itemgetter(*(row_class._fields.index(n) for n in names))

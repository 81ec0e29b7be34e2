"""The two shapes of cache the process keeps, both exact by construction: keyed on the data version.

``data_version`` is a counter the database's own triggers bump on every write to a table an answer, an
ETag, a page or the open data depends on (migrations 0004 and 0006; ``store.tables.UNVERSIONED`` names
the tables left out). An entry computed at a version is exact for as long as that version is current, so
nothing here expires by time and no writer has to invalidate anything. The caches themselves are declared
in one place, ``context.Caches``; the areas only decide what goes in (this module knows none of them).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import Connection, select

from .store.tables import data_version

T = TypeVar("T")


def current_version(conn: Connection) -> int | None:
    """The data version: one primary-key look-up (None before migration 0004 created the counter)."""
    return conn.execute(select(data_version.c.version).where(data_version.c.id == 1)).scalar()


class Versioned(Generic[T]):
    """One value for the current data version (one database per application context)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[int, T] | None = None

    def get(self, version: int | None, load: Callable[[], T]) -> T:
        """The value at ``version``, loaded on a miss. The caller reads ``version`` before ``load`` reads the
        data, so what is loaded is at least that new; ``None`` (no counter yet) is never cached."""
        with self._lock:
            entry = self._entry
        if entry is not None and version is not None and entry[0] == version:
            return entry[1]
        value = load()
        if version is not None:
            with self._lock:
                if self._entry is None or self._entry[0] <= version:  # never replace a newer one
                    self._entry = (version, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entry = None


class LRU(Generic[T]):
    """A small thread-safe LRU; keys include the data version, so entries of older versions age out."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

"""Checksum-only answers from a cache that is exact by construction.

A ``Summary`` (checksum, reportingPeriod, count) depends only on the stored data, the caller's audience
(consumer and date, for agreements) and the query. The database bumps ``data_version`` on every change
to a table an answer depends on (triggers, migration 0004), so a summary cached under the version it was
computed at is exact for as long as the version is unchanged; reading the version is one primary-key
look-up. Full answers fill the cache too, so a consumer polling with ``includeMeasurements=false`` after
a full fetch pays only that look-up.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from sqlalchemy import Connection, select

from ...publish.visibility import Audience
from ...store.tables import data_version
from .answer import Summary
from .request import Query

MAX_ENTRIES = 4096


def current_version(conn: Connection) -> int | None:
    return conn.execute(select(data_version.c.version).where(data_version.c.id == 1)).scalar()


def key(version: int, query: Query, audience: Audience) -> Hashable:
    return (version, tuple(sorted(set(query.measure_ids))), query.start, query.end, audience.consumer_hsa_id, audience.on)


def count_key(version: int, query: Query) -> Hashable:
    """How many measurements match regardless of visibility (the audit's withheld count) depends on less."""
    return ("count", version, tuple(sorted(set(query.measure_ids))), query.start, query.end)


class SummaryCache:
    """A small thread-safe LRU of summaries; entries of older versions simply age out."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._items: OrderedDict[Hashable, Summary] = OrderedDict()
        self._counts: OrderedDict[Hashable, int] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, k: Hashable) -> Summary | None:
        with self._lock:
            found = self._items.get(k)
            if found is not None:
                self._items.move_to_end(k)
            return found

    def put(self, k: Hashable, summary: Summary) -> None:
        with self._lock:
            self._items[k] = summary
            self._items.move_to_end(k)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def get_count(self, k: Hashable) -> int | None:
        with self._lock:
            return self._counts.get(k)

    def put_count(self, k: Hashable, count: int) -> None:
        with self._lock:
            self._counts[k] = count
            self._counts.move_to_end(k)
            while len(self._counts) > self._max:
                self._counts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._counts.clear()

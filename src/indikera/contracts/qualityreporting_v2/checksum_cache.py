"""Checksum-only answers from a cache that is exact by construction.

A ``Summary`` (checksum, reportingPeriod, count) depends only on the stored data, the caller's audience
(consumer and date, for agreements) and the query. The database bumps ``data_version`` on every change
to a table an answer depends on (triggers, migration 0004), so a summary cached under the version it was
computed at is exact for as long as the version is unchanged; reading the version is one primary-key
look-up. Full answers fill the cache too, so a consumer polling with ``includeMeasurements=false`` after
a full fetch pays only that look-up. The cache itself is ``AppContext.caches.summaries`` (``caches.LRU``).
"""

from __future__ import annotations

from collections.abc import Hashable

from ...publish.visibility import Audience
from .request import Query


def key(version: int, query: Query, audience: Audience) -> Hashable:
    return (version, tuple(sorted(set(query.measure_ids))), query.start, query.end, audience.consumer_hsa_id, audience.on)


def count_key(version: int, query: Query) -> Hashable:
    """How many measurements match regardless of visibility (the audit's withheld count) depends on less."""
    return ("count", version, tuple(sorted(set(query.measure_ids))), query.start, query.end)

"""What every entry point shares: the settings, the database engine and the caches.

Every cache the process keeps is declared in :class:`Caches` and nowhere else (no module globals). Each
is keyed on the data version (``caches``: bumped by the database's triggers on every write an answer, an
ETag, a page or the open data can see) plus its own key, and none expires by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from .caches import LRU, Versioned
from .config import Settings
from .store.db import make_engine


@dataclass
class Caches:
    # SOAP checksum-only answers (``Summary``): (version, query, audience) — contracts.qualityreporting_v2.service
    summaries: LRU[Any] = field(default_factory=LRU)
    # How many measurements match regardless of visibility (the audit's withheld count): (version, query)
    counts: LRU[int] = field(default_factory=LRU)
    # SOAP organisation and source-system XML fragments (``Directory``): version — …qualityreporting_v2.directory
    directory: Versioned[Any] = field(default_factory=Versioned)
    # The open-data view and its sealed state, the ETag's basis (``View``): version — opendata.view_cache
    opendata: Versioned[Any] = field(default_factory=Versioned)

    def clear(self) -> None:
        for cache in (self.summaries, self.counts, self.directory, self.opendata):
            cache.clear()


@dataclass
class AppContext:
    settings: Settings
    engine: Engine  # the primary: every write, admin, import and audit, and what must be current
    caches: Caches = field(default_factory=Caches)
    # Answers' reads (SOAP, open data, pages): ``database_read_url`` (a replica) or the primary itself. The data
    # version is read there too, so a lagging replica gives answers consistent with themselves (docs/production.md).
    read_engine: Engine | None = None

    def __post_init__(self) -> None:
        if self.read_engine is None:
            self.read_engine = self.engine

    @property
    def reader(self) -> Engine:
        assert self.read_engine is not None
        return self.read_engine

    @classmethod
    def from_settings(cls, settings: Settings) -> "AppContext":
        engine = make_engine(settings.database_url)
        read = make_engine(settings.database_read_url) if settings.database_read_url else None
        return cls(settings=settings, engine=engine, read_engine=read)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine and self.read_engine is not None:
            self.read_engine.dispose()

"""What every entry point shares: the settings and the database engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from .config import Settings
from .store.db import make_engine


@dataclass
class AppContext:
    settings: Settings
    engine: Engine

    @classmethod
    def from_settings(cls, settings: Settings) -> "AppContext":
        return cls(settings=settings, engine=make_engine(settings.database_url))

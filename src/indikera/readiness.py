"""Liveness and readiness of one serving process, for ``/health`` (load balancers, systemd, the tests).

Ready means: the primary database answers and its schema is at the migration head, and, when
``database_read_url`` is set, so does the read replica (answers are read there: a replica that cannot be
reached or is behind on the schema would fail every request). The process id says which worker answered,
so a caller can tell the workers of ``serve --workers N`` apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Engine

from .store import db as store_db

READY = ("ok", "schema-newer")


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) of this code's migrations: fixed for the life of the process (reading them
    scans the scripts)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(store_db.alembic_config("sqlite://"))
    return store_db.head_revision(), frozenset(r.revision for r in script.walk_revisions())


def _check(engine: Engine) -> str:
    """"ok"; "schema-newer" (still ready: a rolling upgrade migrated the database before this process was
    replaced; migrations are additive, docs/production.md); "migrations-pending"; or the error type's name
    when the database cannot be reached."""
    try:
        current = store_db.current_revision(engine)
    except Exception as exc:  # any failure to reach or read it means "not ready"; the type is enough to say
        return type(exc).__name__
    head, known = _revisions()
    if current == head:
        return "ok"
    return "schema-newer" if current is not None and current not in known else "migrations-pending"


@dataclass
class Readiness:
    database: str
    read_database: str  # "ok", a failure, or "not-configured"
    pid: int = field(default_factory=os.getpid)

    @property
    def ready(self) -> bool:
        return self.database in READY and self.read_database in (*READY, "not-configured")

    @property
    def status(self) -> str:
        """One word for the whole: ok, migrations-pending or unavailable (as /health has always said)."""
        if self.ready:
            return "ok"
        checks = (self.database, self.read_database)
        if all(c in (*READY, "not-configured", "migrations-pending") for c in checks):
            return "migrations-pending"
        return "unavailable"

    def body(self) -> dict[str, Any]:
        return {"status": self.status, "database": self.database, "read_database": self.read_database, "pid": self.pid}


def check(engine: Engine, read_engine: Engine | None = None) -> Readiness:
    """The readiness of the primary ``engine`` and of ``read_engine`` when it is another database."""
    replica = "not-configured" if read_engine is None or read_engine is engine else _check(read_engine)
    return Readiness(_check(engine), replica)


__all__ = ["Readiness", "check"]

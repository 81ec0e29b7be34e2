"""Per-installation secrets kept in the database's ``settings`` table.

A secret that is not configured is generated once, by whichever process needs it first, and stored here:
every process and worker serving the same database then signs and checks with the same key. Concurrent
first uses race on the primary key; the loser reads the winner's value.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from .db import writer
from .tables import settings


def _read(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar_one_or_none()


def installation_secret(engine: Engine, key: str) -> bytes:
    """The secret stored under ``key``; created (32 random bytes, hex) on first use."""
    value = _read(engine, key)
    if value is None:
        try:
            with writer(engine).begin() as conn:
                conn.execute(insert(settings).values(key=key, value=secrets.token_hex(32)))
        except IntegrityError:  # another process stored it first: use theirs
            pass
        value = _read(engine, key)
    assert value is not None
    return value.encode()


__all__ = ["installation_secret"]

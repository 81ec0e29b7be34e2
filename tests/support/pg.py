"""PostgreSQL for the tests: one fresh database per test process, dropped at the end.

On CI (``CI`` set) an unreachable server is a failure; elsewhere the PostgreSQL tests skip and say why.
"""

from __future__ import annotations

import os
import uuid

import psycopg

PG_ADMIN_DSN = os.environ.get("INDIKERA_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")


def reachable() -> tuple[bool, str]:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True, ""
    except Exception as exc:  # any failure to connect means "not reachable" here
        return False, f"PostgreSQL at {PG_ADMIN_DSN!r} is unreachable: {type(exc).__name__}: {exc}".strip()


def create_database(template: str | None = None) -> tuple[str, str]:
    """Create an empty database (or a copy of ``template``); returns (its name, its SQLAlchemy URL)."""
    name = f"indikera_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    params = dict(p.split("=", 1) for p in PG_ADMIN_DSN.split())
    url = f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}"
    return name, url


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""PostgreSQL: an import's COPYs without per-row trigger work, then every check as one set-based query.

Each COPYed row fires PostgreSQL's foreign-key triggers (four per value, three per history row): two thirds of
the time it takes to store a million values (bench/README.md). With ``session_replication_role = replica`` for
the COPY statements only, those checks are skipped, and :func:`check_new_rows` then checks every reference
of every row written that way in one anti-join per table, inside the same transaction: a dangling reference
still rolls the whole import back. The replica role skips every trigger, so the two indikera keeps
(migration 0004's data version, 0012's summaries) are redone here: one bump, one rebuild of the indicators
written.

Used only when it changes nothing else (:func:`possible`): the database role may set the parameter (a
superuser, or ``GRANT SET ON PARAMETER session_replication_role`` on PostgreSQL 15+), and no trigger other
than indikera's own is defined on the two tables, so a DBA's own audit trigger is never skipped. Setting
``import_set_based_checks = false`` turns it off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from ..domain.errors import IndikeraError
from ..store import value_summaries
from ..store.tables import measurement_history, measurements

TABLES = (measurements, measurement_history)
# indikera's own triggers on those tables (migrations 0004, 0006, 0012); any other makes the fast path unsafe.
OWN_TRIGGERS = frozenset({"measurements_data_version", "measurement_history_data_version"}
                         | {f"measurements_summary_{op}" for op in ("insert", "update", "delete", "truncate")})


def possible(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    names = set(conn.exec_driver_sql(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relname IN ('measurements', 'measurement_history') AND NOT t.tgisinternal").scalars())
    if names - OWN_TRIGGERS:
        return False
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
        return True
    except DBAPIError:  # not allowed for this role: the per-row checks run as usual
        return False


def id_floor(conn: Connection) -> dict[str, int]:
    """The highest id of each table before the import: every row after it is checked at the end."""
    return {t.name: conn.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar_one() for t in TABLES}


@contextmanager
def unchecked(conn: Connection) -> Iterator[None]:
    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        conn.exec_driver_sql("SET LOCAL session_replication_role = origin")


def dangling(conn: Connection, floor: dict[str, int] | None = None) -> list[tuple[str, int]]:
    """(table, rows) whose foreign keys point at nothing, among the rows above ``floor`` (every row for None): one
    anti-join per table, the referenced ids hashed. Also the scale generator's check after its COPY."""
    out = []
    for table in TABLES:
        refs = [(fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys]
        missing = conn.exec_driver_sql(
            f'SELECT count(*) FROM "{table.name}" x WHERE x.id > %(floor)s AND ('
            + " OR ".join(f'x."{col}" NOT IN (SELECT "{key}" FROM "{target}")' for col, target, key in refs) + ")",
            {"floor": (floor or {}).get(table.name, 0)}).scalar_one()
        if missing:
            out.append((table.name, missing))
    return out


def check_new_rows(conn: Connection, floor: dict[str, int], indicator_ids: Iterable[int]) -> None:
    """Every foreign key of every row above ``floor`` (:func:`dangling`); then the data version and the summaries
    the skipped triggers would have kept."""
    for table, missing in dangling(conn, floor):
        raise IndikeraError("IMPORT_WRITE", detail=f"{missing} rows of {table} reference a row that does not exist")
    value_summaries.rebuild(conn, indicator_ids)
    conn.exec_driver_sql("UPDATE data_version SET version = version + 1 WHERE id = 1")

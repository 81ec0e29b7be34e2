"""Bulk inserts on the driver: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` elsewhere.

Why not SQLAlchemy's executemany: on PostgreSQL each row is then its own statement, and the data-version
triggers (migration 0004) fire once per statement; COPY is one statement whatever the row count.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, bindparam, insert, text, update


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, values as the driver stores them) into ``table``."""
    if not rows:
        return
    names = ", ".join('"' + c + '"' for c in columns)
    cur = conn.connection.cursor()
    if conn.dialect.name == "postgresql":
        with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row(r)
    else:
        cur.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)


def insert_dicts(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (column → Python value, all with the same keys) into ``table``: COPY on PostgreSQL;
    elsewhere SQLAlchemy's executemany, which converts the values as the column types store them."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        insert_rows(conn, table.name, columns, [tuple(r[c] for c in columns) for r in rows])
    else:
        conn.execute(insert(table), rows)


def update_rows(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Set ``columns`` of each row of ``table`` whose id is the tuple's first item (values as the driver stores
    them). PostgreSQL: COPY into a temporary table and one ``UPDATE … FROM``; elsewhere one executemany."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        staged = f"_bulk_{table}"
        names = ", ".join(f'"{c}"' for c in columns)
        conn.execute(text(f'CREATE TEMPORARY TABLE "{staged}" AS SELECT id, {names} FROM "{table}" WITH NO DATA'))
        try:
            insert_rows(conn, staged, ["id", *columns], rows)
            sets = ", ".join(f'"{c}" = s."{c}"' for c in columns)
            conn.execute(text(f'UPDATE "{table}" AS t SET {sets} FROM "{staged}" AS s WHERE t.id = s.id'))
        finally:
            conn.execute(text(f'DROP TABLE IF EXISTS "{staged}"'))
    else:
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        conn.connection.cursor().executemany(f'UPDATE "{table}" SET {sets} WHERE id = ?', [(*r[1:], r[0]) for r in rows])


def update_by_id(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Set, per row, the given columns (Python values) of ``table``'s row with that ``id`` (all rows with the
    same keys): ``update_rows`` on PostgreSQL; elsewhere SQLAlchemy's executemany, which converts the values."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    if conn.dialect.name == "postgresql":
        update_rows(conn, table.name, columns, [(r["id"], *(r[c] for c in columns)) for r in rows])
    else:
        conn.execute(update(table).where(table.c.id == bindparam("_bulk_id")),
                     [{"_bulk_id": r["id"], **{c: r[c] for c in columns}} for r in rows])

"""The data-version counter covers every table: each one (but the few named in ``store.tables.UNVERSIONED``)
bumps it through the database's own triggers, on SQLite and PostgreSQL, and migration 0006 goes down and
up again cleanly. Every cache (``AppContext.caches``) is keyed on it, so a table without a trigger would be
a cache that can go stale."""

from __future__ import annotations

from sqlalchemy import select, text

from indikera.config import Settings
from indikera.context import AppContext, Caches
from indikera.store import db as store_db
from indikera.store.all_tables import metadata
from indikera.store.tables import UNVERSIONED, data_version

OPS = ("insert", "update", "delete")
BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"


def _bumping_triggers(engine) -> dict[str, set[str]]:
    """table → the operations whose trigger bumps the data version."""
    out: dict[str, set[str]] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            for name, table, sql in conn.execute(text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")):
                op = name.rsplit("_", 1)[-1]
                if BUMP in " ".join(sql.split()) and op in OPS and f"AFTER {op.upper()} ON {table}" in sql:
                    out.setdefault(table, set()).add(op)
        else:
            rows = conn.execute(text(
                "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND p.proname = 'indikera_bump_data_version'"))
            for table, tgtype in rows:  # tgtype bits: 4 insert, 8 delete, 16 update
                out.setdefault(table, set()).update(op for op, bit in (("insert", 4), ("delete", 8), ("update", 16)) if tgtype & bit)
    return out


def test_every_table_but_the_declared_few_bumps_the_data_version(engine):
    have = _bumping_triggers(engine)
    tables = set(metadata.tables)
    assert set(UNVERSIONED) <= tables, "UNVERSIONED names a table that does not exist"
    missing = {t: sorted(set(OPS) - have.get(t, set())) for t in sorted(tables - set(UNVERSIONED)) if set(OPS) - have.get(t, set())}
    assert not missing, f"tables whose writes do not move data_version: {missing}"
    assert not set(have) & set(UNVERSIONED), "a table declared unversioned has a trigger: update UNVERSIONED"


def test_the_new_triggers_bump_on_every_write(engine):
    def version() -> int:
        with engine.connect() as conn:
            return conn.execute(select(data_version.c.version)).scalar_one()

    v = version()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO indicator_descriptions (measure_id, version_major, version_minor, document, "
                          "created_by, created_at) VALUES ('1', 1, 0, '{}', 't', CURRENT_TIMESTAMP)"))
    assert version() > v
    v = version()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO publication_log (at, actor, action, reason) VALUES (CURRENT_TIMESTAMP, 't', 'x', '')"))
    assert version() > v
    v = version()
    with engine.begin() as conn:
        conn.execute(text("UPDATE indicator_descriptions SET created_by = 'u'"))
        conn.execute(text("DELETE FROM publication_log"))
    assert version() >= v + 2


def test_migration_0006_goes_down_and_up(db_url):
    engine = store_db.make_engine(db_url)
    try:
        store_db.downgrade(db_url, "0005")
        assert not {"indicator_descriptions", "publication_log", "measurement_history"} & set(_bumping_triggers(engine))
        assert "measurements" in _bumping_triggers(engine)  # 0004's stay
        store_db.upgrade(db_url)
        assert {"indicator_descriptions", "publication_log", "measurement_history"} <= set(_bumping_triggers(engine))
    finally:
        engine.dispose()


def test_every_cache_is_declared_on_the_context(tmp_path):
    """One place lists the caches; two contexts (two databases) never share one."""
    a = AppContext.from_settings(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    b = AppContext.from_settings(Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}"))
    assert isinstance(a.caches, Caches)
    for name in ("summaries", "counts", "directory", "opendata"):
        assert getattr(a.caches, name) is not getattr(b.caches, name)
    a.engine.dispose()
    b.engine.dispose()

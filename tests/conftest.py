"""Shared fixtures. Database tests run on SQLite and PostgreSQL through the ``db_url`` fixture."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from indikera.config import Settings
from indikera.context import AppContext
from indikera.store import db as store_db
from indikera.store.all_tables import metadata

from .support import pg
from .support.oracle import official_contract  # noqa: F401  (the fixture; skips without ../shared)

ON_CI = bool(os.environ.get("CI"))
_PG_STATE: dict[str, object] = {}


def _pg_url() -> str:
    """The per-process PostgreSQL test database (created and migrated once)."""
    if "url" not in _PG_STATE:
        ok, why = pg.reachable()
        if not ok:
            if ON_CI:
                pytest.fail(f"CI requires PostgreSQL: {why}", pytrace=False)
            pytest.skip(why)
        name, url = pg.create_database()
        _PG_STATE.update(name=name, url=url)
        store_db.upgrade(url)
    return str(_PG_STATE["url"])


def _pg_demo_template() -> str:
    """A PostgreSQL database holding the demo registry, built once per process; used as a template."""
    if "demo_name" not in _PG_STATE:
        _pg_url()  # fails or skips when PostgreSQL is unreachable
        from indikera import demo

        name, url = pg.create_database()
        _PG_STATE.update(demo_name=name)
        store_db.upgrade(url)
        eng = store_db.make_engine(url)
        demo.build(eng)
        eng.dispose()
    return str(_PG_STATE["demo_name"])


def pytest_sessionfinish(session, exitstatus):
    for key in ("name", "demo_name"):
        if key in _PG_STATE:
            pg.drop_database(str(_PG_STATE[key]))
    for name in _PG_STATE.get("copies", []):  # type: ignore[union-attr]
        pg.drop_database(name)


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL copy of the demo registry is built once per worker (tens of seconds): ``slow``."""
    for item in items:
        if item.get_closest_marker("postgres") and "demo_template" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def pytest_sessionstart(session):
    """On CI the official contract (the test oracle) must be there: its tests may not skip silently.

    Elsewhere tests that need it skip through ``oracle.require()`` (README "The official contract package").
    """
    from .support import oracle

    if ON_CI and not oracle.available():
        raise pytest.UsageError(f"CI requires the official contract package at {oracle.CONTRACT}")


def _truncate(engine: Engine) -> None:
    # data_version keeps its one row: the triggers of migration 0004 bump it, they never create it.
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "data_version"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An empty SQLite database migrated once per process: copying it is ~500× cheaper than migrating."""
    path = tmp_path_factory.mktemp("migrated") / "empty.db"
    store_db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a fresh SQLite file, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        target = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("migrated_sqlite"), target)
        url = f"sqlite:///{target}"
        yield url
    else:
        url = _pg_url()
        engine = store_db.make_engine(url)
        _truncate(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = store_db.make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Engine]:
    url = f"sqlite:///{shutil.copy(migrated_sqlite, tmp_path / 'only-sqlite.db')}"
    eng = store_db.make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo registry built once per test process (SQLite); copy it before changing it."""
    from indikera import demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    store_db.upgrade(url)
    eng = store_db.make_engine(url)
    demo.build(eng)
    with eng.begin() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    eng.dispose()
    return path


@pytest.fixture
def demo_url(demo_template: Path, tmp_path: Path) -> str:
    """A private copy of the demo registry."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_db_url(request, demo_template: Path, tmp_path: Path) -> str:
    """A private copy of the demo registry on SQLite or on PostgreSQL (CREATE DATABASE … TEMPLATE)."""
    if request.param == "sqlite":
        target = tmp_path / "demo.db"
        shutil.copy(demo_template, target)
        return f"sqlite:///{target}"
    template = _pg_demo_template()
    name, url = pg.create_database(template=template)
    _PG_STATE.setdefault("copies", []).append(name)  # type: ignore[union-attr]
    return url


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def demo_ctx(demo_url: str) -> Iterator[AppContext]:
    ctx = AppContext.from_settings(Settings(database_url=demo_url))
    yield ctx
    ctx.engine.dispose()

"""Every write path costs a number of statements that does not grow with the number of values it touches.

The class of defect: a use case that writes one statement per row (one INSERT per tombstone, one UPDATE per
restored value). Nothing is wrong with the result, it is only slow, and slow enough on PostgreSQL to time out
an admin call: de-publishing a 40 000-value correction took 188 s (10 s for the tombstones alone), where a
set-based write takes seconds. Timing would be noisy, so each action runs on a registry of N and of 2N values
and the test compares two counts that do not depend on the machine:

* round trips through SQLAlchemy (an executemany counts one per row on PostgreSQL, where psycopg sends one
  statement per parameter set; SQLite's runs in one C loop);
* on PostgreSQL, the data-version trigger's bumps: it fires once per write *statement* on every watched
  table (migration 0004), whichever way the statement was sent (raw cursor, COPY, executemany).

Chunked reads (500 keys per query) may add a few statements when N doubles; a per-row write adds N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import shutil
from sqlalchemy import event, select

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog import store as catalog_store
from indikera.catalog.demo_descriptions import description_for
from indikera.config import Settings
from indikera.domain.measurements import Proportion
from indikera.ingest.export import write_csv
from indikera.publish import control
from indikera.store import db as store_db
from indikera.store.tables import data_version

from .support import pg
from .support.ingest_files import REG, import_file, many, seed_indicators

YEARS = (2022, 2023)
SLACK = 40  # statements a doubling may add (chunked reads); a per-row write adds hundreds here


def _changed(items):
    """The same keys with other counts: every value is a correction."""
    return [replace(m, result=Proportion(m.result.numerator + 1, m.result.denominator), ci=None) for m in items]


class Counter:
    def __init__(self, engine):
        self.engine, self.round_trips = engine, 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        many = executemany and conn.dialect.name == "postgresql"
        self.round_trips += len(parameters) if many else 1

    def bumps(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(data_version.c.version)).scalar_one()

    def measure(self, action: Callable[[], object]) -> tuple[int, int]:
        trips, bumps = self.round_trips, self.bumps()
        action()
        return self.round_trips - trips - 1, self.bumps() - bumps  # minus the bumps() read itself


def _costs(db_url: str, tmp_path, units: int) -> dict[str, tuple[int, int]]:
    """Statement counts of each write path on a registry of ``units`` × len(YEARS) values."""
    engine = store_db.make_engine(db_url)
    settings = Settings(database_url=db_url)
    seed_indicators(engine)
    described = next(d.indicator for d in demo.INDICATORS if d.indicator.measure_id == "10001")
    assert catalog_store.import_text(engine, jsonformat.dumps([description_for(described)]), "redaktör", approve_as="granskare").ok
    counter = Counter(engine)
    base = many(units, years=YEARS)
    files = {}
    for name, items, directive in (
        ("base", base, None),
        ("corrected", _changed(base), None),
        ("half", base[: len(base) // 2], f"DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:{REG.extension}"),
        ("later", many(units, years=(2024,)), None),
        ("later-fixed", _changed(many(units, years=(2024,))), None),
    ):
        files[name] = tmp_path / f"{units}-{name}.csv"
        write_csv(files[name], items, directive=directive)

    batches: dict[str, int] = {}

    def imported(name):
        def run():
            out = import_file(engine, files[name], settings)
            assert out.changes > 0, name
            batches[name] = out.batch_id
        return run

    def admin(fn, *args, **kw):
        def run():
            args_now = [batches[a] if isinstance(a, str) and a in batches else a for a in args]
            with store_db.writer(engine).begin() as conn:
                fn(conn, *args_now, actor="tester", **kw)
        return run

    costs = {}
    try:
        for label, action in (
            ("import new values", imported("base")),
            ("approve", admin(control.approve_batch, "base", reason="Granskad")),
            ("publish the indicator", admin(control.set_level, "10001", "open", reason="Utredd")),
            ("import corrections of published values", imported("corrected")),
            ("approve corrections", admin(control.approve_batch, "corrected", reason="Granskad")),
            ("de-publish the corrections (restore before-images)", admin(control.depublish_batch, "corrected", reason="Fel fil")),
            ("import removals", imported("half")),
            ("approve removals", admin(control.approve_batch, "half", reason="Granskad")),
            ("de-publish the removals (values come back)", admin(control.depublish_batch, "half", reason="Fel fil")),
            ("import into an unapproved batch", imported("later")),
            ("import corrections of unpublished values", imported("later-fixed")),
            ("de-publish the indicator", admin(control.depublish_indicator, "10001", reason="Utredning")),
        ):
            costs[label] = counter.measure(action)
    finally:
        engine.dispose()
    return costs


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_write_statements_do_not_grow_with_the_values_written(dialect, migrated_sqlite, tmp_path):
    costs = {}
    for units in (300, 600):  # twice the values, the same actions, each on a new database
        if dialect == "sqlite":
            costs[units] = _costs(f"sqlite:///{shutil.copy(migrated_sqlite, tmp_path / f'{units}.db')}", tmp_path, units)
            continue
        ok, why = pg.reachable()
        if not ok:
            pytest.skip(why)
        name, url = pg.create_database()
        try:
            store_db.upgrade(url)
            costs[units] = _costs(url, tmp_path, units)
        finally:
            pg.drop_database(name)
    small, large = costs[300], costs[600]
    # SQLite's data-version triggers are row triggers: there only the round trips say something
    grown = {label: (large[label][0] - small[label][0], large[label][1] - small[label][1] if dialect == "postgresql" else 0)
             for label in small}
    too_many = {label: g for label, g in grown.items() if g[0] > SLACK or g[1] > SLACK}
    assert not too_many, f"statements that grow with the values written (round trips, trigger bumps): {too_many}"

"""The importer's cross-row check (R8 same-length overlaps, R9 duplicates), which takes a per-period shortcut
when a family's periods cannot overlap, reports exactly what the general rule finds over the whole file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indikera.config import Settings
from indikera.domain.periods import Period
from indikera.domain.rules import find_conflicts
from indikera.ingest.export import write_csv
from indikera.ingest.importer import validate
from indikera.store import db as store_db

from .support.ingest_files import organisations, prop, seed_indicators

ORGS = ("u1", "u2", "u3", "u4")
MIDS = ("10001", "10004")  # two proportion families


def _period(kind: str, year: int, n: int) -> Period:
    if kind == "year":
        return Period(date(year, 1, 1), date(year, 12, 31))
    if kind == "quarter":
        start = date(year, 3 * (n % 4) + 1, 1)
        end = (date(year + (start.month == 10), (start.month + 2) % 12 + 1, 1)) - timedelta(days=1)
        return Period(start, end)
    start = date(year, 1, 1) + timedelta(days=40 * n)  # 60-day windows, 40 days apart: these overlap
    return Period(start, start + timedelta(days=59))


rows = st.lists(
    st.tuples(st.sampled_from(MIDS), st.sampled_from(ORGS), st.sampled_from(("year", "quarter", "days")),
              st.integers(2022, 2023), st.integers(0, 5)),
    min_size=1, max_size=25,
)


@pytest.mark.slow
@given(rows)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_cross_row_problems_equal_the_general_rule(tmp_path_factory, spec):
    tmp = tmp_path_factory.mktemp("conf")
    url = f"sqlite:///{tmp}/t.db"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    seed_indicators(engine)
    o = organisations()
    items = [prop(mid, _period(kind, year, n), o[org], 40, 80) for mid, org, kind, year, n in spec]
    path = tmp / "f.csv"
    write_csv(path, items)
    plan = validate(engine, path, Settings(database_url=url))
    plan.spool.close()
    engine.dispose()
    expected = {
        (c.second + 2, c.code) for c in find_conflicts(((m.measure_id, m.organisation.key, m.stratum), m.period) for m in items)
    }
    assert {(p.line, p.code) for p in plan.problems.shown} == expected
    assert plan.ok == (not expected)

"""Issue #15 (a sync protocol that cannot miss anything) and issue #16 item 3 (corrections without a gap), through
the real importer, publication control and every channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from indikera.app import create_app
from indikera.config import Settings
from indikera.contracts.qualityreporting_v2 import store_query
from indikera.contracts.qualityreporting_v2.answer import summarise
from indikera.contracts.qualityreporting_v2.request import Query
from indikera.domain import oids
from indikera.ingest import history
from indikera.publish.visibility import PUBLIC
from indikera.store import db as store_db
from indikera.store.tables import pending_changes

from .conftest import _truncate

from .support.sync_world import KEYS, MID, Consumer, World

Y23 = [k for k in KEYS if k[1].startswith("2023")]
Y24 = [k for k in KEYS if k[1].startswith("2024")]


@pytest.fixture
def world(db_url: str, tmp_path) -> Iterator[World]:
    app = create_app(Settings(database_url=db_url))
    with TestClient(app) as client:
        yield World(app.state.ctx.engine, client, tmp_path)
    app.state.ctx.engine.dispose()


def _vals(keys, n: int) -> dict:
    return {k: (300 + n + i, 500 + i) for i, k in enumerate(keys)}


def _checksum(w: World) -> str:
    with w.engine.connect() as conn:
        sel = store_query.select_for(conn, Query(((oids.MEASURE_ID_ROOT, MID),), "20230101", "20241231"), PUBLIC)
        return summarise(store_query.checksum_rows(conn, sel), "20230101", "20241231").checksum


def test_the_issue_scenario_approval_after_a_poll_and_a_reopening_reach_updated_since(world: World) -> None:
    w = world
    a = w.import_(_vals(Y23, 1))  # batch A: loaded, not approved
    t0 = datetime.now(UTC)
    b = w.import_(_vals(Y24, 2))
    w.approve(b)
    app = Consumer(since=t0)
    app.sync(w)
    assert app.values() == w.opendata() == _vals(Y24, 2)
    w.approve(a)  # A's values were imported before B's, but become public now
    app.sync(w)
    assert app.values() == w.opendata() == _vals(KEYS, 0) | _vals(Y23, 1) | _vals(Y24, 2)
    # Closing tombstones every public value; re-opening makes every value new again (the 4 706 of the issue).
    w.level("unpublished")
    app.sync(w)
    assert app.values() == w.opendata() == {}
    assert {r["reason"] for r in w.removed_since(t0)} == {"closed"}
    reopened = datetime.now(UTC)
    w.level("open")
    assert {(i["measureId"], i["periodStart"]) for i in w.changed_since(reopened)} >= {(MID, "2023-01-01"), (MID, "2024-01-01")}
    assert len(w.changed_since(reopened)) == len(KEYS)
    app.sync(w)
    assert app.values() == w.opendata() and len(app.values()) == len(KEYS)


def test_a_correction_waits_without_a_gap_and_approval_swaps_it_in(world: World) -> None:
    w = world
    v1, v2 = _vals(KEYS, 1), _vals(Y24, 9)
    w.approve(w.import_(v1))
    before = _checksum(w)
    c = w.import_(v2)
    # Waiting: every channel keeps showing the approved value; the SOAP checksum does not move.
    assert all(ch == v1 for ch in w.channels().values())
    assert _checksum(w) == before
    with w.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pending_changes)).scalar_one() == len(Y24)
        shown = {(ch.period[:4], ch.after["numerator"]) for ch in history.changes(conn, c)}  # `import diff` shows the new values
    assert shown == {("2024", v[0]) for v in v2.values()}
    w.approve(c)
    assert all(ch == v1 | v2 for ch in w.channels().values())
    after = _checksum(w)
    assert after != before
    with w.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pending_changes)).scalar_one() == 0
    # De-publishing the correction brings back exactly what it replaced (the checksum too) ...
    w.depublish_batch(c)
    assert all(ch == v1 for ch in w.channels().values())
    assert _checksum(w) == before
    # ... and approving it again swaps it in again.
    w.approve(c)
    assert all(ch == v1 | v2 for ch in w.channels().values()) and _checksum(w) == after


def test_a_removal_waits_and_leaves_a_tombstone_on_approval(world: World) -> None:
    w = world
    w.approve(w.import_(_vals(KEYS, 1)))
    t = datetime.now(UTC)
    r = w.import_(_vals(Y23, 1), replace=True)  # the 2024 values are left out: removed
    assert all(ch == _vals(KEYS, 1) for ch in w.channels().values())
    assert w.removed_since(t) == []
    w.approve(r)
    assert all(ch == _vals(Y23, 1) for ch in w.channels().values())
    gone = w.removed_since(t)
    assert {(g["periodStart"], g["organisationId"], g["reason"]) for g in gone} == {(k[1], k[3], "removed") for k in Y24}


def test_an_import_over_a_waiting_correction_is_refused_naming_the_batch(world: World) -> None:
    w = world
    w.approve(w.import_(_vals(KEYS, 1)))
    c = w.import_(_vals(Y24, 5))
    from indikera.ingest.pending import CorrectionWaiting
    from .support.ingest_files import import_file
    from indikera.ingest.export import write_csv
    from indikera.domain.measurements import Measurement, Proportion
    from .support.ingest_files import REG, Y2024, organisations
    path = w.tmp / "again.csv"
    write_csv(path, [Measurement(MID, 1, Y2024, organisations()["u1"], Proportion(1, 500), REG)], directive="KEEP_")
    with pytest.raises(CorrectionWaiting) as exc:
        import_file(w.engine, path)
    assert f"batch {c}" in exc.value.sv and f"batch {c}" in exc.value.en
    assert w.import_(_vals(Y23, 7)) is not None  # another period is not affected
    w.depublish_batch(c)  # discarding the waiting batch frees the values
    assert w.import_(_vals(Y24, 8)) is not None


def test_a_shared_cache_must_revalidate_and_never_gets_a_304_for_a_depublished_indicator(world: World) -> None:
    w = world
    w.approve(w.import_(_vals(KEYS, 1)))
    urls = ["/api/v1/indicators/10001", "/api/v1/results?measureId=10001", "/api/v1/results/removed"]
    first = {u: w.client.get(u) for u in urls}
    for u, r in first.items():
        assert r.status_code == 200 and r.headers["cache-control"] == "public, no-cache", u  # revalidate every use
        assert w.client.get(u, headers={"If-None-Match": r.headers["etag"]}).status_code == 304, u
    w.depublish_indicator()
    for u, r in first.items():  # the stored copy is never confirmed again
        again = w.client.get(u, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code != 304, u
    assert w.client.get(urls[0]).status_code == 404
    assert len(w.client.get(urls[2]).json()["items"]) == len(KEYS)


# ------------------------------------------------------------------ the properties

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("import"), st.dictionaries(st.sampled_from(range(len(KEYS))), st.integers(0, 400), min_size=1),
              st.booleans()),
    st.tuples(st.just("approve"), st.integers(0, 7)),
    st.tuples(st.just("depublish-batch"), st.integers(0, 7)),
    st.tuples(st.just("level"), st.sampled_from(("open", "restricted", "unpublished"))),
    st.tuples(st.just("depublish-indicator")),
), min_size=1, max_size=12)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=ACTIONS, seed=st.integers(0, 2**16))
def test_any_sequence_a_syncing_consumer_ends_equal_and_corrections_never_leave_a_gap(db_url, request, tmp_path_factory,
                                                                                      actions, seed):
    if db_url.startswith("postgresql"):  # a fresh database for every example
        engine = store_db.make_engine(db_url)
        _truncate(engine)
        engine.dispose()
    else:
        db_url = f"sqlite:///{shutil.copy(request.getfixturevalue('migrated_sqlite'), tmp_path_factory.mktemp('db') / 'x.db')}"
    rnd = random.Random(seed)
    tmp = tmp_path_factory.mktemp("sync")
    app = create_app(Settings(database_url=db_url))
    with TestClient(app) as client:
        w = World(app.state.ctx.engine, client, tmp)
        w.approve(w.import_(_vals(KEYS, 0)))
        live = Consumer()  # follows every step
        live.sync(w)
        starts: list[datetime] = [datetime(2000, 1, 1, tzinfo=UTC)]  # points a late consumer may replay from
        late: list[Consumer] = []
        files: dict[int, tuple[dict, bool]] = {w.batches[0]: (_vals(KEYS, 0), False)}  # batch → (values, DELETE_EXISTING)
        for action in actions:
            starts.append(datetime.now(UTC))
            shown = w.channels()
            assert shown["opendata"] == shown["soap"] == shown["ui"]
            kind = action[0]
            if kind == "import":
                values = {KEYS[i]: (n + 50, 500) for i, n in action[1].items()}
                b = w.import_(values, replace=action[2])
                # An import, approved or waiting, changes nothing any channel shows.
                assert w.channels() == shown
                if b is not None:
                    files[b] = (values, action[2])
            elif kind == "approve" and w.batches:
                b = w.batches[action[1] % len(w.batches)]
                w.approve(b)
                values, replace = files[b]
                for name, now in w.channels().items():
                    for key, old in shown[name].items():
                        if key in now:  # the old approved value or the batch's new one, never none
                            assert now[key] in (old, values.get(key)), (name, key)
                        else:  # gone only when the approved file removed it
                            assert replace and key not in values, (name, key)
            elif kind == "depublish-batch" and w.batches:
                w.depublish_batch(w.batches[action[1] % len(w.batches)])
            elif kind == "level":
                try:
                    w.level(action[1])
                except Exception as exc:  # noqa: BLE001 - only "nothing to change" transitions may refuse
                    raise AssertionError(exc) from exc
            elif kind == "depublish-indicator":
                w.depublish_indicator()
            if rnd.random() < 0.5:
                live.sync(w)
            if rnd.random() < 0.3:  # a new app: a full export, then the feed from any point before it
                late.append(Consumer(w.export(), since=rnd.choice(starts)))
        final = w.opendata()
        shown = w.channels()
        assert shown["opendata"] == shown["soap"] == shown["ui"] == final
        for consumer in [live, *late]:
            consumer.sync(w)
            assert consumer.values() == final
    app.state.ctx.engine.dispose()

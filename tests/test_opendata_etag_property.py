"""Property: the open-data ETag changes exactly when something a client could see changes.

Random sequences of imports, approvals, de-publications, publication levels, new description versions,
agreements, organisation renames, corrections by hand and invisible writes run against a small registry (three indicators).
After every step each URL's bytes and ETag are compared with the step before: a changed body must come
with a changed ETag (no write is missed, whichever table it touched), and when no body changed no ETag
may change (the digest is of what the public sees, not of the tables). The organisation names of the
open-data results and of a SOAP answer are always the stored ones (no stale directory).
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, select, text, update

from indikera import demo
from indikera.app import create_app
from indikera.catalog import jsonformat
from indikera.catalog import store as catalog
from indikera.catalog.demo_descriptions import description_for
from indikera.config import Settings
from indikera.domain.errors import IndikeraError
from indikera.ingest.export import write_csv
from indikera.ingest.pending import CorrectionWaiting
from indikera.publish import control
from indikera.store import db as store_db
from indikera.store.access_tables import agreements
from indikera.store.db import writer
from indikera.store.repositories import upsert_indicator, utcnow
from indikera.store.catalog_tables import indicator_descriptions, publication_log
from indikera.store.tables import batches, indicators, measurement_history, measurements, organisations

from .support import soap_client as sc
from .support.ingest_files import Y2023, Y2024, import_file
from .support.ingest_files import organisations as orgs_of
from .support.ingest_files import prop

MIDS = ("10001", "10005", "10008")
SPECS = {spec.indicator.measure_id: spec.indicator for spec in demo.INDICATORS if spec.indicator.measure_id in MIDS}
UNITS = ("riket", "01", "24", "ks", "u1", "u4")
LEVELS = ("open", "restricted", "unpublished")
WATCHED_0006 = ("indicator_descriptions", "publication_log", "measurement_history")


def _urls() -> list[str]:
    out = ["/api/v1/indicators", "/api/v1/results?limit=1000", "/api/v1/results.csv", "/api/v1/organisations?limit=1000",
           "/api/v1/changes?limit=1000", "/datasets/dcat"]
    for mid in MIDS:
        out += [f"/api/v1/indicators/{mid}", f"/api/v1/indicators/{mid}/versions"]
    return out


URLS = _urls()


def _values(seed: int, renamed: bool) -> list:
    o = orgs_of()
    if renamed:  # the same unit (same HSA-id) under a new name: the import renames it
        o["u1"] = replace(o["u1"], name=f"Strokeenheten KS ({seed})")
    # ``seed`` changes every other unit: the rest of the approved batch stays visible
    return [prop("10001", period, o[key], 300 + 11 * i + (seed if i % 2 else 0), 500)
            for period in (Y2023, Y2024) for i, key in enumerate(UNITS)]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Three described indicators (two open, one restricted) and one approved import."""
    path = tmp_path_factory.mktemp("etag") / "template.db"
    url = f"sqlite:///{path}"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    with writer(engine).begin() as conn:
        for mid in MIDS:
            upsert_indicator(conn, SPECS[mid])
        assert catalog.save(conn, [description_for(SPECS[mid]) for mid in MIDS], "t", approve_as="g").written
    csv_path = path.with_suffix(".csv")
    write_csv(csv_path, _values(0, False))
    batch = import_file(engine, csv_path).batch_id
    with writer(engine).begin() as conn:
        control.approve_batch(conn, batch, actor="t", reason="granskad")
        for mid, level in zip(MIDS, ("open", "open", "restricted"), strict=True):
            control.set_level(conn, mid, level, actor="t", reason="beslut")
    engine.dispose()
    return path


actions = st.one_of(
    st.tuples(st.just("import"), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("approve"), st.just(0), st.just(False)),
    st.tuples(st.just("depublish-batch"), st.integers(0, 3), st.just(False)),
    st.tuples(st.just("level"), st.integers(0, len(MIDS) - 1), st.sampled_from(LEVELS)),
    st.tuples(st.just("describe"), st.integers(0, len(MIDS) - 1), st.just(False)),
    st.tuples(st.just("agreement"), st.just(0), st.just(False)),
    st.tuples(st.just("rename-sql"), st.sampled_from(UNITS), st.booleans()),
    st.tuples(st.just("invisible-sql"), st.just(0), st.just(False)),
    st.tuples(st.just("correct-sql"), st.integers(0, 11), st.just(False)),
)


def _do(engine, tmp: Path, counter, action: tuple) -> None:
    kind, arg, flag = action
    if kind == "import":
        path = tmp / f"import-{next(counter)}.csv"
        write_csv(path, _values(arg, flag))
        try:
            import_file(engine, path)
        except CorrectionWaiting:
            pass  # another batch's correction of these values waits for approval: refused, nothing written
        return
    with writer(engine).begin() as conn:
        try:
            if kind == "approve":
                applied = conn.execute(select(batches.c.id).where(batches.c.status == "applied")).scalars().all()
                if applied:
                    control.approve_batch(conn, max(applied), actor="t", reason="granskad")
            elif kind == "depublish-batch":
                approved = conn.execute(select(batches.c.id).where(batches.c.status == "approved")
                                        .order_by(batches.c.id)).scalars().all()
                if approved:
                    control.depublish_batch(conn, approved[arg % len(approved)], actor="t", reason="fel fil")
            elif kind == "level":
                control.set_level(conn, MIDS[arg], flag, actor="t", reason="beslut")
            elif kind == "describe":
                latest = catalog.latest_descriptions(conn, [MIDS[arg]])[MIDS[arg]]
                newer = replace(latest, version_minor=latest.version_minor + 1,
                                purpose=f"{latest.purpose} (v{latest.version_minor + 1})")
                result = catalog.save(conn, [newer], "t")
                assert result.written, [str(f) for f in result.findings]
            elif kind == "agreement":  # restricted data for one consumer: nothing the public sees
                conn.execute(insert(agreements).values(consumer_hsa_id="SE2321000000-VIS", reference="CPUA-1",
                                                       indicator_id=None, valid_from=date(2020, 1, 1), created_by="t",
                                                       created_at=utcnow()))
            elif kind == "rename-sql":  # a DBA's direct write, no application code
                key = orgs_of()[arg]
                name = f"{key.name} {'(nytt namn)' if flag else ''}".strip()
                conn.execute(update(organisations).where(organisations.c.name.like(key.name + "%"))
                             .where(organisations.c.type == key.type.value).values(name=name))
            elif kind == "correct-sql":  # a DBA corrects one value by hand, stamping it as every writer does
                ids = conn.execute(select(measurements.c.id).order_by(measurements.c.id)).scalars().all()
                conn.execute(update(measurements).where(measurements.c.id == ids[arg % len(ids)])
                             .values(numerator=measurements.c.numerator + 1,  # the rate with it: a consistent value
                                     rate=(measurements.c.numerator + 1) / measurements.c.denominator, updated_at=utcnow()))
            elif kind == "invisible-sql":  # a write no public answer shows (the file name of every batch)
                conn.execute(text("UPDATE batches SET file_name = file_name || 'x'"))
        except IndikeraError:
            pass  # a transition the rules refuse (e.g. approving twice): nothing written


def _observe(client: TestClient) -> dict[str, tuple[int, bytes, str | None]]:
    out = {}
    for url in URLS:
        r = client.get(url)
        out[url] = (r.status_code, r.content, r.headers.get("etag"))
    return out


def _check_names(client: TestClient, engine) -> None:
    with engine.connect() as conn:
        stored = {r.key: r.name for r in conn.execute(select(organisations.c.key, organisations.c.name))}
    results = client.get("/api/v1/results?limit=1000").json()["items"]
    for item in results:
        org = item["organisation"]
        assert org["name"] == stored[org["id"]], org
    report = sc.answer(sc.post(client, sc.request(("10001", "10005"), "20230101", "20241231", True)))
    shown = {n.text for n in report.envelope.iterfind(".//qr:organizationName", sc.NS)}
    assert shown <= set(stored.values()), shown - set(stored.values())


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(actions, min_size=1, max_size=5))
def test_etag_changes_exactly_when_the_visible_content_changes(template, tmp_path_factory, steps) -> None:
    tmp = tmp_path_factory.mktemp("run")
    shutil.copy(template, tmp / "db.sqlite")
    app = create_app(Settings(database_url=f"sqlite:///{tmp / 'db.sqlite'}"))
    counter = itertools.count()
    try:
        with TestClient(app) as client:
            engine = app.state.ctx.engine
            before = _observe(client)
            for action in steps:
                _do(engine, tmp, counter, action)
                after = _observe(client)
                changed = [u for u in URLS if before[u][:2] != after[u][:2]]
                moved = [u for u in URLS if before[u][2] and after[u][2] and before[u][2] != after[u][2]]
                for url in changed:  # every visible change moves the validator of that URL
                    if before[url][2] and after[url][2]:
                        assert url in moved, (action, url)
                assert changed or not moved, (action, "the ETag moved although nothing visible changed", moved)
                _check_names(client, engine)
                before = after
    finally:
        app.state.ctx.engine.dispose()


def _raw_write(conn, table: str) -> None:
    """A write to ``table`` alone that the public sees, made without application code."""
    if table == "indicator_descriptions":
        latest = catalog.latest_descriptions(conn, ["10001"])["10001"]
        newer = replace(latest, version_minor=latest.version_minor + 1, purpose="Nytt syfte")
        conn.execute(insert(indicator_descriptions).values(
            measure_id="10001", version_major=newer.version_major, version_minor=newer.version_minor,
            document=jsonformat.to_dict(newer), created_by="dba", created_at=utcnow()))
    elif table == "publication_log":  # an opening the feed announces
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10001")).scalar_one()
        conn.execute(insert(publication_log).values(at=utcnow(), actor="dba", action="publish", indicator_id=iid,
                                                    level_before="restricted", level_after="open", reason="-"))
    else:  # a removal in the approved batch, which the feed lists by key
        h = measurement_history
        row = conn.execute(select(h).where(h.c.operation == "added").limit(1)).one()._asdict()
        conn.execute(insert(h).values({**{k: v for k, v in row.items() if k != "id"}, "operation": "removed",
                                       "before": row["after"], "after": None}))


@pytest.mark.parametrize("dropped", [False, True], ids=["with-trigger", "trigger-dropped"])
@pytest.mark.parametrize("table", WATCHED_0006)
def test_a_missing_trigger_is_caught(template, tmp_path, table, dropped) -> None:
    """Each table of migration 0006 is seen only through its trigger: drop it and a visible write is served
    under the old ETag (stale) — exactly what the property above asserts against."""
    shutil.copy(template, tmp_path / "db.sqlite")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    try:
        with TestClient(app) as client:
            engine = app.state.ctx.engine
            if dropped:
                with writer(engine).begin() as conn:
                    for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                  "AND tbl_name = :t"), {"t": table}).scalars().all():
                        conn.execute(text(f'DROP TRIGGER "{name}"'))
            first = _observe(client)
            with writer(engine).begin() as conn:
                _raw_write(conn, table)
            app.state.ctx.caches.clear()
            truth = _observe(client)  # what a fresh process serves
            assert [u for u in URLS if first[u][:2] != truth[u][:2]], "the write must be visible"
            app.state.ctx.caches.clear()
            client.get(URLS[0])  # cache the state again, then write once more
            with writer(engine).begin() as conn:
                _raw_write(conn, table)
            served = client.get(URLS[0]).headers["etag"]
            app.state.ctx.caches.clear()
            fresh = client.get(URLS[0]).headers["etag"]
            assert (served == truth[URLS[0]][2]) is dropped  # trigger dropped: the cached, stale ETag
            assert (served != fresh) is dropped
    finally:
        app.state.ctx.engine.dispose()


def test_a_same_length_rename_shows_in_the_very_next_soap_answer(template, tmp_path) -> None:
    """The organisation directory is keyed on the data version: no fingerprint to fool, no expiry to wait for."""
    shutil.copy(template, tmp_path / "db.sqlite")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    request = sc.request(("10001",), "20230101", "20241231", True)

    def names() -> set[str]:
        return {n.text for n in sc.answer(sc.post(client, request)).envelope.iterfind(".//qr:organizationName", sc.NS)}

    try:
        with TestClient(app) as client:
            engine = app.state.ctx.engine
            assert "Strokeenheten KS" in names()
            with writer(engine).begin() as conn:  # same length, same parent: a fingerprint would not see it
                conn.execute(text("UPDATE organisations SET name = 'Strokeenheten KT' WHERE name = 'Strokeenheten KS'"))
            shown = names()
            assert "Strokeenheten KT" in shown and "Strokeenheten KS" not in shown
            seen: list[str] = []
            listener = lambda conn, cursor, stmt, *_: seen.append(stmt)  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                names()  # nothing changed: the directory is not read again
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            assert not [s for s in seen if "FROM organisations" in s or "FROM source_systems" in s], seen
    finally:
        app.state.ctx.engine.dispose()


def test_an_unchanged_registry_answers_from_one_look_up(template, tmp_path) -> None:
    """With the data version unchanged, a request (200 or 304) reads the counter and nothing else."""
    shutil.copy(template, tmp_path / "db.sqlite")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    try:
        with TestClient(app) as client:
            engine = app.state.ctx.engine
            first = client.get("/api/v1/indicators")
            seen: list[str] = []
            listener = lambda conn, cursor, stmt, *_: seen.append(stmt)  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                for headers in ({}, {"If-None-Match": first.headers["etag"]}):
                    seen.clear()
                    r = client.get("/api/v1/indicators", headers=headers)
                    queries = [s for s in seen if "audit_log" not in s and s.strip() != "BEGIN"]
                    assert len(queries) == 1 and "data_version" in queries[0], (r.status_code, queries)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
    finally:
        app.state.ctx.engine.dispose()

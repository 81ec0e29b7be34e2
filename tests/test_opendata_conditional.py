"""Conditional requests and the change feed: a consumer polls cheaply (304) and never misses a change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from indikera.app import create_app
from indikera.config import Settings
from indikera.publish import control
from indikera.store.db import writer
from indikera.store.tables import indicators, measurements

URLS = [
    "/api/v1/indicators",
    "/api/v1/indicators/10001",
    "/api/v1/indicators/10001/versions",
    "/api/v1/indicators/10001/submeasures",
    "/api/v1/results?measureId=10001&periodFrom=2025-01-01&periodTo=2025-12-31",
    "/api/v1/results.csv?measureId=10005&riket=true",
    "/api/v1/organisations?type=Lan",
    "/api/v1/changes",
    "/datasets/dcat",
]


@pytest.fixture
def app_client(demo_db_url: str) -> Iterator[tuple[TestClient, object]]:
    app = create_app(Settings(database_url=demo_db_url))
    with TestClient(app) as c:
        yield c, app.state.ctx.engine
    app.state.ctx.engine.dispose()


@pytest.mark.slow
def test_unchanged_data_gives_304_and_a_change_gives_200(app_client) -> None:
    client, engine = app_client
    first = {u: client.get(u) for u in URLS}
    for url, r in first.items():
        assert r.status_code == 200, url
        etag, last_modified = r.headers["etag"], r.headers["last-modified"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.content == b"" and again.headers["etag"] == etag
        assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304, url
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200, url
        assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304, url
        old = format_datetime(datetime(2001, 1, 1, tzinfo=UTC), usegmt=True)
        assert client.get(url, headers={"If-Modified-Since": old}).status_code == 200, url
        assert client.get(url, headers={"If-Modified-Since": "garbage"}).status_code == 200, url
    # The same query in another parameter order is the same representation.
    a = client.get("/api/v1/results?periodFrom=2025-01-01&measureId=10001&periodTo=2025-12-31")
    assert a.headers["etag"] == first[URLS[4]].headers["etag"]
    # A corrected value changes every validator that could depend on it.
    time.sleep(1.1)  # Last-Modified has whole seconds
    with writer(engine).begin() as conn:
        mid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10001")).scalar_one()
        row = conn.execute(select(measurements.c.id).where(measurements.c.indicator_id == mid, measurements.c.kind == "proportion").limit(1)).scalar_one()
        conn.execute(update(measurements).where(measurements.c.id == row).values(updated_at=datetime.now(UTC)))
    for url, r in first.items():
        changed = client.get(url, headers={"If-None-Match": r.headers["etag"]})
        assert changed.status_code == 200, url
        assert changed.headers["etag"] != r.headers["etag"]
        assert client.get(url, headers={"If-Modified-Since": r.headers["last-modified"]}).status_code == 200, url


@pytest.mark.slow
def test_updated_since_returns_exactly_the_changed_values(app_client) -> None:
    client, engine = app_client
    before = datetime.now(UTC)
    since = before.isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/results?updatedSince={since}").json()["items"] == []
    with writer(engine).begin() as conn:
        mid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10007")).scalar_one()
        ids = conn.execute(select(measurements.c.id).where(measurements.c.indicator_id == mid).order_by(measurements.c.id).limit(7)).scalars().all()
        for n, i in enumerate(ids):
            # updatedSince follows the publication time (visible_since, issue #15), not the import time
            conn.execute(update(measurements).where(measurements.c.id == i).values(visible_since=before + timedelta(seconds=1 + n)))
    items, url = [], f"/api/v1/results?updatedSince={since}&limit=3"
    while url:
        body = client.get(url).json()
        items += body["items"]
        url = body["next"] and body["next"].replace("http://testserver", "")
    assert len(items) == 7 and {i["measureId"] for i in items} == {"10007"}
    stamps = [i["updatedAt"] for i in items]
    assert stamps == sorted(stamps)  # the change order: oldest change first, so a consumer can resume
    csv_rows = client.get(f"/api/v1/results.csv?updatedSince={since}").text.strip().splitlines()
    assert len(csv_rows) == 1 + 7


def test_depublication_and_opening_appear_in_the_feed_without_leaking(app_client) -> None:
    client, engine = app_client
    since = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    with writer(engine).begin() as conn:
        control.depublish_indicator(conn, "10004", actor="redaktör Anna", reason="felaktig täljare hittad")
        control.set_level(conn, "10015", "open", actor="redaktör Anna", reason="avtal klart")
        control.set_level(conn, "10016", "restricted", actor="redaktör Anna", reason="bara VIS")
    feed = client.get("/api/v1/changes", params={"since": since}).json()["items"]
    kinds = {(e["type"], e.get("measureId")) for e in feed}
    assert ("indicator-closed", "10004") in kinds
    assert ("indicator-opened", "10015") in kinds
    assert all(e.get("measureId") != "10016" for e in feed)  # restricted is not open: not named
    text = client.get("/api/v1/changes", params={"since": since}).text
    assert "Anna" not in text and "täljare" not in text and "avtal" not in text  # who and why stay internal
    assert client.get("/api/v1/indicators/10004").status_code == 404
    assert client.get("/api/v1/indicators/10015").status_code == 200
    updated = [i["measureId"] for i in client.get("/api/v1/indicators", params={"updatedSince": since}).json()["items"]]
    assert updated == ["10015"]


def test_batch_depublication_is_announced_and_removes_the_values(app_client) -> None:
    client, engine = app_client
    since = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    with writer(engine).begin() as conn:
        batch = conn.execute(select(measurements.c.batch_id).limit(1)).scalar_one()
        control.depublish_batch(conn, batch, actor="admin", reason="fel fil")
    feed = client.get("/api/v1/changes", params={"since": since}).json()["items"]
    (event,) = [e for e in feed if e["type"] == "results-depublished"]
    assert event["batchId"] == batch
    assert event["measureIds"] == [str(n) for n in range(10001, 10015)]  # 10015/10016 were never open
    assert client.get("/api/v1/results?measureId=10001").json()["items"] == []

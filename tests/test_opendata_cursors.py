"""Signed pagination cursors (issue #14, defect 4): a client can read a cursor but not forge one, and any
bad cursor is a 400 problem, never a 500."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.store.tables import settings as settings_table

URL = "/api/v1/results?limit=2"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _payload(cursor: str) -> dict:
    body = cursor.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.fixture(scope="module")
def db(demo_template, tmp_path_factory) -> str:
    target = tmp_path_factory.mktemp("cursors") / "demo.db"
    shutil.copy(demo_template, target)
    return f"sqlite:///{target}"


def _app(url: str, **extra) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=url, **extra))
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


@pytest.fixture(scope="module")
def client(db: str) -> Iterator[TestClient]:
    yield from _app(db)


def _assert_cursor_problem(r) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["parameter"] == "cursor"


def test_a_reencoded_key_out_of_range_is_a_400_not_a_500(client: TestClient) -> None:
    cursor = client.get(URL).json()["nextCursor"]
    data = _payload(cursor)
    assert data["o"] == "n" and isinstance(data["k"][3], int)
    data["k"][3] = 10**30
    forged = _b64(json.dumps(data, separators=(",", ":")).encode())
    _assert_cursor_problem(client.get(f"{URL}&cursor={forged}"))  # the old, unsigned form
    _assert_cursor_problem(client.get(f"{URL}&cursor={forged}.{cursor.split('.')[1]}"))  # with a stolen signature


def test_a_forged_cursor_with_plausible_values_is_refused(client: TestClient) -> None:
    cursor = client.get(URL).json()["nextCursor"]
    data = _payload(cursor)
    data["k"][3] += 1
    forged = _b64(json.dumps(data, separators=(",", ":")).encode()) + "." + cursor.split(".")[1]
    _assert_cursor_problem(client.get(f"{URL}&cursor={forged}"))


def test_each_list_pages_with_signed_cursors(client: TestClient) -> None:
    for path in ("/api/v1/results?limit=3", "/api/v1/indicators?limit=3", "/api/v1/organisations?limit=3", "/api/v1/changes?limit=1"):
        first = client.get(path).json()
        assert first["nextCursor"] and "." in first["nextCursor"], path
        nxt = client.get(f"{path}&cursor={first['nextCursor']}")
        assert nxt.status_code == 200 and nxt.json()["items"] != first["items"], path
        _assert_cursor_problem(client.get(f"{path}&cursor={first['nextCursor'][:-2]}AA"))


def test_processes_on_one_database_share_the_generated_secret(db: str, client: TestClient) -> None:
    cursor = client.get(URL).json()["nextCursor"]
    other = create_app(Settings(database_url=db))  # a second worker: its own context, the same database
    try:
        with TestClient(other) as c:
            assert c.get(f"{URL}&cursor={cursor}").status_code == 200
        with other.state.ctx.engine.connect() as conn:
            stored = conn.execute(select(settings_table.c.value).where(settings_table.c.key == "cursor_secret")).scalar_one()
        assert len(stored) == 64 and stored not in cursor
    finally:
        other.state.ctx.engine.dispose()


def test_a_configured_secret_signs_and_other_secrets_do_not_verify(db: str) -> None:
    first = _app(db, cursor_secret="s3cret-one")
    a = next(first)
    cursor = a.get(URL).json()["nextCursor"]
    assert a.get(f"{URL}&cursor={cursor}").status_code == 200
    first.close()  # ends the TestClient
    second = _app(db, cursor_secret="s3cret-two")
    _assert_cursor_problem(next(second).get(f"{URL}&cursor={cursor}"))
    second.close()
    assert "s3cret" not in repr(Settings(cursor_secret="s3cret-one"))


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%+/ \x00é"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mutations_of_a_valid_cursor_are_400_never_500(client: TestClient, data) -> None:
    cursor = client.get(URL).json()["nextCursor"]
    chars = list(cursor)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(chars) - 1, 0)))
        if kind == "delete" and chars:
            del chars[pos]
        elif kind == "insert":
            chars.insert(pos, data.draw(st.sampled_from(ALPHABET)))
        elif chars:
            chars[pos] = data.draw(st.sampled_from(ALPHABET))
    mutated = "".join(chars)
    r = client.get(URL, params={"cursor": mutated})
    if mutated == cursor:
        assert r.status_code == 200
    else:
        _assert_cursor_problem(r)

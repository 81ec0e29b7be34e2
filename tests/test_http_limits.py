"""`serve` facing the network directly, over raw sockets (issue #14, defects 3 and 6): HTTP/1.1 framing,
read timeouts, the connection limit, and a client that leaves mid-body (info log, audited ``aborted``)."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from sqlalchemy import select

from indikera.config import Settings
from indikera.http_limits import HTTPLimits
from indikera.server import uvicorn_options
from indikera.store import db as store_db
from indikera.store.access_tables import audit_log

from .support import soap_client as sc
from .support.access import app_for
from .support.server import running

# Timeouts long enough that a loaded CI runner (two test workers on two cores) answers well inside them,
# short enough to keep the tests quick; the connection limit has its own server with long timeouts, so a
# connection closed there within seconds can only have been closed by the limit.
LIMITS = HTTPLimits(header_timeout=1.0, body_timeout=1.0, max_connections=12)
LIMIT_ONLY = HTTPLimits(header_timeout=60, body_timeout=60, max_connections=12)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('http') / 'http.db'}"
    store_db.upgrade(url)
    return url


@pytest.fixture(scope="module")
def guarded(db):
    app, ctx = app_for(db)
    with running(app, **uvicorn_options(None, LIMITS)) as url:
        yield int(url.rsplit(":", 1)[1]), ctx
    ctx.engine.dispose()


@pytest.fixture(scope="module")
def limited(db):
    app, ctx = app_for(db)
    with running(app, **uvicorn_options(None, LIMIT_ONLY)) as url:
        yield int(url.rsplit(":", 1)[1]), ctx
    ctx.engine.dispose()


def _read_response(sock: socket.socket, within: float = 5) -> bytes:
    """One whole small response (the head and a Content-Length body), waiting as long as a busy runner needs."""
    sock.settimeout(within)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data[:200]!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += sock.recv(65536)
    return data


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def _read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, bool]:
    """Everything the server sends and whether it closed the connection within ``within`` seconds."""
    sock.settimeout(0.1)
    data, deadline = b"", time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def _soap_head(length: int) -> bytes:
    return (f"POST {sc.PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=UTF-8\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def _audit_outcomes(ctx) -> list[str]:
    with ctx.engine.connect() as conn:
        return [r.outcome for r in conn.execute(select(audit_log).where(audit_log.c.channel == "soap").order_by(audit_log.c.id))]


def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(guarded):
    port, _ = guarded
    with _connect(port) as sock:
        sock.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3\r\nabc\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = _read_until_closed(sock, 3)
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert closed and data.count(b"HTTP/1.1") == 1  # the smuggled second request is never answered


def test_a_kept_alive_connection_serves_several_requests(guarded):
    port, _ = guarded
    with _connect(port) as sock:
        for _ in range(3):
            sock.sendall(b"GET /access/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.5)  # under the head timeout each time (it counts from the answer), over it in total


def test_an_idle_connection_and_a_slowloris_are_closed_after_the_header_timeout(guarded):
    port, _ = guarded
    idle = _connect(port)
    slow = [_connect(port) for _ in range(8)]
    started = time.monotonic()
    for sock in slow:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    open_ = set(range(len(slow)))
    while open_ and time.monotonic() - started < 5:
        for i in list(open_):
            try:
                slow[i].sendall(b"X")  # one more header byte every 0.1 s: never a complete head
            except OSError:
                open_.discard(i)
        time.sleep(0.1)
        for i in list(open_):
            slow[i].settimeout(0.001)
            try:
                if slow[i].recv(1) == b"":
                    open_.discard(i)
            except TimeoutError:
                pass
            except OSError:
                open_.discard(i)
    elapsed = time.monotonic() - started
    assert not open_, f"{len(open_)} slowloris connections still open after {elapsed:.1f} s"
    assert elapsed < 4.5
    assert _read_until_closed(idle, 2)[1]
    for sock in (idle, *slow):
        sock.close()


def test_a_stalled_body_is_closed_after_the_body_timeout_and_audited_as_aborted(guarded, caplog):
    port, ctx = guarded
    caplog.set_level(logging.INFO)
    before = len(_audit_outcomes(ctx))
    with _connect(port) as sock:
        sock.sendall(_soap_head(1000) + sc.request()[:100])
        started = time.monotonic()
        _, closed = _read_until_closed(sock, 4)
    assert closed and time.monotonic() - started < 3
    _wait_for(lambda: len(_audit_outcomes(ctx)) > before)
    assert _audit_outcomes(ctx)[before:] == ["aborted"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_connections_beyond_the_limit_are_closed_at_once(limited):
    port, _ = limited
    held = [_connect(port) for _ in range(LIMIT_ONLY.max_connections)]
    time.sleep(0.1)
    try:
        with _connect(port) as extra:  # the timeouts are a minute: a close within seconds is the limit's
            data, closed = _read_until_closed(extra, 5)
            assert closed and data == b""
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10  # room again, once the server has seen the held connections close
    while True:
        with _connect(port) as sock:
            sock.sendall(b"GET /access/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = _read_until_closed(sock, 3)[0]
        if data.startswith(b"HTTP/1.1 200 ") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]


def _wait_for(condition, within: float = 5) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["close mid-body", "bad chunking"])
def test_a_client_leaving_mid_body_is_logged_at_info_and_audited_as_aborted(db, caplog, how):
    """Without any timeout of ours (plain protocol): the endpoint itself treats the disconnect as ordinary."""
    caplog.set_level(logging.INFO)
    app, ctx = app_for(db)
    try:
        with running(app, **uvicorn_options(None)) as url:
            before = len(_audit_outcomes(ctx))
            with _connect(int(url.rsplit(":", 1)[1])) as sock:
                if how == "close mid-body":
                    sock.sendall(_soap_head(5000) + sc.request()[:200])
                    time.sleep(0.3)  # the endpoint is reading the body
                else:
                    head = _soap_head(0).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
                    sock.sendall(head + b"10\r\n" + sc.request()[:16] + b"\r\nZZ\r\n")
                    _read_until_closed(sock, 2)
            _wait_for(lambda: len(_audit_outcomes(ctx)) > before)
            assert _audit_outcomes(ctx)[before:] == ["aborted"]
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, [r.getMessage() for r in errors]
        assert any("client disconnected" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    finally:
        ctx.engine.dispose()


def test_the_limits_are_settings():
    limits = HTTPLimits.from_settings(Settings(http_header_timeout=2.5, http_body_timeout=7, http_max_connections=3))
    assert limits == HTTPLimits(2.5, 7, 3)
    assert HTTPLimits.from_settings(Settings()) == HTTPLimits()

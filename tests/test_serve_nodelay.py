"""Every accepted connection has TCP_NODELAY, also on the socket that ``serve --workers N`` listens on.

uvicorn's supervisor binds that socket itself (``Config.bind_socket``: ``socket.socket(family=…)``, proto 0)
and asyncio sets TCP_NODELAY only when ``proto`` is IPPROTO_TCP. Without it, a small response written in two
parts (head, then body) waits for the client's delayed ACK: every checksum-only answer took 40 ms more with
two workers than with one (bench/bench_load.py: 47.6 ms serial p50 against 2.6 ms). Nothing fails, it is only
slow, so the test reads the option off the server's side of each connection instead of timing anything.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from indikera.http_limits import HTTPLimits, protocol_for

from .support.server import free_port


def _hello(_request):
    return PlainTextResponse("ok")


def _server_side_nodelay(http) -> list[int]:
    port = free_port()
    config = uvicorn.Config(Starlette(routes=[Route("/", _hello)]), host="127.0.0.1", port=port, http=http,
                            log_level="warning", lifespan="off")
    sock = config.bind_socket()  # what uvicorn.supervisors.Multiprocess hands every worker
    assert sock.proto == 0  # the premise: asyncio will not set TCP_NODELAY by itself on these
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "test server did not start"
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:  # one kept-alive connection
            assert client.get("/").text == "ok"
            return [p.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                    for p in server.server_state.connections]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_worker_connections_have_no_delay():
    flags = _server_side_nodelay(protocol_for(HTTPLimits()))
    assert flags and all(flags), flags


def test_the_premise_plain_uvicorn_leaves_it_off():
    """Without indikera's protocol the same socket gives connections without TCP_NODELAY: the test above is
    not passing by accident (should a later uvicorn or Python set it, this one says so)."""
    flags = _server_side_nodelay("h11")
    assert flags and not any(flags), flags

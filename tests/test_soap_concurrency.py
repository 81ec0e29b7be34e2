"""At most ``soap_concurrent_answers`` SOAP answers are built at once per process; the rest wait their turn.

Building an answer is CPU work under the GIL. Before the limit, 32 concurrent consumers meant 32 threads
building at once: they thrashed, and full answers ran at 0.52× the one-at-a-time throughput (0.87× with two
at a time: bench/README.md). Nothing is wrong in any answer, only slower, so the test counts: a handler that
takes a while records how many run at the same moment while twelve calls arrive together over real sockets.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from indikera.config import Settings
from indikera.contracts import endpoint

from .support import soap_client as sc
from .support.server import running


class Gauge:
    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()

    def handler(self, _soap, _call) -> Response:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.15)  # building a large answer
        with self.lock:
            self.now -= 1
        return Response(b"<ok/>", media_type="text/xml")


def _app(gauge: Gauge, concurrent: int) -> Starlette:
    async def call(request: Request) -> Response:
        return await endpoint.serve(request, soap_action="", max_bytes=100_000, max_depth=64,
                                    handler=gauge.handler, concurrent=concurrent)

    return Starlette(routes=[Route("/soap", call, methods=["POST"])])


async def _together(url: str, n: int) -> list[int]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=n)) as client:
        answers = await asyncio.gather(*(client.post(url, content=sc.request(), headers={"Content-Type": "text/xml"})
                                         for _ in range(n)))
    return [a.status_code for a in answers]


@pytest.mark.parametrize("concurrent", [1, 2, 3])
def test_answers_are_built_at_most_n_at_a_time(concurrent):
    gauge = Gauge()
    with running(_app(gauge, concurrent)) as base:
        assert asyncio.run(_together(base + "/soap", 12)) == [200] * 12  # every call is answered, none refused
    assert gauge.most == concurrent  # the limit is reached (the calls did overlap) and never passed


def test_the_default_is_two_per_process():
    assert Settings().soap_concurrent_answers == 2

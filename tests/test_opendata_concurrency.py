"""At most ``opendata_concurrent_answers`` open-data answers are built at once per process; the rest wait.

The API's routes run in threads; 32 consumers meant 32 threads building JSON under the GIL at once, and the
open data answered 0.55–0.75× its one-at-a-time throughput (bench/README.md). Nothing is wrong in any answer,
only slower, so the test counts: the view look-up every route makes is wrapped to take a while and to record
how many run at the same moment, while twelve requests arrive together over real sockets. A streamed export
holds its place only until its response starts: a client that reads slowly blocks nobody.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from indikera.app import create_app
from indikera.config import Settings
from indikera.opendata import view_cache

from .support.server import running


class Gauge:
    def __init__(self, real) -> None:
        self.real, self.now, self.most = real, 0, 0
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.1)  # a large page
            return self.real(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


async def _together(url: str, n: int) -> list[int]:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=n)) as client:
        answers = await asyncio.gather(*(client.get(url) for _ in range(n)))
    return [a.status_code for a in answers]


@pytest.mark.parametrize("concurrent", [1, 2, 3])
def test_open_data_is_built_at_most_n_at_a_time(demo_url, monkeypatch, concurrent):
    gauge = Gauge(view_cache.current)
    monkeypatch.setattr(view_cache, "current", gauge)
    app = create_app(Settings(database_url=demo_url, opendata_concurrent_answers=concurrent))
    with running(app) as base:
        url = base + "/api/v1/results?measureId=10001&limit=50"
        assert asyncio.run(_together(url, 12)) == [200] * 12  # every request answered, none refused
    assert gauge.most == concurrent  # the limit is reached (the requests did overlap) and never passed


def test_a_slow_export_reader_holds_no_place(demo_url):
    app = create_app(Settings(database_url=demo_url, opendata_concurrent_answers=1))
    with running(app) as base, httpx.Client(timeout=30) as slow, httpx.Client(timeout=10) as other:
        with slow.stream("GET", base + "/api/v1/results.csv") as export:  # headers read, body left waiting
            assert export.status_code == 200
            started = time.monotonic()
            assert other.get(base + "/api/v1/indicators").status_code == 200
            assert time.monotonic() - started < 5


def test_the_default_is_two_per_process():
    assert Settings().opendata_concurrent_answers == 2

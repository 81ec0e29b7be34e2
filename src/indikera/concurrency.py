"""How many answers a process builds at once.

Building an answer (a SOAP document, an open-data page) is CPU work under the GIL. Thirty-two requests built at
once in 32 threads thrash: each takes 32 times as long and together they finish fewer per second than one at a
time (bench/README.md). So each channel builds at most a few at once per process; the rest wait in the event
loop, which costs nothing, and throughput grows with ``serve --workers`` instead.
"""

from __future__ import annotations

import asyncio
import weakref

import anyio

# One limiter per event loop and size: a limiter's waiters belong to the loop they wait on (tests run several
# loops, and apps with different settings share a process).
_LIMITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def limiter(tokens: int) -> anyio.CapacityLimiter:
    by_size = _LIMITERS.setdefault(asyncio.get_running_loop(), {})
    tokens = max(1, tokens)
    if tokens not in by_size:
        by_size[tokens] = anyio.CapacityLimiter(tokens)
    return by_size[tokens]


class BuildLimit:
    """ASGI middleware: at most ``tokens`` requests inside ``app`` at once per process, each holding its place
    until its response starts. A JSON answer is built before it starts, so the limit covers the work; sending
    it, and the body of a streamed export, happen outside it, so a slow client holds no place."""

    def __init__(self, app, tokens: int) -> None:
        self.app, self.tokens = app, tokens

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        places, me = limiter(self.tokens), object()
        await places.acquire_on_behalf_of(me)
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                places.release_on_behalf_of(me)

        async def started(message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self.app(scope, receive, started)
        finally:
            release()

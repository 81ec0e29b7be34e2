"""gzip for the open-data answers (``/api/v1``, ``/datasets``) and the preview pages, so compression works
without nginx too; one layer for the whole app (``app.py`` names the paths).

The typical query (one indicator, every unit, one year) is about 1.4 MB of JSON and 104 kB gzipped. Starlette's
``GZipMiddleware`` does the work (streamed CSV is compressed chunk by chunk); around it this module makes the
answer cache-correct: ``Vary: Accept-Encoding`` on every answer of these paths (304s, HEAD and small answers
too, which Starlette leaves without it), so a shared cache keeps the gzip and the plain variant apart. The
ETag stays the same for both: it names the data state, not the bytes, and HEAD (never compressed) and GET must
agree; no range requests are served, where it would matter. SOAP answers are not touched: they are only asked for by NTjP, stream with a
size limit of their own (contracts) and are small per call.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024  # smaller answers gain little and cost a compressor each
# zlib level for the typical query's 1.43 MB of JSON (measured): 1 → 110 kB in 7.6 ms, 3 → 104 kB in 7.7 ms,
# 6 → 86 kB in 19.5 ms, 9 → 81 kB in 39 ms. Level 3: level 1's cost, most of the gain; CPU is the scarcer resource.
LEVEL = 3


class Compression:
    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], minimum_size: int = MINIMUM_SIZE, level: int = LEVEL) -> None:
        self.app = app
        self.prefixes = prefixes
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not any(path == p or path.startswith(p + "/") for p in self.prefixes):
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message.setdefault("headers", []))
                vary = [v.strip().lower() for v in headers.get("vary", "").split(",")]
                if "accept-encoding" not in vary:
                    headers.add_vary_header("Accept-Encoding")
            await send(message)

        await self.gzip(scope, receive, send_marked)

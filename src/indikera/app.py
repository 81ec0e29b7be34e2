"""Compose the ASGI application: SOAP producer, open-data API, admin API and the preview UI.

Each area exposes ``mount(app, ctx)``; this module only decides the order they are mounted in.
"""

from __future__ import annotations

from fastapi import FastAPI

from . import __version__
from .compression import Compression
from .config import Settings, load_settings
from .context import AppContext


class NoSniff:
    """``X-Content-Type-Options: nosniff`` on every response of every area: a browser must never guess a
    text/plain or JSON answer to be HTML (issue #14)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-content-type-options"]
                message = {**message, "headers": [*headers, (b"x-content-type-options", b"nosniff")]}
            await send(message)

        await self.app(scope, receive, send_nosniff)


def create_app(settings: Settings | None = None, *, ctx: AppContext | None = None) -> FastAPI:
    from .access import routes as access_routes
    from .contracts import routes as contract_routes
    from .opendata import routes as opendata_routes
    from .publish import admin_routes
    from .web import routes as web_routes

    ctx = ctx or AppContext.from_settings(settings or load_settings())
    app = FastAPI(
        title="indikera",
        version=__version__,
        description="Kvalitetsindikatorer som öppna data och via GetQualityIndicators v2.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # No automatic slash redirects: Starlette builds them from the Host header and drops https (issue #14).
        redirect_slashes=False,
    )
    app.state.ctx = ctx
    access_routes.mount(app, ctx)  # identity middleware first: every channel needs to know who asks
    contract_routes.mount(app, ctx)
    opendata_routes.mount(app, ctx)
    admin_routes.mount(app, ctx)
    web_routes.mount(app, ctx)
    # One gzip layer: the open data (1.4 MB → 104 kB for the typical query) and the pages (an indicator page with
    # every unit: 184 kB → 16 kB); "/" is the start page itself, not every path below it. SOAP is left alone.
    app.add_middleware(Compression, prefixes=(opendata_routes.API_PREFIX, "/datasets", "/", "/indikatorer"))
    app.add_middleware(NoSniff)  # outermost: also on answers that middleware or a sub-app produce
    return app

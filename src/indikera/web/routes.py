"""Start page and health check; the indicator pages are in ``pages``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from .. import __version__, readiness
from ..domain.errors import IndikeraError
from ..http_problems import error_response
from ..context import AppContext
from ..rivta import soap_path
from ..publish.visibility import PUBLIC, visible_indicator_ids, visible_measurements
from ..store.tables import measurements
from . import pages, transfer
from .staff import routes as staff_routes
from .formatting import count
from .i18n import language, translator

STATIC = Path(__file__).with_name("static")
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# Every count on a page goes through this: "36 924" in Swedish (no-break space), "36,924" in English.
templates.env.filters["count"] = count


def mount(app: FastAPI, ctx: AppContext) -> None:
    mount_static(app)
    pages.mount(app, ctx, templates)
    staff_routes.mount(app, ctx, templates)  # /personal: staff login and preview (web/staff)

    @app.get("/health", include_in_schema=False)
    def health(request: Request) -> JSONResponse:
        """Liveness (it answers) and readiness (``readiness``: databases reachable and migrated); which worker
        answered is in ``pid``. Not ready: 503 problem+json, so a load balancer takes this process out."""
        state = readiness.check(ctx.engine, ctx.read_engine)
        body = {**state.body(), "version": __version__}
        if state.ready:
            return JSONResponse(body, headers={"Cache-Control": "no-store"})
        error = IndikeraError("NOT_READY", "Tjänsten är inte redo: databasen nås inte eller är inte migrerad "
                              "(kör `indikera db upgrade`).",
                              "The service is not ready: the database cannot be reached or is not migrated.")
        return error_response(request, 503, error, headers={"Cache-Control": "no-store", "Retry-After": "5"},
                              extensions={"readiness": state.status, **body})  # "status" is the HTTP status here

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        # Browsers ask for /favicon.ico whatever the page links; the one icon, with its real type.
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def start(request: Request) -> Response:
        lang = language(request)
        tag = transfer.etag(ctx, request, lang)
        if tag is not None and transfer.matches(request, tag):
            return transfer.not_modified(tag, pages.SECURITY_HEADERS)
        # What the public can see, so the figures agree with the list and the open data.
        with ctx.reader.connect() as conn:
            public = visible_indicator_ids(conn, PUBLIC)
            n_ind = len(public)
            n_meas = conn.execute(
                select(func.count()).select_from(measurements).where(visible_measurements(conn, PUBLIC, public))
            ).scalar_one()
        s = ctx.settings
        response = templates.TemplateResponse(
            request,
            "start.html",
            {
                "t": translator(lang),
                "lang": lang,
                "n_indicators": n_ind,
                "n_measurements": n_meas,
                "soap_path": soap_path(s.soap_base_path),
                "settings": s,
                "version": __version__,
            },
        )
        response.headers.update(pages.SECURITY_HEADERS)
        return transfer.finish(response, tag)


def mount_static(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

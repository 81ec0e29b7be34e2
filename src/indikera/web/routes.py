"""Start page and health check; the indicator pages are in ``pages``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select, text

from .. import __version__
from ..context import AppContext
from ..rivta import soap_path
from ..store.db import is_up_to_date
from ..publish.visibility import PUBLIC, visible_indicator_ids, visible_measurements
from ..store.tables import measurements
from . import pages, transfer
from .formatting import count
from .i18n import language, translator

STATIC = Path(__file__).with_name("static")
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# Every count on a page goes through this: "36 924" in Swedish (no-break space), "36,924" in English.
templates.env.filters["count"] = count


def mount(app: FastAPI, ctx: AppContext) -> None:
    mount_static(app)
    pages.mount(app, ctx, templates)

    @app.get("/health", include_in_schema=False)
    def health() -> JSONResponse:
        """Liveness and readiness: the database answers and its schema is current."""
        try:
            with ctx.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current = is_up_to_date(ctx.engine)
        except Exception as exc:  # any database failure means "not ready"; the type is enough to say
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
        status = "ok" if current else "migrations-pending"
        return JSONResponse({"status": status, "version": __version__}, status_code=200 if current else 503)

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
        with ctx.engine.connect() as conn:
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

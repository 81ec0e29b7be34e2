"""Start page and health check; the indicator pages are in ``pages``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select, text

from .. import __version__
from ..context import AppContext
from ..store.db import is_up_to_date
from ..publish.visibility import PUBLIC, visible_indicator_ids, visible_measurements
from ..store.tables import measurements
from . import pages
from .i18n import language, translator

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def start(request: Request) -> HTMLResponse:
        lang = language(request)
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
                "soap_path": f"{s.soap_base_path}/GetQualityIndicators/2/rivtabp21",
                "settings": s,
                "version": __version__,
            },
        )
        response.headers.update(pages.SECURITY_HEADERS)
        return response


def mount_static(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")

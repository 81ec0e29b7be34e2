"""The preview pages: the list of published indicators and one indicator's description and results.

Everything shown is what the anonymous public may see (``publish.visibility`` with ``PUBLIC``); an
indicator the public may not see answers 404 exactly like an id that does not exist. Query parameters are
read by hand (not FastAPI validation) so a bad value gets a Swedish/English HTML page, never JSON.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sqlalchemy import Connection

from .. import __version__
from ..catalog.model import Description
from ..catalog.store import latest_stored
from ..context import AppContext
from ..domain.errors import DomainError
from ..domain.indicators import check_measure_id
from ..domain.periods import Period
from ..opendata.descriptions import fold  # the search rule the open-data API uses: UI and API find the same
from ..publish.visibility import PUBLIC
from . import description as descriptions
from . import chart, queries, transfer, views
from .formatting import BadPeriod, level_rank, number, parse_period_param, percent, period_label, period_param
from .i18n import language, translator

MAX_QUERY_CHARS = 100

# The pages are read-only and self-contained: no scripts, no framing, no third-party requests.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class PageError(Exception):
    def __init__(self, status: int, message_key: str, **values: object) -> None:
        super().__init__(message_key)
        self.status, self.message_key, self.values = status, message_key, values


def clean_query(text: str) -> str:
    """Drop control characters and surrounding space; compare case-insensitively in NFC."""
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return unicodedata.normalize("NFC", text).strip()


def matches(q: str, *fields: str | None) -> bool:
    needle = fold(q)
    folded = [fold(f or "") for f in fields]
    return all(any(word in f for f in folded) for word in needle.split())


def shown_descriptions(conn: Connection, measure_ids: list[str]) -> dict[str, Description]:
    """The newest description of each indicator, from the catalogue's one reader."""
    return {mid: s.description for mid, s in latest_stored(conn, measure_ids).items()} if measure_ids else {}


def searchable(description: Description | None) -> tuple[str | None, ...]:
    desc = descriptions.read(description)
    return (desc.description, desc.purpose)


def open_data_links(measure_id: str, period: Period) -> dict[str, str]:
    """The open-data API's addresses for what the page shows (``opendata``, under /api/v1)."""
    query = urlencode({"measureId": measure_id, "periodFrom": period.start.isoformat(), "periodTo": period.end.isoformat()})
    return {
        "indicator": f"/api/v1/indicators/{quote(measure_id, safe='')}",
        "results": f"/api/v1/results?{query}",
        "csv": f"/api/v1/results.csv?{query}",
    }


def mount(app: FastAPI, ctx: AppContext, templates: Jinja2Templates) -> None:
    def render(request: Request, name: str, lang: str, context: dict, status: int = 200) -> HTMLResponse:
        other = "en" if lang == "sv" else "sv"
        # The language link keeps the page's choices (period, level, search), but not on error pages,
        # where the parameters are the problem.
        lang_url = "?" + request.url.include_query_params(lang=other).query if status == 200 else f"?lang={other}"
        response = templates.TemplateResponse(
            request,
            name,
            {"t": translator(lang), "lang": lang, "lang_url": lang_url, "version": __version__, **context},
            status_code=status,
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    def error(request: Request, lang: str, exc: PageError) -> HTMLResponse:
        t = translator(lang)
        title_key = "error_404_title" if exc.status == 404 else "error_400_title"
        return render(request, "error.html", lang, {"title": t(title_key), "message": t(exc.message_key, **exc.values)}, exc.status)

    def page(handler: Callable[[Request, str], HTMLResponse]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            lang = language(request)
            tag = transfer.etag(ctx, request, lang)
            if tag is not None and transfer.matches(request, tag):
                return transfer.not_modified(tag, SECURITY_HEADERS)
            try:
                return transfer.finish(handler(request, lang), tag)
            except PageError as exc:
                return transfer.finish(error(request, lang, exc), None)

        return run

    @app.get("/indikatorer", response_class=HTMLResponse, include_in_schema=False)
    def indicator_list(request: Request) -> Response:
        return page(list_page)(request)

    @app.get("/indikatorer/{measure_id}", response_class=HTMLResponse, include_in_schema=False)
    def indicator_detail(request: Request, measure_id: str) -> Response:
        return page(lambda req, lang: detail_page(req, lang, measure_id))(request)

    @app.get("/indikatorer/{rest:path}", include_in_schema=False)
    def not_found(request: Request, rest: str) -> Response:
        if not rest:  # "/indikatorer/" is the list
            query = request.url.query
            return RedirectResponse("/indikatorer" + (f"?{query}" if query else ""), status_code=308)
        return error(request, language(request), PageError(404, "error_404_text"))

    def list_page(request: Request, lang: str) -> HTMLResponse:
        raw = request.query_params.get("q", "")
        if len(raw) > MAX_QUERY_CHARS:
            raise PageError(400, "error_long_query", max=MAX_QUERY_CHARS)
        q = clean_query(raw)
        with ctx.engine.connect() as conn:
            items = queries.visible_indicators(conn, PUBLIC)
            docs = shown_descriptions(conn, [i.measure_id for i in items])
        titles = {i.measure_id: i.title for i in items}
        shown = [i for i in items if not q or matches(q, i.title, i.measure_id, *searchable(docs.get(i.measure_id)))]
        return render(
            request,
            "indicators.html",
            lang,
            {"items": shown, "total": len(items), "q": q, "titles": titles, "max_query": MAX_QUERY_CHARS},
        )

    def detail_page(request: Request, lang: str, measure_id: str) -> HTMLResponse:
        try:
            check_measure_id(measure_id)
        except DomainError:
            raise PageError(404, "error_404_text") from None
        t = translator(lang)
        with ctx.engine.connect() as conn:
            ind = queries.visible_indicator(conn, PUBLIC, measure_id)
            if ind is None:
                raise PageError(404, "error_404_text")
            periods = queries.available_periods(conn, PUBLIC, ind)
            asked = request.query_params.get("period")
            if asked:
                try:
                    period = parse_period_param(asked)
                except BadPeriod:
                    raise PageError(400, "error_bad_period", value=asked[:64]) from None
                if period not in periods:
                    raise PageError(404, "error_no_period", period=period_label(period, lang))
            else:
                period = periods[0] if periods else None
            slug = request.query_params.get("niva", "")
            if slug and slug not in views.LEVEL_SLUGS:
                raise PageError(400, "error_bad_level", value=slug[:64])
            rows = views.ordered(queries.results(conn, PUBLIC, ind, period)) if period else []
            doc = shown_descriptions(conn, [ind.measure_id]).get(ind.measure_id)
            # The parent measure and the sex sub-measures, when the public may see them.
            family = [
                i
                for i in queries.visible_indicators(conn, PUBLIC)
                if i.parent_measure_id == ind.measure_id or i.measure_id == ind.parent_measure_id
            ]
        levels = sorted({r.org_type for r in rows} | ({views.LEVEL_SLUGS[slug]} if slug else set()), key=level_rank)
        shown = [r for r in rows if not slug or r.org_type == views.LEVEL_SLUGS[slug]]
        return render(
            request,
            "indicator.html",
            lang,
            {
                "ind": ind,
                "desc": descriptions.read(doc),
                "family": family,
                "periods": [(period_param(p), period_label(p, lang)) for p in periods],
                "period": period_param(period) if period else None,
                "period_text": period_label(period, lang) if period else None,
                "levels": [(views.SLUG_OF[level], level) for level in levels],
                "slug": slug,
                "rows": views.table_rows(shown, ind, lang, views.riket_point(rows)),
                "completeness": views.completeness(rows, lang) if rows else None,
                "chart": views.chart_for(rows, ind, t, lang) if rows else None,
                # the same chart laid out for phones; the stylesheet shows one of the two
                "chart_narrow": views.chart_for(rows, ind, t, lang, chart.NARROW) if rows else None,
                "api": open_data_links(ind.measure_id, period) if period else None,
                "target_text": lambda v: percent(v, lang) if ind.kind == "proportion" else number(v, lang),
            },
        )

"""The preview pages: the list of published indicators and one indicator's description and results.

Everything shown is what the anonymous public may see (``publish.visibility`` with ``PUBLIC``); an
indicator the public may not see answers 404 exactly like an id that does not exist. Query parameters are
read by hand (not FastAPI validation) so a bad value gets a Swedish/English HTML page, never JSON.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..catalog.model import Description
from ..context import AppContext
from ..opendata.descriptions import fold  # the search rule the open-data API uses: UI and API find the same
from ..publish.visibility import PUBLIC
from . import description as descriptions
from . import download, indicator_view, queries, results_page, transfer
from .results_page import shown_descriptions
from .i18n import language, translator
from .page_errors import PageError

MAX_QUERY_CHARS = 100

# The pages are read-only and self-contained: no scripts, no framing, no third-party requests.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def clean_query(text: str) -> str:
    """Drop control characters and surrounding space; compare case-insensitively in NFC."""
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return unicodedata.normalize("NFC", text).strip()


def matches(q: str, *fields: str | None) -> bool:
    needle = fold(q)
    folded = [fold(f or "") for f in fields]
    return all(any(word in f for f in folded) for word in needle.split())


def searchable(description: Description | None) -> tuple[str | None, ...]:
    desc = descriptions.read(description)
    return (desc.description, desc.purpose)


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

    @app.get("/indikatorer/{measure_id}/resultat{suffix}", include_in_schema=False)
    def indicator_download(request: Request, measure_id: str, suffix: str) -> Response:
        fmt = download.FORMATS.get(suffix)
        if fmt is None:
            return error(request, language(request), PageError(404, "error_404_text"))
        return page(lambda req, lang: download_file(req, lang, measure_id, fmt))(request)

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
        with ctx.reader.connect() as conn:
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
        t = translator(lang)
        with ctx.reader.connect() as conn:
            data = results_page.load(conn, PUBLIC, measure_id, request.query_params, lang)
        return render(request, "indicator.html", lang, indicator_view.context(data, t, lang))

    def download_file(request: Request, lang: str, measure_id: str, fmt: str) -> Response:
        with ctx.reader.connect() as conn:
            data = results_page.load(conn, PUBLIC, measure_id, request.query_params, lang)
        body, media_type, name = download.render(data, translator(lang), fmt)
        response = Response(body, media_type=media_type)
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
        response.headers.update(SECURITY_HEADERS)
        return response

"""HTTP routes of the open-data area: the API under ``/api/v1`` and the DCAT-AP-SE catalogue.

The API is its own FastAPI sub-app so that it has its own OpenAPI document (``/api/v1/openapi.json``), docs
(``/api/v1/docs``), CORS policy (any origin, reading only) and problem+json errors, while the main app keeps
its docs switched off. Open-data requests are not written to the audit log: they are anonymous reads of
public data, and an insert per GET would make every read a write (see docs/opendata.md).
"""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response

from .. import __version__
from ..concurrency import BuildLimit
from ..context import AppContext
from ..domain.errors import IndikeraError
from ..http_problems import PROBLEM_MEDIA_TYPE, problem_body
from . import dcat_terms, docs_ui, openapi_doc, origin, problems, view_cache
from .dataset_stats import dataset_stats
from .api import router
from .conditional import etag_for, not_modified, validators

API_PREFIX = "/api/v1"
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag, Last-Modified, Link"}
API_DESCRIPTION = """Öppna data: öppna kvalitetsindikatorer, deras beskrivningar och godkända resultat.

Open data: open quality indicators, their descriptions and approved results, as JSON and as CSV in the VIS
flat-file layout. Lists are cursor-paginated (`next`, `Link: rel="next"`); every answer has an `ETag` and
`Last-Modified` and answers `304` to a matching `If-None-Match` / `If-Modified-Since`. Changes: `updatedSince`
on `/results` and `/indicators`, and the feed `/changes`. Errors are RFC 9457 problem details."""


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS policy, but a refused preflight is a problem+json like every other error of the API
    (Starlette answers ``400 text/plain``)."""

    def preflight_response(self, request_headers):
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        failures = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        error = IndikeraError("CORS_REFUSED", f"CORS-förfrågan avvisas ({failures}). Tillåtet: metoderna GET, HEAD, OPTIONS "
                              f"och rubrikerna {', '.join(self.allow_headers)}.",
                              f"CORS preflight refused ({failures}). Allowed: the methods GET, HEAD, OPTIONS "
                              f"and the headers {', '.join(self.allow_headers)}.")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        return JSONResponse(problem_body(None, 400, error), status_code=400, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class HeadAsGet:
    """Answer HEAD like GET without the body (harvesters and link checkers ask with HEAD)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class UnroutablePathProblem:
    """A 404 problem for ``/api/v1/…`` paths with a line break (``/indicators/a%0Ab``): Starlette's mount pattern
    (``.*``) never matches a newline, so such a path missed the API and got the bare ``{"detail": "Not Found"}``
    of the main app (issue #15)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith(API_PREFIX) and ("\n" in path or "\r" in path)):
            await self.app(scope, receive, send)
            return
        error = IndikeraError("NOT_FOUND")
        body = problem_body(API_PREFIX + "/…", 404, error)  # the path itself is not echoed: it is unprintable
        response = JSONResponse(body, status_code=404, media_type=PROBLEM_MEDIA_TYPE, headers=CORS_HEADERS)
        await response(scope, receive, send)


def build_api(ctx: AppContext) -> FastAPI:
    api = FastAPI(
        title="indikera – öppna data",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # a redirect would be absolute, built from the Host header: a 404 problem instead
    )
    problems.install(api)
    api.include_router(router(ctx))
    docs_ui.install(api)
    openapi_doc.install(api)
    api.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["Accept", "If-None-Match", "If-Modified-Since"],
        expose_headers=["ETag", "Last-Modified", "Link", "Content-Disposition"],
        max_age=86400,
    )
    api.add_middleware(HeadAsGet)
    api.add_middleware(BuildLimit, tokens=ctx.settings.opendata_concurrent_answers)  # outermost: waiting is free
    return api


def mount(app: FastAPI, ctx: AppContext) -> None:
    """Add this area's routes and middleware to ``app``."""
    api = build_api(ctx)
    s = ctx.settings
    dcat_terms.check(s)  # a bad publisher type or telephone stops start-up, not the harvester's visit
    # Every setting may show in the catalogue (publisher, contact, texts): all of them (secrets masked by repr)
    settings_digest = hashlib.sha256(repr((s, __version__)).encode()).hexdigest()

    @app.api_route("/datasets/dcat", methods=["GET", "HEAD"], include_in_schema=False)
    def dcat_catalogue(request: Request) -> Response:
        """The DCAT-AP-SE catalogue: RDF/XML, or Turtle / JSON-LD by Accept (or ``?format=ttl|jsonld|rdfxml``)."""
        from . import dcat  # rdflib is imported on first use, not at server start

        fmt = request.query_params.get("format")
        if fmt is not None:
            media = dcat.FORMAT_ALIASES.get(fmt.lower()[:20])
            if media is None:
                return problems.problem_response(request, 400, "bad-parameter",
                                                 "format ska vara rdfxml, ttl eller jsonld.",
                                                 "format must be rdfxml, ttl or jsonld.", "format", headers=CORS_HEADERS)
        else:
            media = dcat.negotiate(request.headers.get("accept"))
            if media is None:
                return problems.problem_response(
                    request, 406, "not-acceptable",
                    "Katalogen finns som application/rdf+xml, text/turtle och application/ld+json.",
                    "The catalogue is available as application/rdf+xml, text/turtle and application/ld+json.",
                    headers={**CORS_HEADERS, "Vary": "Accept"})
        base = origin.base_url(s, request)  # the IRIs follow the server unless base_url is configured
        view = view_cache.current(ctx.reader, ctx.caches.opendata)
        etag = etag_for(view.state, request, media, settings_digest, base)
        cached = not_modified(request, view.state, etag, vary="Accept")
        if cached:
            cached.headers.update(CORS_HEADERS)
            return cached
        body = dcat.serialize(dcat.build(view, s, base, dataset_stats(ctx.reader, view)), media)
        headers = {**validators(view.state, etag), **CORS_HEADERS, "Vary": "Accept"}
        return Response(body, media_type=f"{media}; charset=utf-8" if media != "application/ld+json" else media, headers=headers)

    @app.api_route(API_PREFIX, methods=["GET", "HEAD"], include_in_schema=False)
    def api_root() -> Response:  # a relative redirect: never built from the Host header
        return RedirectResponse(API_PREFIX + "/", status_code=308)

    app.mount(API_PREFIX, api)
    app.add_middleware(UnroutablePathProblem)

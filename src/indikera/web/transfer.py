"""HTTP caching of the HTML pages: an ETag on the data version, ``304 Not Modified`` and ``no-cache``.

A page is a function of the data (the database's data version, ``caches.current_version``), the code that
renders it (the package version), the language and the address (path and query). The tag is computed
from those alone, before anything is read or rendered, so a revalidation that matches costs one
primary-key look-up. ``no-cache`` lets a browser keep the page but makes it ask every time, so a new
import or a depublication shows at once.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from .. import __version__
from ..caches import current_version
from ..context import AppContext
from ..opendata.conditional import etag_matches

CACHE_CONTROL = "no-cache"
# The language follows Accept-Language when ?lang is absent (the compression layer adds Accept-Encoding).
VARY = "Accept-Language"


def etag(ctx: AppContext, request: Request, lang: str) -> str | None:
    """A weak tag (the body may be sent compressed or not); None before the data-version counter exists."""
    with ctx.reader.connect() as conn:
        version = current_version(conn)
    if version is None:
        return None
    key = f"{__version__}\n{version}\n{lang}\n{request.url.path}\n{request.url.query}"
    return f'W/"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'


def matches(request: Request, tag: str) -> bool:
    """``If-None-Match`` compared weakly (RFC 9110 13.1.2), as the open data compares it."""
    return etag_matches(request.headers.get("if-none-match", ""), tag.removeprefix("W/"))


def not_modified(tag: str, extra: dict[str, str]) -> Response:
    return Response(status_code=304, headers={"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": VARY, **extra})


def finish(response: Response, tag: str | None) -> Response:
    """Mark a rendered page: always ``no-cache``; the tag only on a successful page."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = VARY
    if tag is not None and response.status_code == 200:
        response.headers["ETag"] = tag
    return response

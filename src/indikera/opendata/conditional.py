"""ETag / Last-Modified validators and conditional GET (RFC 9110 §13): answer 304 when nothing changed.

The ETag is a digest of the data state, the request (path and its query, parameter order ignored) and
anything else the representation depends on (the negotiated format, the settings), so it changes exactly
when the bytes could.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response

from .params import as_utc
from .state import State

# Shared caches may keep an answer but must revalidate it every time (a cheap 304 on an unchanged ETag):
# with max-age=60 a de-published indicator stayed served for a minute (issue #15).
CACHE_CONTROL = "public, no-cache"


def etag_for(state: State, request: Request, *extra: str) -> str:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    text = "\n".join((state.token, request.url.path, query, *extra))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def http_date(ts: datetime) -> str:
    return format_datetime(as_utc(ts), usegmt=True)


def etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match`` against a strong tag, compared weakly (RFC 9110 §13.1.2): a list of tags, or ``*``."""
    for tag in header[:2000].split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def validators(state: State, etag: str) -> dict[str, str]:
    return {"ETag": etag, "Last-Modified": http_date(state.last_modified), "Cache-Control": CACHE_CONTROL}


def not_modified(request: Request, state: State, etag: str, vary: str | None = None) -> Response | None:
    """A 304 when the request's validators still match; None when the full answer must be sent."""
    headers = validators(state, etag)
    if vary:
        headers["Vary"] = vary
    inm = request.headers.get("if-none-match")
    if inm is not None:
        return Response(status_code=304, headers=headers) if etag_matches(inm, etag) else None
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = as_utc(parsedate_to_datetime(ims[:100]))
        except (TypeError, ValueError, IndexError, OverflowError):
            return None  # an unreadable date is ignored, as RFC 9110 says
        if state.last_modified <= since:
            return Response(status_code=304, headers=headers)
    return None

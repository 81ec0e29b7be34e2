"""Helpers of the open-data API's handlers: the JSON answer, the parameter rules every endpoint shares
(known names only, single values once, no blanks, plain integers) and the page envelope."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

try:
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

from . import labels
from .params import blank
from .problems import bad_parameter

# Parameters that may repeat (``?x=a&x=b`` means both); every other one is single-valued.
LIST_PARAMS = frozenset({"keyword", "unitType", "frequency", "level", "indicatorType", "sex", "measureId", "hsaId", "lan",
                         "kommun", "sjukhus", "organisationType", "type"})
INT_PARAMS = frozenset({"limit"})
_PLAIN_INT = re.compile(r"[1-9][0-9]{0,9}")


def _json(data: Any, headers: dict[str, str]) -> Response:
    if orjson is not None:
        body = orjson.dumps(data)
    else:  # pragma: no cover - orjson is a dependency; the standard library gives the same JSON, slower
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, media_type="application/json", headers=headers)


def _only(request: Request, allowed: set[str]) -> None:
    """Known parameters only; a single-valued one at most once; integers written plainly (``limit=1_000``
    and ``limit=010`` are refused, not guessed at: Python's int() would accept them)."""
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise bad_parameter(name[:60], f"Okänd parameter {name[:60]!r}. Tillåtna: {', '.join(sorted(allowed))}.",
                                f"Unknown parameter {name[:60]!r}. Allowed: {', '.join(sorted(allowed))}.")
        if name in seen and name not in LIST_PARAMS:
            raise bad_parameter(name, f"{name} får anges högst en gång.", f"{name} may be given only once.")
        seen.add(name)
        if not value.strip():  # a blank filter is a mistake (an app's empty variable), never "no filter"
            raise blank(name)
        if name in INT_PARAMS and not _PLAIN_INT.fullmatch(value):
            raise bad_parameter(name, f"{name} ska vara ett heltal skrivet med siffror, t.ex. 100.",
                                f"{name} must be an integer written in digits, e.g. 100.")


def _labelled(item: dict[str, Any], lang: str) -> dict[str, Any]:
    """An indicator item with the labels of its codes in ``lang`` (its texts were chosen by ``describe``)."""
    item["labels"] = labels.indicator_labels(item, lang)
    return item


def _next_link(api_base: str, path: str, request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", cursor)]
    return f"{api_base}{path}?{urlencode(items)}"


def _page_response(request: Request, api_base: str, path: str, items: list, cursor: str | None, headers: dict[str, str],
                   total: int | None = None) -> Response:
    """A page: ``count`` on this page, ``total`` matching over all pages, the next page's link and cursor."""
    nxt = _next_link(api_base, path, request, cursor)
    if nxt:
        headers = {**headers, "Link": f'<{nxt}>; rel="next"'}
    return _json({"count": len(items), "total": len(items) if total is None else total, "next": nxt, "nextCursor": cursor,
                  "items": items}, headers)

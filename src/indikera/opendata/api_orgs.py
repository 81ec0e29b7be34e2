"""``GET /api/v1/organisations``: the organisations that have open results (and the ones above them), with
search by name (``q``, issue #15): every word of ``q`` must occur in the name, HSA-id or code, compared with
``descriptions.fold`` (case-folded, NFC) and, beyond that rule, without diacritics, so ``orebro`` finds
"Örebro" and "Universitetssjukhuset Örebro".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..context import AppContext
from . import results
from .conditional import validators
from .cursors import Cursors
from .descriptions import LEVELS, fold
from .labels import parse_lang
from .models import OrganisationPage
from .params import DEFAULT_LIMIT, MAX_LIMIT, choices, filter_digest
from .problems import bad_parameter
from .state import Org


def _plain(text: str) -> str:
    """fold() without combining marks: å, ä, ö, é compare as a, a, o, e."""
    decomposed = unicodedata.normalize("NFD", fold(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _haystack(org: Org) -> str:
    return _plain(" ".join(t for t in (org.name, org.hsa_id, org.org_extension, org.key) if t))


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Lang = Annotated[str | None, Query(pattern="^(sv|en)$", description="Language of the labels: sv (default) or en")]
Cursor = Annotated[str | None, Query(min_length=1, max_length=1000, description="The nextCursor of the previous page")]


def add_routes(r: APIRouter, ctx: AppContext, guarded: Callable, cursors: Cursors, page_response: Callable) -> None:
    @r.get("/organisations", response_model=OrganisationPage, summary="Organisationer med öppna resultat",
           description="The organisations that have open results, and the ones above them, with their identifiers. "
                       "`q`: words that must all occur in the name, HSA-id or code (case and diacritics ignored).")
    def get_organisations(
        request: Request,
        type: Annotated[list[str] | None, Query(description=", ".join(LEVELS))] = None,
        parentId: Annotated[str | None, Query(min_length=1, max_length=300, pattern=r"\S",
                                              description="Only direct children of this organisation key")] = None,
        q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"\S",
                                       description="Search by name, HSA-id or code")] = None,
        lang: Lang = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, {"type", "parentId", "q", "lang", "limit", "cursor"})
        if cached:
            return cached
        types = choices("type", type, LEVELS)
        language = parse_lang(lang)
        digest = filter_digest(types=types, parent=parentId, q=q)
        after = cursors.decode(cursor, digest)
        visible = view.visible_org_ids(ctx.reader)
        orgs = sorted((view.orgs[i] for i in visible), key=lambda o: o.id)
        if types:
            orgs = [o for o in orgs if o.type in types]
        if parentId is not None:
            parent = next((o.id for o in view.orgs.values() if o.key == parentId and o.id in visible), None)
            orgs = [o for o in orgs if parent is not None and o.parent_id == parent]
        if q is not None:
            words = _plain(q).split()
            orgs = [o for o in orgs if all(w in _haystack(o) for w in words)]
        total = len(orgs)
        if after is not None:
            last = after[1][0] if after[1] and isinstance(after[1][0], int) else None
            if last is None:
                raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
            orgs = [o for o in orgs if o.id > last]
        page, rest = orgs[:limit], orgs[limit:]
        items = []
        for o in page:
            entry = results.org_json(o, view, language)
            entry["ancestors"] = [a.key for a in view.chain(o.id)[1:]]
            items.append(entry)
        nxt = cursors.encode("o", [page[-1].id], digest) if rest and page else None
        return page_response(request, api_base, "/organisations", items, nxt, validators(view.state, etag), total)

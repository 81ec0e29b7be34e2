"""The open-data REST API (``/api/v1``): indicators, results (JSON and VIS CSV), organisations, changes.

Only open descriptions and approved open results, for everyone: the caller's identity is not consulted
(identified consumers use the SOAP contract). Every answer carries ETag/Last-Modified and honours
conditional requests; lists are cursor-paginated in a stable order; bad parameters give 400 problem+json.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request

try:
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]
from fastapi.responses import Response, StreamingResponse

from ..context import AppContext
from . import descriptions as desc
from . import feed, origin, results, view_cache, visfile
from .conditional import not_modified, validators, etag_for
from .models import ChangePage, Indicator, IndicatorPage, OrganisationPage, ResultPage, VersionList
from .params import (
    blank, choices, codes, filter_digest, hsa_ids, iso, measure_ids, parse_date, parse_timestamp, split_list,
)
from ..store.installation import installation_secret
from .cursors import SECRET_KEY, Cursors
from .problems import ProblemError, bad_parameter
from .state import View, sort_key

DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000
ORG_TYPES = ("Land", "Lan", "Kommun", "Sjukhus", "Vardenhet", "Sjukvardsregion")
MEASURE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

# Parameters that may repeat (``?x=a&x=b`` means both); every other one is single-valued.
LIST_PARAMS = frozenset({"keyword", "unitType", "frequency", "level", "indicatorType", "sex", "measureId", "hsaId", "lan",
                         "kommun", "sjukhus", "organisationType", "type"})
INT_PARAMS = frozenset({"limit"})
_PLAIN_INT = re.compile(r"[1-9][0-9]{0,9}")

ListParam = Annotated[list[str] | None, Query()]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=1000, description="The nextCursor of the previous page")]
MeasureIdPath = Annotated[str, Path(pattern=MEASURE_ID_PATTERN, max_length=64)]
DateParam = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-?\d{2}-?\d{2}$", description="YYYY-MM-DD")]


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


def _not_open(measure_id: str) -> ProblemError:
    # The same words for "unknown" and "not open": an API for the public must not reveal what is hidden.
    return ProblemError(404, "not-found", f"Det finns ingen öppen indikator med id {measure_id[:64]!r}.",
                        f"There is no open indicator with id {measure_id[:64]!r}.", parameter="measureId")


def _next_link(api_base: str, path: str, request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", cursor)]
    return f"{api_base}{path}?{urlencode(items)}"


def _page_response(request: Request, api_base: str, path: str, items: list, cursor: str | None, headers: dict[str, str]) -> Response:
    nxt = _next_link(api_base, path, request, cursor)
    if nxt:
        headers = {**headers, "Link": f'<{nxt}>; rel="next"'}
    return _json({"count": len(items), "next": nxt, "nextCursor": cursor, "items": items}, headers)


def router(ctx: AppContext) -> APIRouter:
    r = APIRouter()
    configured = ctx.settings.cursor_secret
    cursors = Cursors(lambda: configured.encode() if configured else installation_secret(ctx.engine, SECRET_KEY))
    encode_cursor, decode_cursor = cursors.encode, cursors.decode
    authors = ctx.settings.opendata_show_authors

    def guarded(request: Request, allowed: set[str], *extra: str) -> tuple[View, str, Response | None, str]:
        """Check the parameters; the view, the ETag, a 304 (or None) and the API's base URL for this request.
        The links in an answer depend on the base URL (origin.py), so the ETag does too."""
        _only(request, allowed)
        api_base = origin.base_url(ctx.settings, request) + origin.API_PATH
        view = view_cache.current(ctx.engine, ctx.caches.opendata)
        etag = etag_for(view.state, request, api_base, *extra)
        return view, etag, not_modified(request, view.state, etag), api_base

    @r.get("/", summary="Startpunkt: länkar till API:ets resurser", response_model=dict[str, Any])
    def index(request: Request) -> Response:
        view, etag, cached, api_base = guarded(request, set())
        if cached:
            return cached
        return _json({
            "title": "indikera – öppna data",
            "links": {name: f"{api_base}/{name}" for name in ("indicators", "results", "results.csv", "organisations", "changes",
                                                               "openapi.json", "docs")},
            "catalogue": api_base.removesuffix(origin.API_PATH) + "/datasets/dcat",
            "licence": ctx.settings.licence_uri,
        }, validators(view.state, etag))

    # ---------------- indicators ----------------
    @r.get("/indicators", response_model=IndicatorPage, summary="Öppna indikatorer: lista och sök",
           description="Open indicators with their descriptions; search by text and facets. "
                       "`updatedSince` lists those whose description changed or that were opened after the time.")
    def list_indicators(
        request: Request,
        q: Annotated[str | None, Query(max_length=200, description="Words that must all occur (title, id, texts)")] = None,
        keyword: ListParam = None,
        unitType: ListParam = None,
        frequency: ListParam = None,
        level: Annotated[list[str] | None, Query(description="Organisational level (Land, Lan, Sjukhus, Vardenhet, …)")] = None,
        indicatorType: ListParam = None,
        sex: Annotated[list[str] | None, Query(description="K, M, or T (not a sex sub-measure)")] = None,
        updatedSince: Annotated[str | None, Query(max_length=40, description="RFC 3339 timestamp")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        allowed = {"q", "keyword", "unitType", "frequency", "level", "indicatorType", "sex", "updatedSince", "limit", "cursor"}
        view, etag, cached, api_base = guarded(request, allowed)
        if cached:
            return cached
        f = dict(
            q=q, keywords=split_list("keyword", keyword), unit_types=choices("unitType", unitType, desc.UNIT_TYPES),
            frequencies=choices("frequency", frequency, desc.FREQUENCIES), levels=choices("level", level, ORG_TYPES),
            indicator_types=choices("indicatorType", indicatorType, desc.INDICATOR_TYPES), sexes=choices("sex", sex, desc.SEXES),
            updated_since=parse_timestamp("updatedSince", updatedSince),
        )
        digest = filter_digest(**f)
        after = decode_cursor(cursor, digest)
        chosen = [i for i in view.open_indicators() if desc.matches(view, i, **f)]
        if after is not None:
            last = after[1][0] if len(after[1]) == 1 and isinstance(after[1][0], str) else None
            if last is None:
                raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
            chosen = [i for i in chosen if sort_key(i.measure_id) > sort_key(last)]
        page, rest = chosen[:limit], chosen[limit:]
        nxt = encode_cursor("m", [page[-1].measure_id], digest) if rest and page else None
        items = [desc.describe(view, i, api_base, show_authors=authors) for i in page]
        return _page_response(request, api_base, "/indicators", items, nxt, validators(view.state, etag))

    def _open_indicator(view: View, measure_id: str):
        ind_id = view.by_measure.get(measure_id)
        if ind_id is None:
            raise _not_open(measure_id)
        return view.indicators[ind_id]

    @r.get("/indicators/{measureId}", response_model=Indicator, summary="En öppen indikator med alla texter",
           responses={404: {"description": "No open indicator with this id"}})
    def get_indicator(request: Request, measureId: MeasureIdPath) -> Response:
        view, etag, cached, api_base = guarded(request, set())
        ind = _open_indicator(view, measureId)
        if cached:
            return cached
        return _json(desc.describe(view, ind, api_base, show_authors=authors), validators(view.state, etag))

    @r.get("/indicators/{measureId}/versions", response_model=VersionList, summary="Beskrivningens versioner",
           responses={404: {"description": "No open indicator with this id"}})
    def indicator_versions(request: Request, measureId: MeasureIdPath) -> Response:
        view, etag, cached, api_base = guarded(request, set())
        ind = _open_indicator(view, measureId)
        if cached:
            return cached
        items = [{"descriptionVersion": d.description.version_text, "createdAt": iso(d.created_at), "document": desc.open_document(d.document, authors)}
                 for d in view.descriptions.get(ind.measure_id, [])]
        return _json({"measureId": ind.measure_id, "items": items}, validators(view.state, etag))

    @r.get("/indicators/{measureId}/submeasures", response_model=IndicatorPage, summary="Öppna delmått (kön)",
           responses={404: {"description": "No open indicator with this id"}})
    def indicator_submeasures(request: Request, measureId: MeasureIdPath) -> Response:
        view, etag, cached, api_base = guarded(request, set())
        ind = _open_indicator(view, measureId)
        if cached:
            return cached
        subs = [i for i in view.open_indicators() if i.parent_measure_id == ind.measure_id]
        items = [desc.describe(view, i, api_base, show_authors=authors) for i in subs]
        return _json({"count": len(items), "next": None, "nextCursor": None, "items": items}, validators(view.state, etag))

    # ---------------- results ----------------
    def result_filter(view: View, *, measureId, periodFrom, periodTo, hsaId, lan, kommun, sjukhus, riket,
                      organisationType, includeSubunits, sex, updatedSince) -> tuple[results.ResultFilter, str]:
        ids = measure_ids(measureId)
        for mid in ids:
            if mid not in view.by_measure:
                raise bad_parameter("measureId", f"Det finns ingen öppen indikator med id {mid!r}.",
                                    f"There is no open indicator with id {mid!r}.")
        sexes = choices("sex", sex, desc.SEXES)
        chosen = [view.by_measure[m] for m in ids] if ids else sorted(view.open_ids)
        if sexes:
            chosen = [i for i in chosen if (view.indicators[i].sex or "T") in sexes]
        p_from, p_to = parse_date("periodFrom", periodFrom), parse_date("periodTo", periodTo)
        if p_from and p_to and p_from > p_to:
            raise bad_parameter("periodFrom", "periodFrom ligger efter periodTo.", "periodFrom is after periodTo.")
        hsa, lans, kommuner, sjukhus_codes = hsa_ids(hsaId), codes("lan", lan), codes("kommun", kommun), codes("sjukhus", sjukhus)
        org_ids = None
        if hsa or lans or kommuner or sjukhus_codes or riket:
            selected = {
                o.id for o in view.orgs.values()
                if (o.hsa_id and o.hsa_id in hsa)
                or (o.type == "Lan" and o.org_extension in lans)
                or (o.type == "Kommun" and o.org_extension in kommuner)
                or (o.type == "Sjukhus" and o.org_root and o.org_extension in sjukhus_codes)
                or (riket and o.type == "Land")
            }
            if includeSubunits:
                children: dict[int, list[int]] = {}
                for o in view.orgs.values():
                    if o.parent_id is not None:
                        children.setdefault(o.parent_id, []).append(o.id)
                todo = list(selected)
                while todo:
                    for c in children.get(todo.pop(), ()):
                        if c not in selected:
                            selected.add(c)
                            todo.append(c)
            org_ids = frozenset(selected)
        f = results.ResultFilter(
            indicator_ids=tuple(chosen), period_from=p_from, period_to=p_to, org_ids=org_ids,
            org_types=tuple(choices("organisationType", organisationType, ORG_TYPES)),
            updated_since=parse_timestamp("updatedSince", updatedSince),
        )
        digest = filter_digest(ids=f.indicator_ids, pf=p_from, pt=p_to, orgs=sorted(org_ids) if org_ids is not None else None,
                               types=f.org_types, since=f.updated_since)
        return f, digest

    result_params = {"measureId", "periodFrom", "periodTo", "hsaId", "lan", "kommun", "sjukhus", "riket",
                     "organisationType", "includeSubunits", "sex", "updatedSince"}

    @r.get("/results", response_model=ResultPage, summary="Öppna resultat (JSON)",
           description="Approved results of open indicators. Periods lie fully inside [periodFrom, periodTo]. "
                       "Organisation filters combine with OR; `includeSubunits` adds everything below them. "
                       "`updatedSince` switches to the change order (updatedAt, then id).")
    def get_results(
        request: Request,
        measureId: Annotated[list[str] | None, Query(description="Indicator id(s); default: every open indicator")] = None,
        periodFrom: DateParam = None,
        periodTo: DateParam = None,
        hsaId: Annotated[list[str] | None, Query(description="HSA-id of a care unit or hospital")] = None,
        lan: Annotated[list[str] | None, Query(description="Länskod, two digits")] = None,
        kommun: Annotated[list[str] | None, Query(description="Kommunkod, four digits")] = None,
        sjukhus: Annotated[list[str] | None, Query(description="Sjukhuskod")] = None,
        riket: Annotated[bool, Query(description="Include Riket (Land)")] = False,
        organisationType: Annotated[list[str] | None, Query(description="Land, Lan, Kommun, Sjukhus, Vardenhet, Sjukvardsregion")] = None,
        includeSubunits: Annotated[bool, Query(description="Also organisations below the ones selected")] = False,
        sex: Annotated[list[str] | None, Query(description="K, M, or T (results of indicators that are not sex sub-measures)")] = None,
        updatedSince: Annotated[str | None, Query(max_length=40, description="RFC 3339 timestamp: only values changed after it")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, result_params | {"limit", "cursor"})
        if cached:
            return cached
        f, digest = result_filter(view, measureId=measureId, periodFrom=periodFrom, periodTo=periodTo, hsaId=hsaId, lan=lan,
                                  kommun=kommun, sjukhus=sjukhus, riket=riket, organisationType=organisationType,
                                  includeSubunits=includeSubunits, sex=sex, updatedSince=updatedSince)
        after = decode_cursor(cursor, digest)
        if after is not None and after[0] != f.order:
            raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
        rows, last = results.page(ctx.engine, f, after=after[1] if after else None, limit=limit)
        build = results.ItemBuilder(view)
        items = [build(row) for row in rows]
        nxt = encode_cursor(f.order, last, digest) if last is not None else None
        return _page_response(request, api_base, "/results", items, nxt, validators(view.state, etag))

    @r.get("/results.csv", summary="Öppna resultat som CSV (VIS-format)",
           description="The same filters as /results, every matching row, streamed, in the VIS flat-file column layout "
                       "(re-importable with `indikera import results`). Sjukvardsregion rows have no VIS form and are left out.",
           response_class=StreamingResponse,
           responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV file"}})
    def get_results_csv(
        request: Request,
        measureId: Annotated[list[str] | None, Query()] = None,
        periodFrom: DateParam = None,
        periodTo: DateParam = None,
        hsaId: ListParam = None,
        lan: ListParam = None,
        kommun: ListParam = None,
        sjukhus: ListParam = None,
        riket: bool = False,
        organisationType: ListParam = None,
        includeSubunits: bool = False,
        sex: ListParam = None,
        updatedSince: Annotated[str | None, Query(max_length=40)] = None,
        delimiter: Annotated[str, Query(pattern="^(comma|semicolon)$", description="comma (default) or semicolon")] = "comma",
    ) -> Response:
        view, etag, cached, api_base = guarded(request, result_params | {"delimiter"})
        if cached:
            return cached
        f, _ = result_filter(view, measureId=measureId, periodFrom=periodFrom, periodTo=periodTo, hsaId=hsaId, lan=lan,
                             kommun=kommun, sjukhus=sjukhus, riket=riket, organisationType=organisationType,
                             includeSubunits=includeSubunits, sex=sex, updatedSince=updatedSince)
        headers = validators(view.state, etag)
        headers["Content-Disposition"] = 'attachment; filename="resultat.csv"'
        chunks = visfile.csv_chunks(results.stream(ctx.engine, f), view, delimiter=visfile.DELIMITERS[delimiter])
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8; header=present", headers=headers)

    # ---------------- organisations ----------------
    @r.get("/organisations", response_model=OrganisationPage, summary="Organisationer med öppna resultat",
           description="The organisations that have open results, and the ones above them, with their identifiers.")
    def get_organisations(
        request: Request,
        type: Annotated[list[str] | None, Query(description="Land, Lan, Kommun, Sjukhus, Vardenhet, Sjukvardsregion")] = None,
        parentId: Annotated[str | None, Query(max_length=300, description="Only direct children of this organisation key")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, {"type", "parentId", "limit", "cursor"})
        if cached:
            return cached
        types = choices("type", type, ORG_TYPES)
        digest = filter_digest(types=types, parent=parentId)
        after = decode_cursor(cursor, digest)
        visible = view.visible_org_ids(ctx.engine)
        orgs = sorted((view.orgs[i] for i in visible), key=lambda o: o.id)
        if types:
            orgs = [o for o in orgs if o.type in types]
        if parentId is not None:
            parent = next((o.id for o in view.orgs.values() if o.key == parentId and o.id in visible), None)
            orgs = [o for o in orgs if parent is not None and o.parent_id == parent]
        if after is not None:
            last = after[1][0] if after[1] and isinstance(after[1][0], int) else None
            if last is None:
                raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
            orgs = [o for o in orgs if o.id > last]
        page, rest = orgs[:limit], orgs[limit:]
        items = []
        for o in page:
            entry = results.org_json(o, view)
            entry["ancestors"] = [a.key for a in view.chain(o.id)[1:]]
            items.append(entry)
        nxt = encode_cursor("o", [page[-1].id], digest) if rest and page else None
        return _page_response(request, api_base, "/organisations", items, nxt, validators(view.state, etag))

    # ---------------- change feed ----------------
    @r.get("/changes", response_model=ChangePage, summary="Ändringsflöde: revisioner och avpubliceringar",
           description="What changed in the open data after `since`, oldest first: approved result batches (with the "
                       "keys of removed values), de-published batches, indicators opened or closed, new descriptions. "
                       "Indicators are named only when they are open now or were open before the event.")
    def get_changes(
        request: Request,
        since: Annotated[str | None, Query(max_length=40, description="RFC 3339 timestamp; default: from the start")] = None,
        type: Annotated[list[str] | None, Query(description=", ".join(feed.EVENT_TYPES))] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, {"since", "type", "limit", "cursor"})
        if cached:
            return cached
        ts = parse_timestamp("since", since)
        types = choices("type", type, feed.EVENT_TYPES)
        digest = filter_digest(since=ts, types=types)
        after = decode_cursor(cursor, digest)
        events = feed.events(ctx.engine, view, ts)
        if types:
            events = [e for e in events if e["type"] in types]
        if after is not None:
            key = after[1]
            if len(key) != 2 or not all(isinstance(k, str) for k in key):
                raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
            events = [e for e in events if (e["at"], e["id"]) > (key[0], key[1])]
        page, rest = events[:limit], events[limit:]
        nxt = encode_cursor("c", [page[-1]["at"], page[-1]["id"]], digest) if rest and page else None
        return _page_response(request, api_base, "/changes", page, nxt, validators(view.state, etag))

    return r


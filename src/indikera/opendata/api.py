"""The open-data REST API (``/api/v1``): indicators, results (JSON and VIS CSV), organisations, changes.

Only open descriptions and approved open results, for everyone: the caller's identity is not consulted
(identified consumers use the SOAP contract). Every answer carries ETag/Last-Modified and honours
conditional requests; lists are cursor-paginated in a stable order; bad parameters give 400 problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from ..context import AppContext
from . import descriptions as desc
from . import api_orgs, feed, origin, removals, result_query, results, view_cache, visfile, xlsx
from .conditional import not_modified, validators, etag_for
from .models import ChangePage, Indicator, IndicatorPage, ResultPage, VersionList
from .params import (
    DEFAULT_LIMIT, MAX_LIMIT, choices, codes, filter_digest, hsa_ids, iso, measure_ids, parse_date, parse_timestamp, split_list,
)
from ..store.installation import installation_secret
from .cursors import SECRET_KEY, Cursors
from .api_common import _json, _labelled, _only, _page_response
from .labels import parse_lang
from .problems import ProblemError, bad_parameter
from .state import View, sort_key

ORG_TYPES = ("Land", "Lan", "Kommun", "Sjukhus", "Vardenhet", "Sjukvardsregion")
MEASURE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


ListParam = Annotated[list[str] | None, Query()]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=1000, description="The nextCursor of the previous page")]
MeasureIdPath = Annotated[str, Path(pattern=MEASURE_ID_PATTERN, max_length=64)]
DateParam = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-?\d{2}-?\d{2}$", description="YYYY-MM-DD")]
PeriodSpec = Annotated[str | None, Query(pattern=r"^(latest|last-([1-9]|1[0-9]|20))$",
                                         description="latest, or last-N (N ≤ 20): per indicator and period length, the newest "
                                                     "periods with open values; not with periodFrom/periodTo")]
Lang = Annotated[str | None, Query(pattern="^(sv|en)$", description="Language of the labels: sv (default) or en")]
SortParam = Annotated[str | None, Query(pattern="^-?(value|name|period)$",
                                       description="value, -value (rate or value; missing last), name, -name (organisation), "
                                                   "period, -period; ties by the natural key. Not with updatedSince")]


def _not_open(measure_id: str) -> ProblemError:
    # The same words for "unknown" and "not open": an API for the public must not reveal what is hidden.
    return ProblemError(404, "not-found", f"Det finns ingen öppen indikator med id {measure_id[:64]!r}.",
                        f"There is no open indicator with id {measure_id[:64]!r}.", parameter="measureId")


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
        view = view_cache.current(ctx.reader, ctx.caches.opendata)
        etag = etag_for(view.state, request, api_base, *extra)
        return view, etag, not_modified(request, view.state, etag), api_base

    @r.get("/", summary="Startpunkt: länkar till API:ets resurser", response_model=dict[str, Any])
    def index(request: Request) -> Response:
        view, etag, cached, api_base = guarded(request, set())
        if cached:
            return cached
        return _json({
            "title": "indikera – öppna data",
            "links": {name: f"{api_base}/{name}" for name in ("indicators", "results", "results.csv", "results.xlsx", "organisations", "changes",
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
        lang: Lang = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        allowed = {"q", "keyword", "unitType", "frequency", "level", "indicatorType", "sex", "updatedSince", "lang", "limit", "cursor"}
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
        total = len(chosen)
        if after is not None:
            last = after[1][0] if len(after[1]) == 1 and isinstance(after[1][0], str) else None
            if last is None:
                raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
            chosen = [i for i in chosen if sort_key(i.measure_id) > sort_key(last)]
        page, rest = chosen[:limit], chosen[limit:]
        nxt = encode_cursor("m", [page[-1].measure_id], digest) if rest and page else None
        language = parse_lang(lang)
        items = [_labelled(desc.describe(view, i, api_base, show_authors=authors, lang=language), language) for i in page]
        return _page_response(request, api_base, "/indicators", items, nxt, validators(view.state, etag), total)

    def _open_indicator(view: View, measure_id: str):
        ind_id = view.by_measure.get(measure_id)
        if ind_id is None:
            raise _not_open(measure_id)
        return view.indicators[ind_id]

    @r.get("/indicators/{measureId}", response_model=Indicator, summary="En öppen indikator med alla texter",
           responses={404: {"description": "No open indicator with this id"}})
    def get_indicator(request: Request, measureId: MeasureIdPath, lang: Lang = None) -> Response:
        view, etag, cached, api_base = guarded(request, {"lang"})
        ind = _open_indicator(view, measureId)
        if cached:
            return cached
        return _json(_labelled(desc.describe(view, ind, api_base, show_authors=authors, lang=parse_lang(lang)), parse_lang(lang)),
                     validators(view.state, etag))

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
    def indicator_submeasures(request: Request, measureId: MeasureIdPath, lang: Lang = None) -> Response:
        view, etag, cached, api_base = guarded(request, {"lang"})
        ind = _open_indicator(view, measureId)
        if cached:
            return cached
        subs = [i for i in view.open_indicators() if i.parent_measure_id == ind.measure_id]
        items = [_labelled(desc.describe(view, i, api_base, show_authors=authors, lang=parse_lang(lang)), parse_lang(lang)) for i in subs]
        return _json({"count": len(items), "total": len(items), "next": None, "nextCursor": None, "items": items},
                     validators(view.state, etag))

    # ---------------- results ----------------
    def result_filter(view: View, *, measureId, periodFrom, periodTo, hsaId, lan, kommun, sjukhus, riket,
                      organisationType, includeSubunits, sex, updatedSince, period=None) -> tuple[results.ResultFilter, str]:
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
        last_n = result_query.parse_period(period)
        if last_n is not None and (p_from or p_to):
            raise bad_parameter("period", "period kan inte kombineras med periodFrom/periodTo.",
                                "period cannot be combined with periodFrom/periodTo.")
        periods = result_query.latest_periods(ctx.reader, tuple(chosen), last_n) if last_n is not None else None
        f = results.ResultFilter(
            indicator_ids=tuple(chosen), period_from=p_from, period_to=p_to, org_ids=org_ids,
            org_types=tuple(choices("organisationType", organisationType, ORG_TYPES)),
            updated_since=parse_timestamp("updatedSince", updatedSince),
            periods=periods,
        )
        # The chosen periods are part of the query a cursor continues: new data (a newer period) makes an old
        # cursor a 400, never a page of another period.
        digest = filter_digest(ids=f.indicator_ids, pf=p_from, pt=p_to, orgs=sorted(org_ids) if org_ids is not None else None,
                               types=f.org_types, since=f.updated_since,
                               periods=sorted(map(str, periods)) if periods is not None else None)
        return f, digest

    result_params = {"measureId", "periodFrom", "periodTo", "hsaId", "lan", "kommun", "sjukhus", "riket",
                     "organisationType", "includeSubunits", "sex", "updatedSince", "period"}

    @r.get("/results", response_model=ResultPage, summary="Öppna resultat (JSON)",
           description="Approved results of open indicators. Periods lie fully inside [periodFrom, periodTo]. "
                       "Organisation filters combine with OR; `includeSubunits` adds everything below them. "
                       "`updatedSince` switches to the change order (updatedAt, then id). `total`: every matching row "
                       "(one COUNT per page). `sort` ranks; `period=latest|last-N` picks the newest periods.")
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
        period: PeriodSpec = None,
        sort: SortParam = None,
        lang: Lang = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, result_params | {"sort", "lang", "limit", "cursor"})
        if cached:
            return cached
        f, digest = result_filter(view, measureId=measureId, periodFrom=periodFrom, periodTo=periodTo, hsaId=hsaId, lan=lan,
                                  kommun=kommun, sjukhus=sjukhus, riket=riket, organisationType=organisationType,
                                  includeSubunits=includeSubunits, sex=sex, updatedSince=updatedSince, period=period)
        order = result_query.parse_sort(sort, f) or f.order
        after = decode_cursor(cursor, digest)
        if after is not None and after[0] != order:
            raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
        if order in result_query.SORTS:
            rows, last = result_query.sorted_page(ctx.reader, f, order, after=after[1] if after else None, limit=limit)
        else:
            rows, last = results.page(ctx.reader, f, after=after[1] if after else None, limit=limit)
        build = results.ItemBuilder(view, parse_lang(lang))
        items = [build(row) for row in rows]
        nxt = encode_cursor(order, last, digest) if last is not None else None
        total = result_query.total(ctx.reader, f)
        return _page_response(request, api_base, "/results", items, nxt, validators(view.state, etag), total)

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
        period: PeriodSpec = None,
        delimiter: Annotated[str | None, Query(pattern="^(comma|semicolon)$", description="comma (default) or semicolon")] = None,
        excel: Annotated[bool, Query(description="For Excel: `;`, decimal comma, UTF-8 BOM, CRLF (not re-importable)")] = False,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, result_params | {"delimiter", "excel"})
        if cached:
            return cached
        if excel and delimiter is not None:
            raise bad_parameter("delimiter", "excel=true bestämmer avgränsaren (;): utelämna delimiter.",
                                "excel=true sets the delimiter (;): leave delimiter out.")
        f, _ = result_filter(view, measureId=measureId, periodFrom=periodFrom, periodTo=periodTo, hsaId=hsaId, lan=lan,
                             kommun=kommun, sjukhus=sjukhus, riket=riket, organisationType=organisationType,
                             includeSubunits=includeSubunits, sex=sex, updatedSince=updatedSince, period=period)
        headers = validators(view.state, etag)
        headers["Content-Disposition"] = 'attachment; filename="resultat.csv"'
        chunks = visfile.csv_chunks(results.stream(ctx.reader, f), view, delimiter=visfile.DELIMITERS[delimiter or "comma"],
                                    excel=excel)
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8; header=present", headers=headers)

    @r.get("/results.xlsx", summary="Öppna resultat som Excel-fil (XLSX)",
           description="The same filters as /results.csv, in the VIS column layout, numbers as numbers (counts as integers). "
                       f"At most {xlsx.MAX_ROWS} rows (one sheet): more is a 400 asking for narrower filters.",
           response_class=StreamingResponse,
           responses={200: {"content": {xlsx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}, "description": "XLSX file"}})
    def get_results_xlsx(
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
        period: PeriodSpec = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, result_params)
        if cached:
            return cached
        f, _ = result_filter(view, measureId=measureId, periodFrom=periodFrom, periodTo=periodTo, hsaId=hsaId, lan=lan,
                             kommun=kommun, sjukhus=sjukhus, riket=riket, organisationType=organisationType,
                             includeSubunits=includeSubunits, sex=sex, updatedSince=updatedSince, period=period)
        if result_query.total(ctx.reader, f) > xlsx.MAX_ROWS:
            raise bad_parameter("measureId", f"Fler än {xlsx.MAX_ROWS} rader ryms inte i ett kalkylblad: avgränsa frågan "
                                "eller hämta CSV.", f"More than {xlsx.MAX_ROWS} rows do not fit in a sheet: narrow the query "
                                "or fetch the CSV.")
        headers = validators(view.state, etag)
        headers["Content-Disposition"] = 'attachment; filename="resultat.xlsx"'
        build = visfile.VisRows(view).row
        rows = (visfile.typed(line) for line in map(build, results.stream(ctx.reader, f)) if line is not None)
        return StreamingResponse(xlsx.xlsx_chunks(visfile.COLUMNS, rows), media_type=xlsx.MEDIA_TYPE, headers=headers)

    # ---------------- organisations (api_orgs.py) ----------------
    api_orgs.add_routes(r, ctx, guarded, cursors, _page_response)

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
        events = feed.events(ctx.reader, view, ts)
        if types:
            events = [e for e in events if e["type"] in types]
        total = len(events)
        if after is not None:
            key = after[1]
            if len(key) != 2 or not all(isinstance(k, str) for k in key):
                raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
            events = [e for e in events if (e["at"], e["id"]) > (key[0], key[1])]
        page, rest = events[:limit], events[limit:]
        nxt = encode_cursor("c", [page[-1]["at"], page[-1]["id"]], digest) if rest and page else None
        return _page_response(request, api_base, "/changes", page, nxt, validators(view.state, etag), total)

    # ---------------- removals (issue #15: a sync that misses nothing; the recipe is in docs/opendata.md) ----------
    @r.get("/results/removed", response_model=removals.RemovalPage, summary="Borttagna resultat (tombstones)",
           description="Keys of values that stopped being public after `since` (de-published, closed, removed by a "
                       "newer file), oldest first. With `/results?updatedSince=` a mirror stays exact.")
    def get_removed(
        request: Request,
        since: Annotated[str | None, Query(max_length=40, description="RFC 3339 timestamp; default: from the start")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Response:
        view, etag, cached, api_base = guarded(request, {"since", "limit", "cursor"})
        if cached:
            return cached
        ts = parse_timestamp("since", since)
        digest = filter_digest(removed=True, since=ts)
        after = decode_cursor(cursor, digest)
        if after is not None and after[0] != "r":
            raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.")
        items, last, total = removals.page(ctx.reader, view, ts, after[1] if after else None, limit)
        nxt = encode_cursor("r", last, digest) if last is not None else None
        return _page_response(request, api_base, "/results/removed", items, nxt, validators(view.state, etag), total)

    return r


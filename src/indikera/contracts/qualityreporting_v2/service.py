"""GetQualityIndicators 2: from a parsed envelope to an answer, for the consumer who asks.

Visibility is the one rule in ``publish.visibility``: what the caller may not see is answered exactly
like an unknown id (no values, no fault), and only counted as withheld in the audit.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...access import audit as audit_log
from ...access.identity import Identity
from ...access.resolve import identity_of, trust_of
from ...caches import current_version
from ...context import AppContext
from ...domain.checksum import EMPTY_CHECKSUM
from ...publish.visibility import Audience
from .. import logical_address
from ..endpoint import Call
from ..envelope import Request as SoapRequest
from ...rivta import ORIGINAL_CONSUMER_HEADER
from ..soap import CONTENT_TYPE, SoapFault, client_fault
from . import answer as answers
from . import request as requests
from . import directory
from .checksum_cache import count_key
from .checksum_cache import key as cache_key
from .store_query import Selection, answer_rows, checksum_rows, count_matching, select_for

MAX_AUDITED_IDS = 50
IN_MEMORY_ANSWER = 1024 * 1024


@dataclass
class Outcome:
    answer: answers.Answer
    returned: int
    selection: Selection | None = None  # to count what was withheld, after the answer has been sent
    cached_for: tuple[requests.Query, Audience] | None = None  # a cached answer selects only for the audit
    count_key: Hashable | None = None  # where the matching count is cached (same data version)

    def withheld(self, ctx: AppContext) -> int:
        counts = ctx.caches.counts
        matching = counts.get(self.count_key) if self.count_key is not None else None
        if matching is None:
            with ctx.reader.connect() as conn:
                selection = self.selection
                if selection is None and self.cached_for is not None:
                    selection = select_for(conn, *self.cached_for)
                if selection is None:
                    return 0
                matching = count_matching(conn, selection)
            if self.count_key is not None:
                counts.put(self.count_key, matching)
        return max(0, matching - self.returned)


def answer_query(ctx: AppContext, query: requests.Query, audience: Audience) -> Outcome:
    """The answer to ``query`` as ``audience`` may see it.

    Checksum-only answers come from the summary cache when the data version is unchanged (one primary-key
    look-up), else from the stored hashes alone; every computed summary is cached under its version.
    """
    settings = ctx.settings
    cache = ctx.caches.summaries  # one per application context (per database), with the others
    with ctx.reader.connect() as conn:  # the read replica when configured; the version is read there too
        version = current_version(conn)
        k = cache_key(version, query, audience) if version is not None else None
        ck = count_key(version, query) if version is not None else None
        if k is not None and not query.include_measurements:
            cached = cache.get(k)
            if cached is not None:
                return Outcome(answers.checksum_only(settings, cached), cached.count, cached_for=(query, audience), count_key=ck)
        selection = select_for(conn, query, audience)
        if selection is None:
            summary = answers.Summary(EMPTY_CHECKSUM, query.start, query.end, 0)
            return Outcome(answers.checksum_only(settings, summary), 0)
        if query.include_measurements:
            result = answers.full(
                settings,
                answer_rows(conn, selection),
                directory.cached(conn, version, ctx.caches.directory),
                query.start,
                query.end,
                settings.soap_max_response_bytes,
            )
        else:
            result = answers.checksum_only(settings, answers.summarise(checksum_rows(conn, selection), query.start, query.end))
    if result.size > settings.soap_max_response_bytes:
        result.close()
        raise answers.too_large(settings.soap_max_response_bytes)
    if k is not None:
        cache.put(k, result.summary)
    return Outcome(result, result.summary.count, selection, count_key=ck)


def check_identified(ctx: AppContext, identity: Identity) -> None:
    """With ``unidentified_consumers = "refuse"``, a caller without an HSA-id gets a fault, as NTjP's VP would
    give it: VP002 (client certificate missing or without an HSA-id) or VP013 (a platform that names no
    usable original consumer). With "open" (the default) it is answered with open data only."""
    if identity.is_identified or not trust_of(ctx.settings).refuse_unidentified:
        return
    if identity.platform_id is not None:
        raise client_fault(
            "ORIGINAL_CONSUMER_INVALID",
            f"plattformen angav ingen giltig {ORIGINAL_CONSUMER_HEADER}; tjänsten besvarar bara identifierade konsumenter (jfr VP013)",
            f"the platform sent no valid {ORIGINAL_CONSUMER_HEADER}; this producer answers identified consumers only "
            f"(cf. NTjP VP013): {identity.reason[:200]}",
        )
    raise client_fault(
        "CONSUMER_UNIDENTIFIED",
        "klientcertifikat saknas eller saknar HSA-id (serialNumber); tjänsten besvarar bara identifierade konsumenter (jfr VP002)",
        "client certificate missing or without an HSA-id (subject serialNumber); this producer answers identified "
        f"consumers only (cf. NTjP VP002): {identity.reason[:200]}",
    )


def handle(ctx: AppContext, http_request: Request, soap: SoapRequest, call: Call) -> Response:
    identity = identity_of(http_request)
    # The request is read first so that the audit row of every later fault (identity, LogicalAddress) still
    # says what was asked for; a bad payload's own fault keeps its place after those checks.
    try:
        query, bad_payload = requests.read(soap.payload), None
    except SoapFault as fault:
        query, bad_payload = None, fault
    if query is not None:
        call.requested = {
            "measureIds": [f"{root}:{ext}" if ext is not None else root for root, ext in query.requested[:MAX_AUDITED_IDS]],
            "measureIdCount": len(query.requested),
            "reportingPeriod": [query.start, query.end],
            "includeMeasurements": query.include_measurements,
        }
    check_identified(ctx, identity)
    logical_address.check(soap.logical_address, ctx.settings.logical_addresses)
    if bad_payload is not None:
        raise bad_payload
    assert query is not None
    outcome = answer_query(ctx, query, identity.audience())
    call.returned = outcome.returned
    call.withheld_later = lambda: outcome.withheld(ctx)  # counted by the audit task, off the answer's path
    result = outcome.answer
    if result.size <= IN_MEMORY_ANSWER:
        return Response(result.bytes(), media_type=CONTENT_TYPE)
    return StreamingResponse(result.chunks(), media_type=CONTENT_TYPE, headers={"content-length": str(result.size)})


def audit(ctx: AppContext, http_request: Request):
    identity = identity_of(http_request)

    def write(call: Call, outcome: str, detail: str | None) -> None:
        audit_log.record(
            ctx.engine,
            channel="soap",
            operation="GetQualityIndicators",
            outcome=outcome,
            consumer_hsa_id=identity.consumer_hsa_id,
            platform_id=identity.platform_id,
            correlation_id=call.correlation_id,
            logical_address=(call.logical_address or "")[:200] or None,
            requested=call.requested,
            returned=call.returned,
            withheld=call.withheld_later() if call.withheld_later else call.withheld,
            duration_ms=call.duration_ms,
            detail=detail,
            identity=identity,
        )

    return write

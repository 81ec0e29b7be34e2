"""What the preview pages show: the public page's own loaders, run for the chosen audience inside a simulated
approval (``preview.simulated``), plus the marks that say what is not yet public."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from starlette.requests import Request

from ...catalog.review_states import Status
from ...catalog.store import description_for_preview, description_versions
from ...context import AppContext
from ...domain.errors import DomainError
from ...domain.indicators import check_measure_id
from ...publish import control
from ...publish.visibility import PUBLIC, Audience, visible_indicator_ids
from ...store.tables import indicators
from .. import indicator_view, queries, results_page
from ..page_errors import PageError
from .preview import show_hidden, simulated
from .texts import staff_translator

HSA_ID = re.compile(r"[A-Z]{2}[0-9A-Z-]{1,62}")
UNSHOWN = (Status.REJECTED.value, Status.SUPERSEDED.value)


def audience_of(value: str) -> tuple[Audience, str]:
    """``allman`` (or nothing): the public; ``konsument:<HSA-id>``: that consumer under its agreements."""
    value = value.strip()
    if value in ("", "allman"):
        return PUBLIC, "allman"
    if value.startswith("konsument:"):
        hsa = value[len("konsument:"):].strip().upper()
        if HSA_ID.fullmatch(hsa):
            return Audience(consumer_hsa_id=hsa), f"konsument:{hsa}"
    raise PageError(400, "error_bad_audience", value=value[:64])


def _banner(t, audience: Audience) -> str:
    who = t("audience_public") if audience.is_public else t("audience_consumer", hsa=audience.consumer_hsa_id)
    return t("preview_banner", audience=who)


def list_context(ctx: AppContext, request: Request, lang: str) -> dict[str, Any]:
    t = staff_translator(lang)
    audience, publik = audience_of(request.query_params.get("publik", ""))
    with simulated(ctx.engine, ctx.settings.default_display_threshold) as (conn, sim):
        visible = queries.visible_indicators(conn, audience)
        shown = {i.id for i in visible}
        rows = conn.execute(select(indicators.c.id, indicators.c.measure_id, indicators.c.title).order_by(indicators.c.measure_id)).all()
        hidden = [(r, control.state_of(conn, r.id).value) for r in rows if r.id not in shown]
        drafts: dict[str, str] = {}
        for mid, versions in description_versions(conn, include_unreviewed=True).items():
            newest = next((v for v in versions if v.status not in UNSHOWN), None)
            if newest is not None and newest.status != Status.PUBLISHED.value:
                drafts[mid] = newest.status
    pending = Counter(k[0] for k in sim.pending)
    return {
        "preview_banner": _banner(t, audience),
        "publik": publik,
        "consumer": audience.consumer_hsa_id or "",
        "waiting": sim.waiting,
        "refused": {bid: exc.text(lang) for bid, exc in sim.refused.items()},
        "removals": sim.removals,
        "visible": visible,
        "hidden": hidden,
        "drafts": drafts,
        "pending": pending,
        "approved": request.query_params.get("godkand", "")[:20],
        "link": lambda mid: f"/personal/forhandsgranska/{quote(mid, safe='')}?" + urlencode({"publik": publik, "lang": lang}),
    }


def indicator_context(ctx: AppContext, request: Request, lang: str, measure_id: str) -> dict[str, Any]:
    t = staff_translator(lang)
    audience, publik = audience_of(request.query_params.get("publik", ""))
    try:
        check_measure_id(measure_id)
    except DomainError:
        raise PageError(404, "error_404_text") from None
    notes: list[str] = []
    with simulated(ctx.engine, ctx.settings.default_display_threshold) as (conn, sim):
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == measure_id)).scalar()
        if iid is None:
            raise PageError(404, "error_404_text")
        if iid not in visible_indicator_ids(conn, audience):
            state = control.state_of(conn, iid).value
            show_hidden(conn, audience, iid)
            notes.append(t("hidden_page", state=t("state_" + state)))
        data = results_page.load(conn, audience, measure_id, request.query_params, lang, preview=True)
        draft = description_for_preview(conn, measure_id)
    if draft is not None and draft.status != Status.PUBLISHED.value:
        notes.append(t("draft_page", version=draft.description.version_text, status=t("review_" + draft.status)))
    context = indicator_view.context(data, t, lang)
    marks = set()
    if data.period is not None:
        p = data.period
        marks = {(k[1], k[2]) for k in sim.pending if k[0] == data.ind.id and (k[3], k[4]) == (p.start, p.end)}
    if marks:
        notes.append(t("pending_page"))
    url = context["url"]
    keep = urlencode({"publik": publik})
    context.update({
        "preview_banner": _banner(t, audience),
        "preview_notes": notes,
        "preview_marks": marks,
        # the page's own links and forms stay in the preview (and in the audience); open-data links and
        # downloads would show public data, so the preview has none
        "url": lambda *a, **k: url(*a, **k).replace("?", f"?{keep}&", 1),
        "page_path": f"/personal/forhandsgranska/{quote(measure_id, safe='')}",
        "hidden_params": {"publik": publik},
        "back_url": "/personal/forhandsgranska?" + urlencode({"publik": publik, "lang": lang}),
        "downloads": None,
        "api": None,
    })
    return context


__all__ = ["audience_of", "indicator_context", "list_context"]

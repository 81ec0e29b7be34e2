"""The admin API's description review: versions and their log, preview, diff, due list and the transitions.

Mounted by ``admin_routes.build`` under ``/admin/api/v1/catalogue/…``; the same operations as ``indikera catalog
submit|approve|reject|release|history|diff|due``. A transition and its audit row are one transaction
(``admin_audit.write``); refusals are ``catalog.review_states.ReviewError`` rendered as problem+json (409 wrong
state or the author approving, 404 unknown version, 422 missing reason).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from fastapi import Depends, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ..access.admin_auth import Admin, require_admin
from ..catalog import review
from ..catalog.review_states import Action, Move, ReviewError
from ..catalog.store import description_for_preview
from ..context import AppContext
from ..store.repositories import iso_utc

VERSION = r"^\d{1,9}\.\d{1,9}$"
_ACTIONS = {"submit": Action.SUBMIT, "approve": Action.APPROVE, "reject": Action.REJECT, "release": Action.PUBLISH}


class ReviewChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2000, description="Why (required to reject); recorded in the review log")
    nextReview: date | None = Field(default=None, description="approve: the next review date (default: after catalog_review_interval_days)")
    release: bool = Field(default=False, description="approve: release the version at once")


def _iso(value: Any) -> Any:
    """Dates and times as ISO 8601 (times in UTC with the zone); everything else as it is."""
    if isinstance(value, datetime):
        return iso_utc(value)
    return value.isoformat() if isinstance(value, date) else value


def add_routes(api: FastAPI, ctx: AppContext, write: Callable, measure_id_param: Any) -> None:
    Admin_ = Depends(require_admin)
    settings = ctx.settings

    @api.get("/catalogue/due", summary="Published descriptions due for review (or never reviewed)")
    def due(within: int = Query(0, ge=0, le=36500, description="Also those due within this many days"), _: Admin = Admin_):
        with ctx.engine.connect() as conn:
            rows = review.due(conn, within)
        return [{"measureId": r.measure_id, "version": r.version, "nextReviewDate": _iso(r.next_review_date),
                 "reviewedBy": r.reviewed_by, "reviewedAt": _iso(r.reviewed_at)} for r in rows]

    @api.get("/catalogue/{measure_id}/versions", summary="Every description version with its review status and log")
    def versions(measure_id: str = measure_id_param, _: Admin = Admin_) -> dict[str, Any]:
        with ctx.engine.connect() as conn:
            vs = review.versions(conn, measure_id)
            log = review.log_entries(conn, measure_id)
        if not vs:
            raise ReviewError("REVIEW_NOT_FOUND", f"Indikatorn {measure_id} har ingen beskrivning.", f"Indicator {measure_id} has no description.")
        return {"versions": [{k: _iso(v) for k, v in x.items()} for x in vs], "log": [{k: _iso(v) for k, v in x.items()} for x in log]}

    @api.get("/catalogue/{measure_id}/preview", summary="Staff preview: the newest version that may still go live")
    def preview(measure_id: str = measure_id_param, _: Admin = Admin_) -> dict[str, Any]:
        with ctx.engine.connect() as conn:
            s = description_for_preview(conn, measure_id)
        if s is None:
            raise ReviewError("REVIEW_NOT_FOUND", f"Indikatorn {measure_id} har ingen beskrivning.", f"Indicator {measure_id} has no description.")
        return {"version": s.description.version_text, "status": s.status, "description": s.document}

    @api.get("/catalogue/{measure_id}/diff", summary="Field-by-field difference (default: published against the newest draft)")
    def diff(measure_id: str = measure_id_param, old: str | None = Query(None, alias="from", pattern=VERSION),
             new: str | None = Query(None, alias="to", pattern=VERSION), _: Admin = Admin_) -> dict[str, Any]:
        pair = (review.parse_version(old), review.parse_version(new)) if old and new else (None, None)
        with ctx.engine.connect() as conn:
            before, after, changes = review.diff(conn, measure_id, *pair)
        return {"measureId": measure_id, "from": before, "to": after, "changes": [c.as_dict() for c in changes]}

    @api.post("/catalogue/{measure_id}/versions/{version}/{action}", summary="Review transition: submit, approve, reject or release")
    def transition(action: Literal["submit", "approve", "reject", "release"], body: ReviewChange | None = None,
                   measure_id: str = measure_id_param, version: str = Path(pattern=VERSION, max_length=19),
                   admin: Admin = Admin_) -> dict[str, Any]:
        b = body or ReviewChange()
        actor = f"{admin.method}:{admin.name}"
        v = review.parse_version(version)

        def change(conn) -> list[Move]:
            moves = [review.transition(conn, measure_id, v, _ACTIONS[action], actor=actor, reason=b.reason,
                                       self_approval=settings.catalog_self_approval, next_review=b.nextReview,
                                       interval_days=settings.catalog_review_interval_days)]
            if action == "approve" and b.release:
                moves.append(review.transition(conn, measure_id, v, Action.PUBLISH, actor=actor, reason=b.reason))
            return moves

        moves = write(change)
        return {"measureId": measure_id, "version": version, "before": moves[0].before.value, "after": moves[-1].after.value}


__all__ = ["add_routes"]

"""Tombstones for a syncing consumer (issue #15): the open-data key of every value that stopped being public.

``result_removals`` is written by ``publish.timeline`` in the same transaction as the action (a batch
de-published, an indicator or period closed, a value removed by an approved file). A row exists only for a
value the public could see, so listing them reveals nothing that was not open. "restricted" and "closed"
are both shown as ``closed``: the feed never says whether an indicator became restricted or unpublished.
Kept indefinitely (one short row per removed value).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select, tuple_

from ..store.tables import result_removals
from .params import as_utc, bad_parameter, iso
from .state import View

R = result_removals.c
PUBLIC_REASONS = {"removed": "removed", "depublished": "depublished", "closed": "closed", "restricted": "closed"}


class Removal(BaseModel):
    measureId: str
    periodStart: str
    periodEnd: str
    organisationId: str = Field(description="The organisation's key (hsa:… or oid:…), as in /results")
    stratum: str | None
    removedAt: str = Field(description="When the value stopped being public (RFC 3339, UTC)")
    reason: str = Field(description="removed (a newer approved file left it out), depublished, closed")


class RemovalPage(BaseModel):
    count: int
    total: int
    next: str | None
    nextCursor: str | None
    items: list[Removal]


def page(engine: Engine, view: View, since: datetime | None, after: list[Any] | None,
         limit: int) -> tuple[list[dict[str, Any]], list[Any] | None, int]:
    """Tombstones after ``since``, oldest first (at, id); the key to continue after (or None); how many after
    ``since`` in all."""
    q = select(result_removals).order_by(R.at, R.id).limit(limit + 1)
    counted = select(func.count()).select_from(result_removals)
    if since is not None:
        q, counted = q.where(R.at > since), counted.where(R.at > since)
    if after is not None:
        try:
            at_text, last_id = after
            at = as_utc(datetime.fromisoformat(str(at_text).replace("Z", "+00:00")))
            if not isinstance(last_id, int):
                raise ValueError
        except (TypeError, ValueError):
            raise bad_parameter("cursor", "Ogiltig cursor.", "Invalid cursor.") from None
        q = q.where(tuple_(R.at, R.id) > tuple_(at, last_id))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
        total = conn.execute(counted).scalar_one()
    more, rows = len(rows) > limit, rows[:limit]
    items = [{
        "measureId": view.indicators[r.indicator_id].measure_id,
        "periodStart": r.period_start.isoformat(), "periodEnd": r.period_end.isoformat(),
        "organisationId": view.orgs[r.organisation_id].key, "stratum": r.stratum or None,
        "removedAt": iso(r.at), "reason": PUBLIC_REASONS.get(r.reason, "removed"),
    } for r in rows]
    return items, ([iso(rows[-1].at), rows[-1].id] if more and rows else None), total

"""CPUA agreements: which consumer (HSA-id) may read which restricted indicators, and when.

An agreement names one indicator (by KIK measure id) or every restricted indicator (``measure_id``
None), is valid from ``valid_from`` to ``valid_to`` inclusive (open-ended when None) and can be ended
early. Ending keeps the row (who, when): agreements are evidence. ``publish.visibility`` reads them.
Every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, insert, select, update

from ..domain.errors import IndikeraError
from ..store import db as store_db
from ..store.access_tables import agreements
from ..store.repositories import iso_utc, utcnow
from ..store.tables import indicators
from . import audit
from .certs import normalise_hsa_id


class AgreementError(IndikeraError, ValueError):
    """A request the registry staff must correct; the texts come from the message catalogue by code."""

    status = 422  # HTTP: the request names something impossible

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, **params)


class AgreementNotFound(AgreementError):
    status = 404


class AgreementEnded(AgreementError):
    status = 409  # the agreement's state, not the request, is in the way


@dataclass(frozen=True)
class Agreement:
    id: int
    consumer_hsa_id: str
    reference: str
    measure_id: str | None  # None: every restricted indicator
    valid_from: date
    valid_to: date | None
    note: str
    created_by: str
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None

    def is_valid_on(self, on: date) -> bool:
        return self.ended_at is None and self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def status(self, on: date) -> str:
        if self.ended_at is not None:
            return "avslutat"
        if on < self.valid_from:
            return "ej påbörjat"
        if self.valid_to is not None and on > self.valid_to:
            return "utgånget"
        return "gällande"

    def as_json(self, on: date | None = None) -> dict:
        on = on or date.today()
        return {
            "id": self.id,
            "consumer_hsa_id": self.consumer_hsa_id,
            "reference": self.reference,
            "measure_id": self.measure_id,
            "all_restricted": self.measure_id is None,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "note": self.note,
            "created_by": self.created_by,
            "created_at": iso_utc(self.created_at),
            "ended_by": self.ended_by,
            "ended_at": iso_utc(self.ended_at),
            "status": self.status(on),
        }


def _select():
    return select(agreements, indicators.c.measure_id).select_from(
        agreements.outerjoin(indicators, agreements.c.indicator_id == indicators.c.id)
    )


def _from_row(r) -> Agreement:
    return Agreement(
        r.id, r.consumer_hsa_id, r.reference, r.measure_id, r.valid_from, r.valid_to, r.note, r.created_by, r.created_at, r.ended_by, r.ended_at
    )


def add(
    engine: Engine,
    *,
    consumer: str,
    reference: str,
    measure_ids: Sequence[str] | None,
    valid_from: date,
    valid_to: date | None = None,
    note: str = "",
    actor: str,
    channel: str = "cli",
) -> list[Agreement]:
    """Create one agreement per measure id (``measure_ids`` None: one covering every restricted indicator)."""
    hsa_id = normalise_hsa_id(consumer)
    if hsa_id is None:
        raise AgreementError("AGREEMENT_CONSUMER", consumer=repr(consumer))
    reference = reference.strip()
    if not reference or len(reference) > 200:
        raise AgreementError("AGREEMENT_REFERENCE")
    if valid_to is not None and valid_to < valid_from:
        raise AgreementError("AGREEMENT_DATES", valid_to=valid_to, valid_from=valid_from)
    if measure_ids is not None and not measure_ids:
        raise AgreementError("AGREEMENT_NO_MEASURES")
    now = utcnow()
    with store_db.writer(engine).begin() as conn:
        targets: list[int | None] = [None]
        if measure_ids is not None:
            wanted = list(dict.fromkeys(m.strip() for m in measure_ids))
            found = dict(conn.execute(select(indicators.c.measure_id, indicators.c.id).where(indicators.c.measure_id.in_(wanted))).all())
            unknown = [m for m in wanted if m not in found]
            if unknown:
                raise AgreementError("AGREEMENT_UNKNOWN_MEASURES", ids=", ".join(unknown))
            targets = [found[m] for m in wanted]
        ids = []
        for indicator_id in targets:
            result = conn.execute(
                insert(agreements).values(
                    consumer_hsa_id=hsa_id,
                    reference=reference,
                    indicator_id=indicator_id,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    note=note,
                    created_by=actor,
                    created_at=now,
                )
            )
            ids.append(result.inserted_primary_key[0])
        made = [_from_row(r) for r in conn.execute(_select().where(agreements.c.id.in_(ids)).order_by(agreements.c.id))]
        audit.record(  # in the same transaction: no agreement without its audit row
            conn,
            channel=channel,
            operation="agreement.add",
            outcome="ok",
            actor=actor,
            consumer_hsa_id=hsa_id,
            requested={
                "agreement_ids": ids,
                "reference": reference,
                "measure_ids": None if measure_ids is None else [a.measure_id for a in made],
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat() if valid_to else None,
            },
        )
    return made


def list_agreements(engine: Engine, *, consumer: str | None = None, include_inactive: bool = False, on: date | None = None) -> list[Agreement]:
    on = on or date.today()
    q = _select().order_by(agreements.c.consumer_hsa_id, agreements.c.id)
    if consumer:
        q = q.where(agreements.c.consumer_hsa_id == consumer.strip().upper())
    with engine.connect() as conn:
        rows = [_from_row(r) for r in conn.execute(q)]
    return rows if include_inactive else [a for a in rows if a.is_valid_on(on)]


def end(engine: Engine, agreement_id: int, *, actor: str, reason: str = "", channel: str = "cli") -> Agreement:
    """End an agreement now (the row stays, with who ended it and when)."""
    with store_db.writer(engine).begin() as conn:
        row = conn.execute(_select().where(agreements.c.id == agreement_id)).first()
        if row is None:
            raise AgreementNotFound("AGREEMENT_NOT_FOUND", id=agreement_id)
        if row.ended_at is not None:
            raise AgreementEnded("AGREEMENT_ENDED", id=agreement_id, ended_at=f"{row.ended_at:%Y-%m-%d %H:%M}", ended_by=row.ended_by)
        conn.execute(update(agreements).where(agreements.c.id == agreement_id).values(ended_by=actor, ended_at=utcnow()))
        ended = _from_row(conn.execute(_select().where(agreements.c.id == agreement_id)).one())
        audit.record(  # in the same transaction: the end and its audit row commit together
            conn,
            channel=channel,
            operation="agreement.end",
            outcome="ok",
            actor=actor,
            consumer_hsa_id=ended.consumer_hsa_id,
            requested={"agreement_id": agreement_id, "reference": ended.reference, "measure_id": ended.measure_id},
            detail=reason or None,
        )
    return ended


__all__ = ["Agreement", "AgreementEnded", "AgreementError", "AgreementNotFound", "add", "end", "list_agreements"]

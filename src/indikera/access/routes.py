"""HTTP side of access: the identity middleware, ``/access/whoami`` and the admin API for agreements/audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..context import AppContext
from . import agreements as agreements_mod
from . import audit
from .admin_auth import Admin, record_admin_action, require_admin
from .identity import identity_of
from .middleware import IdentityMiddleware
from .resolve import trust_of


class AgreementIn(BaseModel):
    consumer_hsa_id: str = Field(max_length=100)
    reference: str = Field(max_length=200)
    measure_ids: list[str] | None = Field(default=None, description="KIK measure ids; null = every restricted indicator")
    valid_from: date
    valid_to: date | None = None
    note: str = Field(default="", max_length=4000)


class EndIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/access/whoami", tags=["access"])
    def whoami(request: Request) -> dict:
        """Who this server believes is calling (for connection tests): never more than the caller's own identity."""
        ident = identity_of(request)
        return {
            "consumer_hsa_id": ident.consumer_hsa_id,
            "channel": ident.channel,
            "platform_id": ident.platform_id,
            "identified": ident.is_identified,
            "reason": ident.reason,
        }

    @router.get("/admin/agreements", tags=["admin"])
    def list_agreements(
        request: Request,
        admin: Annotated[Admin, Depends(require_admin)],
        consumer: str | None = None,
        include_inactive: bool = False,
    ) -> list[dict]:
        engine = request.app.state.ctx.engine
        return [a.as_json() for a in agreements_mod.list_agreements(engine, consumer=consumer, include_inactive=include_inactive)]

    @router.post("/admin/agreements", status_code=201, tags=["admin"])
    def add_agreement(request: Request, body: AgreementIn, admin: Annotated[Admin, Depends(require_admin)]) -> list[dict]:
        engine = request.app.state.ctx.engine
        try:
            made = agreements_mod.add(
                engine,
                consumer=body.consumer_hsa_id,
                reference=body.reference,
                measure_ids=body.measure_ids,
                valid_from=body.valid_from,
                valid_to=body.valid_to,
                note=body.note,
                actor=f"{admin.method}:{admin.name}",
                channel="admin",
            )
        except agreements_mod.AgreementError as exc:
            record_admin_action(request, admin, "agreement.add", outcome="rejected", detail=str(exc))
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return [a.as_json() for a in made]

    @router.post("/admin/agreements/{agreement_id}/end", tags=["admin"])
    def end_agreement(request: Request, agreement_id: int, body: EndIn, admin: Annotated[Admin, Depends(require_admin)]) -> dict:
        engine = request.app.state.ctx.engine
        try:
            ended = agreements_mod.end(engine, agreement_id, actor=f"{admin.method}:{admin.name}", reason=body.reason, channel="admin")
        except agreements_mod.AgreementError as exc:
            record_admin_action(request, admin, "agreement.end", outcome="rejected", detail=str(exc))
            status = 404 if isinstance(exc, agreements_mod.AgreementNotFound) else 409
            raise HTTPException(status_code=status, detail=str(exc)) from None
        return ended.as_json()

    @router.get("/admin/audit", tags=["admin"])
    def audit_query(
        request: Request,
        admin: Annotated[Admin, Depends(require_admin)],
        consumer: str | None = None,
        channel: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict]:
        rows = audit.query(request.app.state.ctx.engine, audit.AuditFilter(consumer, channel, outcome, since, None, limit))
        return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]

    return router


def mount(app: FastAPI, ctx: AppContext) -> None:
    """The identity middleware (every channel reads ``identity_of``) and this area's routes."""
    trust_of(ctx.settings)  # a malformed trusted_proxies entry stops the app here, not at the first request
    app.add_middleware(IdentityMiddleware, settings=ctx.settings)
    app.include_router(_router())

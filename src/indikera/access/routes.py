"""HTTP side of access: the identity middleware, ``/access/whoami``, and the agreement and audit routes of the admin API."""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, Field

from ..context import AppContext
from ..http_problems import ProblemError
from ..store.repositories import iso_utc
from . import agreements as agreements_mod
from . import audit
from .admin_auth import Admin, record_admin_action, require_admin
from .middleware import IdentityMiddleware
from .resolve import identity_of, trust_of


class AgreementIn(BaseModel):
    consumer_hsa_id: str = Field(max_length=100)
    reference: str = Field(max_length=200)
    measure_ids: list[str] | None = Field(default=None, description="KIK measure ids; null = every restricted indicator")
    valid_from: date
    valid_to: date | None = None
    note: str = Field(default="", max_length=4000)


class EndIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


AdminDep = Annotated[Admin, Depends(require_admin)]  # module level: the routes' annotations are resolved by name
AgreementId = Annotated[int, Path(ge=1, le=2**62, description="The agreement's id")]


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
            "worker": os.getpid(),  # which process answered (serve --workers N): connection checks of every worker
        }

    return router


def _actor(admin: Admin) -> str:
    return f"{admin.method}:{admin.name}"


def _refused(request: Request, admin: Admin, operation: str, exc: agreements_mod.AgreementError) -> ProblemError:
    """Audit a refused agreement change and turn it into the admin API's problem (status from the error class)."""
    record_admin_action(request, admin, operation, outcome="rejected", detail=str(exc))
    return ProblemError(exc.status, exc.code, exc.sv, exc.en)


def admin_router() -> APIRouter:
    """Agreements and the audit log, part of the admin API (``/admin/api/v1/agreements``, ``/admin/api/v1/audit``).

    ``publish.admin_routes`` includes this router, so these routes share that API's authentication, audit of
    every call, body limits and problem+json errors.
    """
    router = APIRouter(tags=["agreements and audit"])

    @router.get("/agreements", summary="CPUA agreements (valid ones, or all)")
    def list_agreements(request: Request, admin: AdminDep, consumer: Annotated[str | None, Query(max_length=100)] = None,
                        include_inactive: bool = False) -> list[dict]:
        engine = request.app.state.ctx.engine
        return [a.as_json() for a in agreements_mod.list_agreements(engine, consumer=consumer, include_inactive=include_inactive)]

    @router.post("/agreements", status_code=201, summary="Add an agreement (one per named indicator)")
    def add_agreement(request: Request, body: AgreementIn, admin: AdminDep) -> list[dict]:
        try:
            made = agreements_mod.add(
                request.app.state.ctx.engine,
                consumer=body.consumer_hsa_id,
                reference=body.reference,
                measure_ids=body.measure_ids,
                valid_from=body.valid_from,
                valid_to=body.valid_to,
                note=body.note,
                actor=_actor(admin),
                channel="admin",
            )
        except agreements_mod.AgreementError as exc:
            raise _refused(request, admin, "agreement.add", exc) from None
        return [a.as_json() for a in made]

    @router.post("/agreements/{agreement_id}/end", summary="End an agreement now (the row stays as evidence)")
    def end_agreement(request: Request, agreement_id: AgreementId, body: EndIn, admin: AdminDep) -> dict:
        engine = request.app.state.ctx.engine
        try:
            ended = agreements_mod.end(engine, agreement_id, actor=_actor(admin), reason=body.reason, channel="admin")
        except agreements_mod.AgreementError as exc:
            raise _refused(request, admin, "agreement.end", exc) from None
        return ended.as_json()

    @router.get("/audit", summary="The audit log, newest first")
    def audit_query(
        request: Request,
        admin: AdminDep,
        consumer: Annotated[str | None, Query(max_length=100)] = None,
        channel: Annotated[str | None, Query(max_length=40)] = None,
        outcome: Annotated[str | None, Query(max_length=40)] = None,
        since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict]:
        rows = audit.query(request.app.state.ctx.engine, audit.AuditFilter(consumer, channel, outcome, since, None, limit))
        return [{k: (iso_utc(v) if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]

    return router


def mount(app: FastAPI, ctx: AppContext) -> None:
    """The identity middleware (every channel reads ``identity_of``) and ``/access/whoami``."""
    trust_of(ctx.settings)  # a malformed trusted_proxies entry stops the app here, not at the first request
    app.add_middleware(IdentityMiddleware, settings=ctx.settings)
    app.include_router(_router())

"""The admin HTTP API (JSON; its OpenAPI document is ``/admin/api/v1/openapi.json``).

The same operations as ``indikera catalog …`` and ``indikera import approve``: catalogue validate, import and
export; publication level per indicator (optionally per period); de-publication of an indicator or a batch;
batch approval; the publication log. Every call needs an admin (``access.admin_auth.require_admin``) and every
call is audited (channel ``admin``), refusals included. The CPUA agreements and the audit log
(``access.routes.admin_router``) are part of the same API. Bodies are size-limited; every error is RFC 9457
problem+json (``indikera.http_problems``), with ``findings`` when a catalogue check refused the change.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .. import __version__, http_problems
from ..access import admin_audit, audit
from ..access.admin_auth import Admin, require_admin
from ..access.routes import admin_router
from ..catalog import jsonformat
from ..catalog import store as catalog_store
from ..context import AppContext
from ..domain.errors import IndikeraError
from ..store.repositories import iso_utc
from . import control, review_routes
from .states import PublishError, Transition

PREFIX = "/admin/api/v1"
MEASURE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
MAX_JSON_BODY = 64_000  # small change requests; the catalogue import has its own limit
_STATUS = {"INDICATOR_NOT_FOUND": 404, "BATCH_NOT_FOUND": 404, "REASON": 422, "PERIOD": 422, "NO_DESCRIPTION": 409, "DESCRIPTION_ERRORS": 409, "TRANSITION": 409}


class LevelChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Literal["open", "restricted", "unpublished"] = Field(description="open: everyone; restricted: consumers with an agreement; unpublished: nobody")
    reason: str = Field(min_length=1, max_length=2000, description="Why (recorded with who and when)")
    periodStart: str | None = Field(default=None, max_length=10, description="Narrow to measurements inside this period (YYYY-MM-DD)")
    periodEnd: str | None = Field(default=None, max_length=10)


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class OptionalReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="Granskad och godkänd för publicering", min_length=1, max_length=2000)


class TransitionOut(BaseModel):
    changed: bool
    before: str
    after: str
    action: str


def _t(t: Transition) -> dict[str, Any]:
    return {"changed": t.changed, "before": t.before, "after": t.after, "action": t.action}


def _too_large(limit: int) -> http_problems.ProblemError:
    return http_problems.ProblemError(413, "TOO_LARGE", limit=limit)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _catalogue_body() -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "description": f"A catalogue file (format {jsonformat.FORMAT}); its JSON Schema is GET {PREFIX}/catalogue/schema.",
    }}}}}


def build(ctx: AppContext) -> FastAPI:
    api = FastAPI(
        title="indikera admin API",
        version=__version__,
        description="Katalog och publiceringskontroll. Kräver admin-token (Authorization: Bearer) eller admin-certifikat; "
        "varje anrop granskningsloggas. (Catalogue and publication control; admin only; every call audited.)",
        docs_url=None,  # no CDN-loaded Swagger UI on an admin surface; the OpenAPI document is enough
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,  # a redirect would be absolute, built from the Host header: a 404 problem instead
    )
    api.state.ctx = ctx

    @api.middleware("http")
    async def audit_every_call(request: Request, call_next):
        started = time.monotonic()
        admin_audit.begin(request, PREFIX)
        if request.method in ("POST", "PUT", "PATCH") and not request.url.path.rstrip("/").endswith(("/catalogue", "/catalogue/validate")):
            declared = request.headers.get("content-length")
            if declared is None and request.headers.get("transfer-encoding"):
                response = http_problems.error_response(request, 411, IndikeraError("LENGTH_REQUIRED"))
            elif declared is not None and (not declared.isdigit() or int(declared) > MAX_JSON_BODY):
                response = http_problems.error_response(request, 413, _too_large(MAX_JSON_BODY))
            else:
                response = await call_next(request)
        else:
            response = await call_next(request)
        if response.status_code == 401 or admin_audit.audited(request):  # audited already: the refusal, or with its change
            return response
        await run_in_threadpool(
            audit.record, ctx.engine, **admin_audit.row(request, PREFIX),
            outcome="ok" if response.status_code < 400 else f"http-{response.status_code}",
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return response

    http_problems.install(api, validation_status=422)

    @api.exception_handler(PublishError)
    async def publish_error(request: Request, exc: PublishError):
        findings = [f.as_dict() for f in exc.details] or None
        return http_problems.error_response(request, _STATUS.get(exc.code, 409), exc, extensions={"findings": findings})

    Admin_ = Depends(require_admin)
    MeasureId = Path(pattern=MEASURE_ID, max_length=64, description="KIK MeasureID")

    def write(fn):  # the change and its audit row: one transaction
        return admin_audit.write(ctx.engine, fn)

    # ---------------------------------------------------------------- indicators
    @api.get("/indicators", summary="Indicators with publication state and description status")
    def list_indicators(_: Admin = Admin_) -> list[dict[str, Any]]:
        with ctx.engine.connect() as conn:
            return [_status(s) for s in control.all_statuses(conn)]

    @api.get("/indicators/{measure_id}", summary="One indicator: description, findings, rules, versions, log")
    def show_indicator(measure_id: str = MeasureId, _: Admin = Admin_) -> dict[str, Any]:
        with ctx.engine.connect() as conn:
            status = control.indicator_status(conn, measure_id)
            d, findings = catalog_store.check_stored(conn, measure_id)
            versions = catalog_store.history(conn, measure_id)
            log = control.log_entries(conn, measure_id=measure_id, limit=50)
        return {**_status(status), "description": jsonformat.to_dict(d) if d else None,
                "findings": [f.as_dict() for f in findings],
                "versions": [{"version": f"{v.version[0]}.{v.version[1]}", "createdBy": v.created_by,
                              "createdAt": iso_utc(v.created_at), "status": v.status} for v in versions],
                "log": log}

    @api.put("/indicators/{measure_id}/publication", response_model=TransitionOut,
             summary="Set the publication level (optionally for one period)")
    def set_publication(body: LevelChange, measure_id: str = MeasureId, admin: Admin = Admin_) -> dict[str, Any]:
        period = control.parse_period(body.periodStart, body.periodEnd)
        actor = f"{admin.method}:{admin.name}"
        return _t(write(lambda conn: control.set_level(conn, measure_id, body.level, actor=actor, reason=body.reason, period=period)))

    @api.post("/indicators/{measure_id}/depublish", response_model=TransitionOut,
              summary="De-publish: take the indicator out of every channel at once")
    def depublish_indicator(body: Reason, measure_id: str = MeasureId, admin: Admin = Admin_) -> dict[str, Any]:
        actor = f"{admin.method}:{admin.name}"
        return _t(write(lambda conn: control.depublish_indicator(conn, measure_id, actor=actor, reason=body.reason)))

    # ---------------------------------------------------------------- catalogue
    @api.get("/catalogue", summary="Export the catalogue (latest versions, or all)")
    def export(allVersions: bool = Query(False), _: Admin = Admin_):  # noqa: N803 - query parameter name
        with ctx.engine.connect() as conn:
            text = catalog_store.export_text(conn, all_versions=allVersions)
        return JSONResponse(json.loads(text))

    @api.get("/catalogue/schema", summary="The catalogue format's JSON Schema")
    def schema(_: Admin = Admin_):
        return JSONResponse(json.loads(jsonformat.SCHEMA.read_text(encoding="utf-8")))

    @api.post("/catalogue/validate", summary="Validate a catalogue file without writing", openapi_extra=_catalogue_body())
    async def validate(request: Request, _: Admin = Admin_):
        text = await _body(request, jsonformat.MAX_BYTES)
        findings = await run_in_threadpool(catalog_store.validate_text, ctx.engine, text)
        errors = sum(1 for f in findings if f.is_error)
        return {"ok": errors == 0, "errors": errors, "warnings": len(findings) - errors, "findings": [f.as_dict() for f in findings]}

    @api.post("/catalogue", summary="Import a catalogue file (all or nothing)", openapi_extra=_catalogue_body())
    async def import_catalogue(request: Request, admin: Admin = Admin_,
                               reason: str | None = Query(None, max_length=2000, description="Why (recorded with the new draft versions)")):
        text = await _body(request, jsonformat.MAX_BYTES)
        result = await run_in_threadpool(lambda: catalog_store.import_text(  # new versions are drafts (review_routes)
            ctx.engine, text, f"{admin.method}:{admin.name}", admin_audit.record_call, reason=reason))  # audited in its transaction
        body = {"ok": result.ok, "added": result.added, "unchanged": result.unchanged,
                "findings": [f.as_dict() for f in result.findings]}
        if result.ok:
            return JSONResponse(body)
        errors = sum(1 for f in result.findings if f.is_error)
        return http_problems.error_response(request, 422, IndikeraError("CATALOGUE_INVALID", n=errors), extensions=body)

    review_routes.add_routes(api, ctx, write, MeasureId)  # description review: versions, diff, due, transitions

    # ---------------------------------------------------------------- batches and log
    @api.get("/batches", summary="Import batches with their approval status")
    def list_batches(limit: int = Query(200, ge=1, le=10000), _: Admin = Admin_) -> list[dict[str, Any]]:
        with ctx.engine.connect() as conn:
            return [_batch(b) for b in control.batch_statuses(conn, limit)]

    @api.post("/batches/{batch_id}/approve", response_model=TransitionOut, summary="Approve a batch")
    def approve(batch_id: int = Path(ge=1, le=2**62), body: OptionalReason | None = None, admin: Admin = Admin_) -> dict[str, Any]:
        reason = (body or OptionalReason()).reason
        actor = f"{admin.method}:{admin.name}"
        return _t(write(lambda conn: control.approve_batch(conn, batch_id, actor=actor, reason=reason,
                                                            default_threshold=ctx.settings.default_display_threshold)))

    @api.post("/batches/{batch_id}/depublish", response_model=TransitionOut, summary="De-publish a batch from every channel")
    def depublish_batch(body: Reason, batch_id: int = Path(ge=1, le=2**62), admin: Admin = Admin_) -> dict[str, Any]:
        actor = f"{admin.method}:{admin.name}"
        return _t(write(lambda conn: control.depublish_batch(conn, batch_id, actor=actor, reason=body.reason)))

    @api.get("/log", summary="The publication log, newest first")
    def log(measureId: str | None = Query(None, pattern=MEASURE_ID, max_length=64),  # noqa: N803
            batchId: int | None = Query(None, ge=1, le=2**62),  # noqa: N803
            limit: int = Query(200, ge=1, le=10000), _: Admin = Admin_) -> list[dict[str, Any]]:
        with ctx.engine.connect() as conn:
            return control.log_entries(conn, measure_id=measureId, batch_id=batchId, limit=limit)

    # ---------------------------------------------------------------- agreements and audit (access area)
    api.include_router(admin_router())

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "adminToken": {"type": "http", "scheme": "bearer", "description": "A configured admin token (admin_tokens)"},
            }
            schema["security"] = [{"adminToken": []}]
            schema["servers"] = [{"url": PREFIX}]
            _problems_in(schema)
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _problems_in(schema: dict[str, Any]) -> None:
    """Document what the handlers really answer on errors: problem+json, not FastAPI's validation schema."""
    schemas = schema["components"].setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = http_problems.Problem.model_json_schema()
    problem = {"content": {http_problems.PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            responses["401"] = {"description": "No admin token or admin certificate (RFC 9457 problem details)", **problem}
            if "422" in responses:
                responses["422"] = {"description": "Invalid request (RFC 9457 problem details)", **problem}


def _status(s: control.IndicatorStatus) -> dict[str, Any]:
    return {
        "measureId": s.measure_id, "title": s.title, "state": s.state.value,
        "descriptionVersion": s.description_version, "descriptionErrors": s.description_errors,
        "rules": [{"periodStart": r.period_start.isoformat() if r.period_start else None,
                   "periodEnd": r.period_end.isoformat() if r.period_end else None, "level": r.level.value,
                   "changedBy": r.changed_by, "changedAt": iso_utc(r.changed_at), "reason": r.reason} for r in s.rules],
    }


def _batch(b: control.BatchStatus) -> dict[str, Any]:
    iso = iso_utc
    return {"id": b.id, "file": b.file_name, "registryHsaId": b.registry_hsa_id, "status": b.status.value,
            "createdBy": b.created_by, "createdAt": iso(b.created_at), "approvedBy": b.approved_by, "approvedAt": iso(b.approved_at),
            "depublishedBy": b.depublished_by, "depublishedAt": iso(b.depublished_at),
            "added": b.added, "changed": b.changed, "removed": b.removed}


def mount(app: FastAPI, ctx: AppContext) -> None:
    """Mount the admin API under ``/admin/api/v1``."""
    app.mount(PREFIX, build(ctx))


__all__ = ["MAX_JSON_BODY", "PREFIX", "build", "mount"]

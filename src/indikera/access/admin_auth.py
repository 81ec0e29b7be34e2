"""Admin authentication for every write operation over HTTP.

Two ways in, both configured (nothing is open by default):
* an admin **token**: ``Authorization: Bearer <token>``, either one made with ``indikera admin token create``
  (``admin_tokens``: stored hashed, expiring, revocable) or one of ``settings.admin_tokens`` (``name:token``
  pairs, the bootstrap path); the name is what the audit log records, the token never is;
* an admin **client certificate**: a certificate whose subject serialNumber is in
  ``settings.admin_hsa_ids``, presented directly (our TLS) or through a trusted proxy. A consumer
  named by an NTjP platform's header never counts: the platform cannot make anyone an admin.

Use ``Depends(require_admin)`` on a route; a refusal is a 401 ``AdminAuthError`` (audited, with the reason),
rendered as problem+json by the API it is raised in.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from ..config import Settings
from ..http_problems import ProblemError
from . import admin_tokens, audit
from .resolve import CORRELATION_HEADER, identity_of

log = logging.getLogger("indikera.access")


class AdminAuthError(ProblemError):
    """401: no valid admin token or admin certificate. The reason stays in the audit log, not in the answer."""

    def __init__(self) -> None:
        super().__init__(401, "ADMIN_REQUIRED", headers={"WWW-Authenticate": 'Bearer realm="indikera"'})


@dataclass(frozen=True)
class Admin:
    name: str  # token name or certificate HSA-id: the actor recorded for the action
    method: str  # token | certificate


def _tokens(settings: Settings) -> list[tuple[str, bytes]]:
    pairs = []
    for entry in settings.admin_tokens:
        name, sep, token = entry.partition(":")
        if sep and name.strip() and token.strip():
            pairs.append((name.strip(), token.strip().encode()))
        else:
            log.warning("admin_tokens: an entry is not name:token and is ignored")  # never echo the entry
    return pairs


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_token(token: str, settings: Settings, engine: Engine | None = None) -> tuple[Admin | None, str]:
    """(the admin, "") or (None, why not) for an admin token (the API's Bearer token, the staff login form's)."""
    presented = token.encode()
    match = None
    for name, expected in _tokens(settings):  # compare with every entry: timing says nothing
        if hmac.compare_digest(presented, expected):
            match = name
    if match is not None:
        return Admin(match, "token"), ""
    if engine is not None and token.startswith(admin_tokens.PREFIX):
        name, why = admin_tokens.check(engine, token)  # expired or revoked: refused, the reason names it
        return (Admin(name, "token"), "") if name is not None and not why else (None, why)
    return None, "unknown admin token"


def authenticate(request: Request, settings: Settings, engine: Engine | None = None) -> tuple[Admin | None, str]:
    """(the admin, "") or (None, why not). ``engine``: also accept tokens made with ``admin token create``."""
    token = _bearer(request)
    if token is not None:
        return check_token(token, settings, engine)
    identity = identity_of(request)
    if identity.channel in ("direct", "proxy") and identity.consumer_hsa_id:
        admins = {h.strip().upper() for h in settings.admin_hsa_ids}
        if identity.consumer_hsa_id in admins:
            return Admin(identity.consumer_hsa_id, "certificate"), ""
        return None, f"certificate {identity.consumer_hsa_id} is not an admin"
    if identity.channel == "platform":
        return None, "calls through a platform cannot administer"
    return None, f"no admin token or admin certificate ({identity.reason})"


def _settings(request: Request) -> Settings:
    return request.app.state.ctx.settings


def require_admin(request: Request) -> Admin:
    """FastAPI dependency: the authenticated admin, or 401 (the refusal is audited)."""
    ctx = request.app.state.ctx
    admin, why = authenticate(request, ctx.settings, ctx.engine)
    if admin is None:
        audit.record(
            ctx.engine,
            channel="admin",
            operation=f"{request.method} {request.url.path}"[:100],
            outcome="denied",
            identity=identity_of(request),
            correlation_id=request.headers.get(CORRELATION_HEADER),
            detail=why,
        )
        log.warning("admin request refused: %s %s: %s", request.method, request.url.path, why)
        raise AdminAuthError()
    request.state.admin = admin  # the admin API's audit middleware records who
    return admin


def record_admin_action(
    request: Request, admin: Admin, operation: str, *, outcome: str = "ok", requested: dict | None = None, detail: str | None = None
) -> None:
    """Audit one admin write (who, what, outcome) with the request's correlation id."""
    audit.record(
        request.app.state.ctx.engine,
        channel="admin",
        operation=operation,
        outcome=outcome,
        actor=f"{admin.method}:{admin.name}",
        correlation_id=request.headers.get(CORRELATION_HEADER),
        requested=requested,
        detail=detail,
    )


__all__ = ["Admin", "AdminAuthError", "authenticate", "check_token", "record_admin_action", "require_admin"]

"""Admin authentication for every write operation over HTTP.

Two ways in, both configured (nothing is open by default):
* an admin **token**: ``Authorization: Bearer <token>`` matching one of ``settings.admin_tokens``
  (``name:token`` pairs; the name is what the audit log records, the token never is);
* an admin **client certificate**: a certificate whose subject serialNumber is in
  ``settings.admin_hsa_ids``, presented directly (our TLS) or through a trusted proxy. A consumer
  named by an NTjP platform's header never counts: the platform cannot make anyone an admin.

Use ``Depends(require_admin)`` on a route; a refusal is a 401 (audited, with the reason).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from fastapi import HTTPException, Request

from ..config import Settings
from . import audit
from .identity import identity_of
from .resolve import CORRELATION_HEADER

log = logging.getLogger("indikera.access")


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


def authenticate(request: Request, settings: Settings) -> tuple[Admin | None, str]:
    """(the admin, "") or (None, why not)."""
    token = _bearer(request)
    if token is not None:
        presented = token.encode()
        match = None
        for name, expected in _tokens(settings):  # compare with every entry: timing says nothing
            if hmac.compare_digest(presented, expected):
                match = name
        if match is not None:
            return Admin(match, "token"), ""
        return None, "unknown admin token"
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
    admin, why = authenticate(request, ctx.settings)
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
        raise HTTPException(
            status_code=401,
            detail="Administratörsbehörighet krävs (admin-token eller admin-certifikat). (Admin authentication required.)",
            headers={"WWW-Authenticate": 'Bearer realm="indikera"'},
        )
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


__all__ = ["Admin", "authenticate", "record_admin_action", "require_admin"]

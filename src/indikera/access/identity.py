"""Who is asking, as one value every channel reads: ``identity_of(request)``.

The access middleware (``access.routes.mount``) decides the identity once per request from the TLS
client certificate, trusted NTjP platform headers or a trusted proxy's RFC 9440 ``Client-Cert`` header,
and stores it in the ASGI scope. Without that middleware every caller is anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from ..publish.visibility import Audience

SCOPE_KEY = "indikera.identity"


@dataclass(frozen=True)
class Identity:
    consumer_hsa_id: str | None = None  # who the data is for (None: anonymous, sees only open data)
    channel: str = "anonymous"  # direct | platform | proxy | anonymous
    platform_id: str | None = None  # the NTjP platform's HSA-id or certificate fingerprint, when via NTjP
    reason: str = "no client certificate"  # why this identity (or why none): for the log and audit

    @property
    def is_identified(self) -> bool:
        return self.consumer_hsa_id is not None

    def audience(self) -> Audience:
        return Audience(self.consumer_hsa_id)


ANONYMOUS = Identity()


def identity_of(conn: HTTPConnection) -> Identity:
    """The identity the access middleware decided for this request.

    Should a middleware mounted outside the access middleware ask first, the identity is decided here
    (same rule, ``access.resolve``) and cached in the scope, so the answer never depends on mount order.
    """
    found = conn.scope.get(SCOPE_KEY)
    if found is not None:
        return found
    app = conn.scope.get("app")
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    if ctx is None:
        return ANONYMOUS
    from .resolve import identity_for_scope

    identity = identity_for_scope(ctx.settings, conn.scope)
    conn.scope[SCOPE_KEY] = identity
    return identity

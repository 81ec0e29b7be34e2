"""Who is asking, as one value every channel reads (through ``access.resolve.identity_of(request)``).

The access middleware (``access.routes.mount``) decides the identity once per request from the TLS
client certificate, trusted NTjP platform headers or a trusted proxy's RFC 9440 ``Client-Cert`` header,
and stores it in the ASGI scope under ``SCOPE_KEY``. This module is only the value, so that the rules that
decide it (``access.resolve``) can depend on it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.audience import Audience

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


"""ASGI middleware that decides the caller's identity once per request (``scope["indikera.identity"]``)."""

from __future__ import annotations

from ..config import Settings
from .identity import SCOPE_KEY
from .resolve import identity_for_scope


class IdentityMiddleware:
    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and SCOPE_KEY not in scope:
            scope[SCOPE_KEY] = identity_for_scope(self.settings, scope)
        await self.app(scope, receive, send)

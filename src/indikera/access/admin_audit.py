"""The admin API's audit row: one per call; for a call that changes data, written in the change's transaction.

The admin API's middleware notes the call (``begin``) and writes the row after the response; a write route
instead runs its change through ``write``, which adds the row inside the change's transaction and marks the
call audited, so a failing audit insert rolls the change back and the middleware does not write a second row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from starlette.requests import Request

from ..rivta import CORRELATION_HEADER
from ..store.db import writer
from . import audit

T = TypeVar("T")
# The call being served: set by the middleware before the route runs (the route's context is a copy of its).
_CALL: ContextVar[tuple[Request, str, float] | None] = ContextVar("indikera_admin_call", default=None)


def begin(request: Request, prefix: str) -> None:
    """Note the call the route is about to serve (the admin API's middleware calls this first)."""
    _CALL.set((request, prefix, time.monotonic()))


def row(request: Request, prefix: str = "") -> dict[str, Any]:
    """What the audit row says about a call: operation (method and route template), actor, requested ids and
    the caller's correlation id."""
    admin = getattr(request.state, "admin", None)
    route = request.scope.get("route")
    path = prefix + route.path if getattr(route, "path", None) else request.url.path
    requested = dict(request.scope.get("path_params") or {})
    requested.update({k: v[:200] for k, v in request.query_params.items()})
    return {"channel": "admin", "operation": f"{request.method} {path}"[:100],
            "actor": f"{admin.method}:{admin.name}" if admin else None, "requested": requested or None,
            "correlation_id": request.headers.get(CORRELATION_HEADER)}  # ties the row to the caller's logs


def audited(request: Request) -> bool:
    """True when the call's row was already written with its change (the middleware then writes none)."""
    return getattr(request.state, "audited", False)


def record_call(conn: Connection, *_: Any) -> None:
    """Write the current call's row in ``conn``'s transaction (a hook for ``catalog.store.import_text`` too)."""
    call = _CALL.get()
    if call is None:  # not inside an admin API call: nothing to record here
        return
    request, prefix, started = call
    audit.record(conn, outcome="ok", duration_ms=int((time.monotonic() - started) * 1000), **row(request, prefix))
    request.state.audited = True


def write(engine: Engine, fn: Callable[[Connection], T]) -> T:
    """Run ``fn`` and the call's audit row in one write transaction."""
    with writer(engine).begin() as conn:
        result = fn(conn)
        record_call(conn)
    return result


__all__ = ["audited", "begin", "record_call", "row", "write"]

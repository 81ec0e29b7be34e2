"""The append-only audit log: one row per request or admin action. Never store secrets here.

The database refuses UPDATE and DELETE on ``audit_log`` (triggers, migration 0003), so a row once written
stays as written. ``record`` is what every channel calls; ``query`` backs ``indikera audit tail|query``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select

from ..store.access_tables import audit_log
from ..store.repositories import utcnow

if TYPE_CHECKING:
    from .identity import Identity

MAX_DETAIL_CHARS = 2000
# Keys that must never reach the log even if a caller passes them in ``requested``.
SECRET_KEY_PARTS = ("token", "password", "secret", "authorization", "cookie", "api_key", "apikey", "private_key")


def _scrub(value: Any) -> Any:
    """Drop secret-looking keys (recursively) from what a caller says was requested."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if not any(p in str(k).lower() for p in SECRET_KEY_PARTS)}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def record(
    target: Engine | Connection,
    *,
    channel: str,
    operation: str,
    outcome: str,
    consumer_hsa_id: str | None = None,
    platform_id: str | None = None,
    correlation_id: str | None = None,
    logical_address: str | None = None,
    requested: dict[str, Any] | None = None,
    returned: int = 0,
    withheld: int = 0,
    duration_ms: int | None = None,
    detail: str | None = None,
    actor: str | None = None,
    identity: "Identity | None" = None,
) -> None:
    """Append one audit row.

    ``target`` a Connection: the row joins that transaction, so a change and the row recording it commit
    or roll back together (pass the change's connection). ``target`` an Engine: the row gets its own
    transaction, for what is not a database change (a read, a refusal, a rejected change that rolled back).
    ``identity`` (optional) fills ``consumer_hsa_id``/``platform_id`` when they are not given, and for an
    anonymous caller records why it is anonymous in ``detail``.
    """
    if identity is not None:
        consumer_hsa_id = consumer_hsa_id or identity.consumer_hsa_id
        platform_id = platform_id or identity.platform_id
        if not identity.is_identified:
            why = f"anonymous: {identity.reason}"
            detail = f"{detail}; {why}" if detail else why
    if detail is not None and len(detail) > MAX_DETAIL_CHARS:
        detail = detail[: MAX_DETAIL_CHARS - 1] + "…"
    row = insert(audit_log).values(
        at=utcnow(),
        channel=channel,
        operation=operation,
        outcome=outcome,
        consumer_hsa_id=consumer_hsa_id,
        platform_id=platform_id,
        actor=actor,
        correlation_id=(correlation_id or None) and correlation_id[:200],
        logical_address=(logical_address or None) and logical_address[:200],
        requested=_scrub(requested) if requested is not None else None,
        returned=returned,
        withheld=withheld,
        duration_ms=duration_ms,
        detail=detail,
    )
    if isinstance(target, Connection):
        target.execute(row)
        return
    with target.begin() as conn:
        conn.execute(row)


@dataclass(frozen=True)
class AuditFilter:
    consumer: str | None = None
    channel: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def query(engine: Engine, flt: AuditFilter = AuditFilter()) -> list[dict[str, Any]]:
    """Matching rows, newest first (at most ``flt.limit``)."""
    q = select(audit_log)
    if flt.consumer:
        q = q.where(audit_log.c.consumer_hsa_id == flt.consumer.strip().upper())
    if flt.channel:
        q = q.where(audit_log.c.channel == flt.channel)
    if flt.outcome:
        q = q.where(audit_log.c.outcome == flt.outcome)
    if flt.since:
        q = q.where(audit_log.c.at >= flt.since)
    if flt.until:
        q = q.where(audit_log.c.at < flt.until)
    q = q.order_by(audit_log.c.id.desc()).limit(flt.limit)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def after(engine: Engine, last_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    """Rows written after ``last_id``, oldest first (``audit tail --follow``)."""
    q = select(audit_log).where(audit_log.c.id > last_id).order_by(audit_log.c.id).limit(limit)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


__all__ = ["AuditFilter", "after", "query", "record"]

"""The append-only audit log: one row per request or admin action. Never store secrets here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert

from ..store.access_tables import audit_log
from ..store.repositories import utcnow


def record(
    engine: Engine,
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
) -> None:
    """Append one audit row in its own transaction (an audit write never rides on a caller's rollback)."""
    with engine.begin() as conn:
        conn.execute(
            insert(audit_log).values(
                at=utcnow(),
                channel=channel,
                operation=operation,
                outcome=outcome,
                consumer_hsa_id=consumer_hsa_id,
                platform_id=platform_id,
                correlation_id=correlation_id,
                logical_address=logical_address,
                requested=requested,
                returned=returned,
                withheld=withheld,
                duration_ms=duration_ms,
                detail=detail,
            )
        )

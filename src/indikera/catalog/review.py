"""Review transitions of stored description versions, their log, and the review-date listing.

Each transition changes ``indicator_descriptions.status`` and appends a ``description_review_log`` row (who,
when, why) in the caller's transaction, so the change and its history commit together. Publishing a version
supersedes the indicator's previously published one and updates the indicator's identity row (title,
major version, …) from it: the answers and pages show nothing of a version before it is published.
The rules themselves are pure, in ``review_states``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from ..store.catalog_tables import description_review_log, indicator_descriptions
from ..store.repositories import upsert_indicator, utcnow
from . import description_diff, jsonformat
from .description_diff import Change
from .review_states import Action, Move, ReviewError, Status, check_approver, check_reason, move

D = indicator_descriptions


def parse_version(text: str) -> tuple[int, int]:
    """``"1.2"`` → (1, 2); anything else is a clear error."""
    major, dot, minor = text.strip().partition(".")
    if not (major.isdigit() and minor.isdigit() and dot) or len(text) > 20:
        raise ReviewError("REVIEW_VERSION", f"Versionen '{text[:20]}' ska skrivas huvud.del, t.ex. 1.2.",
                          f"The version '{text[:20]}' must be major.minor, e.g. 1.2.")
    return int(major), int(minor)


def _row(conn: Connection, measure_id: str, version: tuple[int, int]):
    row = conn.execute(select(D).where(D.c.measure_id == measure_id, D.c.version_major == version[0],
                                       D.c.version_minor == version[1])).first()
    if row is None:
        raise ReviewError("REVIEW_NOT_FOUND", f"Beskrivningen {measure_id} {version[0]}.{version[1]} finns inte.",
                          f"Description {measure_id} {version[0]}.{version[1]} does not exist.")
    return row


def log_row(conn: Connection, row, action: str, before: str | None, after: str, actor: str,
            reason: str | None, at: datetime) -> None:
    conn.execute(insert(description_review_log).values(
        description_id=row.id, measure_id=row.measure_id, version_major=row.version_major,
        version_minor=row.version_minor, action=action, status_before=before, status_after=after,
        actor=actor, at=at, reason=reason))


def transition(conn: Connection, measure_id: str, version: tuple[int, int], action: Action, *, actor: str,
               reason: str | None = None, self_approval: bool = False, next_review: date | None = None,
               interval_days: int = 365) -> Move:
    """Move one description version; raises ``ReviewError`` when the move or the person is not allowed."""
    key = f"{measure_id} {version[0]}.{version[1]}"
    row = _row(conn, measure_id, version)
    m = move(Status(row.status), action, key=key)
    if action is Action.REJECT:
        reason = check_reason(reason)
    now = utcnow()
    values: dict[str, Any] = {"status": m.after.value}
    if action is Action.APPROVE:
        check_approver(row.created_by, actor, self_approval=self_approval, key=key)
        values.update(reviewed_by=actor, reviewed_at=now,
                      next_review_date=next_review or (now.date() + timedelta(days=interval_days)))
    if action is Action.PUBLISH:
        _supersede(conn, row, actor, now, key)
        values["published_at"] = now
    conn.execute(update(D).where(D.c.id == row.id).values(**values))
    log_row(conn, row, action.value, m.before.value, m.after.value, actor, reason, now)
    if action is Action.PUBLISH:
        description, _ = jsonformat.from_stored(row.document, row.measure_id, version)
        upsert_indicator(conn, description.to_indicator())
    return m


def _supersede(conn: Connection, row, actor: str, now: datetime, key: str) -> None:
    current = conn.execute(select(D).where(D.c.measure_id == row.measure_id, D.c.status == Status.PUBLISHED.value)).first()
    if current is None:
        return
    if (current.version_major, current.version_minor) > (row.version_major, row.version_minor):
        raise ReviewError("REVIEW_OLDER",
                          f"{key}: version {current.version_major}.{current.version_minor} är redan publicerad; en äldre "
                          "version kan inte publiceras efter den.",
                          f"{key}: version {current.version_major}.{current.version_minor} is published already; an "
                          "older version cannot be published after it.")
    conn.execute(update(D).where(D.c.id == current.id).values(status=Status.SUPERSEDED.value))
    log_row(conn, current, "supersede", Status.PUBLISHED.value, Status.SUPERSEDED.value, actor,
            f"{row.version_major}.{row.version_minor} publicerad", now)


def approve_and_publish(conn: Connection, measure_id: str, version: tuple[int, int], *, author: str, approver: str,
                        self_approval: bool, interval_days: int = 365, reason: str | None = None) -> None:
    """The one-step path for scripts (``catalog import --approve-as``): submit, approve and publish."""
    transition(conn, measure_id, version, Action.SUBMIT, actor=author, reason=reason)
    transition(conn, measure_id, version, Action.APPROVE, actor=approver, self_approval=self_approval,
               interval_days=interval_days, reason=reason)
    transition(conn, measure_id, version, Action.PUBLISH, actor=approver, reason=reason)


def log_entries(conn: Connection, measure_id: str) -> list[dict[str, Any]]:
    """Every transition of the indicator's description versions, oldest first (``catalog history``)."""
    L = description_review_log
    rows = conn.execute(select(L).where(L.c.measure_id == measure_id).order_by(L.c.at, L.c.id))
    return [{"version": f"{r.version_major}.{r.version_minor}", "action": r.action, "before": r.status_before,
             "after": r.status_after, "actor": r.actor, "at": _utc(r.at), "reason": r.reason} for r in rows]


def versions(conn: Connection, measure_id: str) -> list[dict[str, Any]]:
    """Every stored version of one description with its review status, newest first."""
    rows = conn.execute(select(D.c.version_major, D.c.version_minor, D.c.status, D.c.created_by, D.c.created_at,
                               D.c.reason, D.c.reviewed_by, D.c.reviewed_at, D.c.published_at, D.c.next_review_date)
                        .where(D.c.measure_id == measure_id)
                        .order_by(D.c.version_major.desc(), D.c.version_minor.desc()))
    return [{"version": f"{r.version_major}.{r.version_minor}", "status": r.status, "createdBy": r.created_by,
             "createdAt": _utc(r.created_at), "reason": r.reason, "reviewedBy": r.reviewed_by,
             "reviewedAt": _utc(r.reviewed_at), "publishedAt": _utc(r.published_at),
             "nextReviewDate": r.next_review_date} for r in rows]


def diff(conn: Connection, measure_id: str, old: tuple[int, int] | None = None,
         new: tuple[int, int] | None = None) -> tuple[str | None, str, list[Change]]:
    """(old version, new version, field changes). Default: the published version against the newest one
    still in the workflow (draft, in review or approved); without a published one, against nothing."""
    if new is None or old is None:
        rows = conn.execute(select(D.c.version_major, D.c.version_minor, D.c.status).where(D.c.measure_id == measure_id)
                            .order_by(D.c.version_major.desc(), D.c.version_minor.desc())).all()
        if not rows:
            raise ReviewError("REVIEW_NOT_FOUND", f"Indikatorn {measure_id} har ingen beskrivning.",
                              f"Indicator {measure_id} has no description.")
        published = next(((r.version_major, r.version_minor) for r in rows if r.status == Status.PUBLISHED.value), None)
        pending = next(((r.version_major, r.version_minor) for r in rows
                        if r.status in (Status.DRAFT.value, Status.IN_REVIEW.value, Status.APPROVED.value)), None)
        new = new or pending or published or (rows[0].version_major, rows[0].version_minor)
        old = old or (published if published != new else None)
    after = _row(conn, measure_id, new).document
    before = _row(conn, measure_id, old).document if old else {}
    return (f"{old[0]}.{old[1]}" if old else None), f"{new[0]}.{new[1]}", description_diff.diff(before, after)


@dataclass(frozen=True)
class Due:
    measure_id: str
    version: str
    next_review_date: date | None  # None: never reviewed in indikera (stored before review existed)
    reviewed_by: str | None
    reviewed_at: datetime | None


def due(conn: Connection, within_days: int = 0, today: date | None = None) -> list[Due]:
    """Published descriptions whose next review date falls within ``within_days`` of today (or has passed),
    and those never reviewed; earliest first."""
    limit = (today or utcnow().date()) + timedelta(days=within_days)
    rows = conn.execute(select(D.c.measure_id, D.c.version_major, D.c.version_minor, D.c.next_review_date,
                               D.c.reviewed_by, D.c.reviewed_at)
                        .where(D.c.status == Status.PUBLISHED.value,
                               or_(D.c.next_review_date.is_(None), and_(D.c.next_review_date <= limit))))
    out = [Due(r.measure_id, f"{r.version_major}.{r.version_minor}", r.next_review_date, r.reviewed_by,
               _utc(r.reviewed_at)) for r in rows]
    return sorted(out, key=lambda x: (x.next_review_date or date.min, x.measure_id))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)  # SQLite: naive UTC


__all__ = ["Due", "approve_and_publish", "diff", "due", "log_entries", "log_row", "parse_version", "transition", "versions"]

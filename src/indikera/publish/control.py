"""Publication control in the store: levels per indicator (optionally per period), de-publication,
batch approval. Every change writes ``publication_log`` (who, when, what before and after, why).

Functions take a connection inside the caller's write transaction (``store.db.writer(engine).begin()``),
so a change and its log row commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, and_, func, insert, select, update

from ..catalog.store import check_stored, latest_descriptions, validate_stored
from ..domain.disclosure import describe
from ..domain.errors import DomainError
from ..ingest.batch_audit import audit_batch
from ..domain.periods import Period
from ..store.catalog_tables import publication_log, publication_rules
from ..store.repositories import iso_utc
from ..store.tables import batches, indicators, measurements
from . import states, timeline
from .states import BatchState, IndicatorState, PublishError, Transition
from .visibility import Level


@dataclass(frozen=True)
class Rule:
    period_start: date | None
    period_end: date | None
    level: Level
    changed_by: str
    changed_at: datetime
    reason: str


@dataclass(frozen=True)
class IndicatorStatus:
    indicator_id: int
    measure_id: str
    title: str
    state: IndicatorState
    rules: tuple[Rule, ...]
    description_version: str | None
    description_errors: int | None  # None: no description


@dataclass(frozen=True)
class BatchStatus:
    id: int
    file_name: str
    registry_hsa_id: str
    status: BatchState
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    depublished_by: str | None
    depublished_at: datetime | None
    added: int
    changed: int
    removed: int


def indicator_id(conn: Connection, measure_id: str) -> int:
    iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == measure_id)).scalar()
    if iid is None:
        raise PublishError("INDICATOR_NOT_FOUND", key=measure_id)
    return iid


def rules_of(conn: Connection, iid: int) -> list[Rule]:
    rows = conn.execute(
        select(publication_rules).where(publication_rules.c.indicator_id == iid)
        .order_by(publication_rules.c.period_start.is_not(None), publication_rules.c.period_start)
    )
    return [Rule(r.period_start, r.period_end, Level(r.level), r.changed_by, r.changed_at, r.reason) for r in rows]


def state_of(conn: Connection, iid: int, rules: list[Rule] | None = None) -> IndicatorState:
    rules = rules_of(conn, iid) if rules is None else rules
    wide = next((r for r in rules if r.period_start is None), None)
    if wide is not None and wide.level is not Level.UNPUBLISHED:
        return IndicatorState(wide.level.value)
    last = conn.execute(
        select(publication_log.c.action).where(publication_log.c.indicator_id == iid)
        .order_by(publication_log.c.id.desc()).limit(1)
    ).scalar()
    return IndicatorState.DEPUBLISHED if last == "depublish" else IndicatorState.UNPUBLISHED


def _log(conn: Connection, *, actor: str, action: str, reason: str, before: str | None, after: str | None,
         iid: int | None = None, batch_id: int | None = None, period: Period | None = None, at: datetime) -> None:
    conn.execute(insert(publication_log).values(
        at=at, actor=actor, action=action, indicator_id=iid, batch_id=batch_id,
        period_start=period.start if period else None, period_end=period.end if period else None,
        level_before=before, level_after=after, reason=reason,
    ))


def _rule_where(iid: int, period: Period | None):
    if period is None:
        return and_(publication_rules.c.indicator_id == iid, publication_rules.c.period_start.is_(None))
    return and_(publication_rules.c.indicator_id == iid, publication_rules.c.period_start == period.start,
                publication_rules.c.period_end == period.end)


def parse_period(start: str | date | None, end: str | date | None) -> Period | None:
    """A narrowing period from two dates (YYYY-MM-DD or YYYYMMDD), or None when both are absent."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise PublishError("PERIOD", detail="ange både start och slut")
    try:
        return Period(_date(start), _date(end))
    except (DomainError, ValueError) as exc:
        raise PublishError("PERIOD", detail=getattr(exc, "message", str(exc))) from None


def _date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    text = value.strip().replace("-", "")
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"{value!r} är inte ett datum (ÅÅÅÅ-MM-DD)")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def set_level(conn: Connection, measure_id: str, level: Level | str, *, actor: str, reason: str,
              period: Period | None = None) -> Transition:
    """Set the indicator's publication level (for one period when ``period`` is given)."""
    level = Level(level)
    reason = states.check_reason(reason)
    iid = indicator_id(conn, measure_id)
    errors: int | None = None
    findings: list = []
    if level is not Level.UNPUBLISHED:
        d, findings = check_stored(conn, measure_id)
        errors = None if d is None else sum(1 for f in findings if f.is_error)
    existing = conn.execute(select(publication_rules.c.level).where(_rule_where(iid, period))).scalar()
    wide_state = state_of(conn, iid)
    current = wide_state if period is None else IndicatorState(existing or "unpublished")
    try:
        t = states.set_level(current, level, description_errors=errors, key=measure_id)
    except PublishError as exc:
        exc.details = [f for f in findings if f.is_error]  # say what to fix, field by field
        raise
    if period is not None and existing is None:
        # A new period rule is an explicit decision even when it repeats the indicator-wide level today.
        t = Transition(states.INHERITED, level.value, t.action)
    if not t.changed:
        return t
    now = timeline.clock(conn)
    shown = timeline.public_rows(conn, [iid])
    values = dict(level=level.value, changed_by=actor, changed_at=now, reason=reason)
    if existing is None:
        conn.execute(insert(publication_rules).values(
            indicator_id=iid, period_start=period.start if period else None, period_end=period.end if period else None, **values))
    else:
        conn.execute(update(publication_rules).where(_rule_where(iid, period)).values(**values))
    before = wide_state if t.before == states.INHERITED else IndicatorState(t.before)
    _log(conn, actor=actor, action=t.action, reason=reason, before=before.level.value,
         after=level.value, iid=iid, period=period, at=now)
    # Opening stamps the values it shows; restricting or closing tombstones the ones it hides (issue #15).
    timeline.settle(conn, shown, timeline.public_rows(conn, [iid]), now,
                    "restricted" if level is Level.RESTRICTED else "closed")
    return t


def depublish_indicator(conn: Connection, measure_id: str, *, actor: str, reason: str) -> Transition:
    """Take the indicator out of every channel at once: every rule (period rules too) becomes unpublished."""
    reason = states.check_reason(reason)
    iid = indicator_id(conn, measure_id)
    rules = rules_of(conn, iid)
    current = state_of(conn, iid, rules)
    visible = [r for r in rules if r.level is not Level.UNPUBLISHED]
    if not visible:
        return Transition(current.value, current.value, "depublish")
    now = timeline.clock(conn)
    shown = timeline.public_rows(conn, [iid])
    values = dict(level=Level.UNPUBLISHED.value, changed_by=actor, changed_at=now, reason=reason)
    wide = next((r for r in rules if r.period_start is None), None)
    if wide is None:
        conn.execute(insert(publication_rules).values(indicator_id=iid, **values))
    conn.execute(update(publication_rules).where(publication_rules.c.indicator_id == iid).values(**values))
    for r in visible:
        if r.period_start is not None:
            _log(conn, actor=actor, action="depublish", reason=reason, before=r.level.value,
                 after=Level.UNPUBLISHED.value, iid=iid, period=Period(r.period_start, r.period_end), at=now)
    # The indicator-wide row goes last: the latest log row decides the derived state "depublished".
    _log(conn, actor=actor, action="depublish", reason=reason, before=wide.level.value if wide else Level.UNPUBLISHED.value,
         after=Level.UNPUBLISHED.value, iid=iid, at=now)
    timeline.settle(conn, shown, {}, now, "depublished")
    return Transition(current.value, IndicatorState.DEPUBLISHED.value, "depublish")


def _batch(conn: Connection, batch_id: int):
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
    if row is None:
        raise PublishError("BATCH_NOT_FOUND", key=batch_id)
    return row


def _disclosure_check(conn: Connection, batch_id: int, default_threshold: int) -> None:
    """The disclosure audit again, against what is published now (``ingest.batch_audit``): refuse if a masked
    value of the batch's indicator families and years is pinned down too far (docs/import.md)."""
    failures = audit_batch(conn, batch_id, default_threshold).failures
    if failures:
        shown = "; ".join(describe(i) for i in failures[:5]) + (f" (+{len(failures) - 5})" if len(failures) > 5 else "")
        raise PublishError("BATCH_DISCLOSURE", key=batch_id, cells=shown)


def approve_batch(conn: Connection, batch_id: int, *, actor: str, reason: str, default_threshold: int = 5) -> Transition:
    """Approve a batch: its values become visible wherever their indicators are published, and its corrections
    of approved values replace them in the same transaction (``timeline.apply_pending``: no gap, issue #16)."""
    reason = states.check_reason(reason)
    row = _batch(conn, batch_id)
    t = states.approve(BatchState(row.status))
    if t.changed:
        now = timeline.clock(conn)
        conn.execute(update(batches).where(batches.c.id == batch_id).values(status="approved", approved_by=actor, approved_at=now))
        timeline.apply_pending(conn, batch_id, now)
        # Audited as it will be published: after its corrections are swapped in. A refusal raises, and the
        # caller's transaction takes the approval back with it.
        _disclosure_check(conn, batch_id, default_threshold)
        _log(conn, actor=actor, action=t.action, reason=reason, before=t.before, after=t.after, batch_id=batch_id, at=now)
    return t


def depublish_batch(conn: Connection, batch_id: int, *, actor: str, reason: str) -> Transition:
    """Take every value the batch wrote out of every channel at once. What an approved batch changed or removed
    comes back as it was before (``timeline.revert``); what it added is gone, with a tombstone."""
    reason = states.check_reason(reason)
    row = _batch(conn, batch_id)
    t = states.depublish_batch(BatchState(row.status))
    if t.changed:
        now = timeline.clock(conn)
        shown = timeline.public_rows(conn, None, measurements.c.batch_id == batch_id)
        restored = timeline.revert(conn, batch_id, now) if row.status == "approved" else []
        conn.execute(update(batches).where(batches.c.id == batch_id).values(status="depublished", depublished_by=actor, depublished_at=now))
        timeline.settle(conn, shown, timeline.public_rows_by_id(conn, [v[0] for v in shown.values()] + restored), now,
                        "depublished")
        _log(conn, actor=actor, action=t.action, reason=reason, before=t.before, after=t.after, batch_id=batch_id, at=now)
    return t


def indicator_status(conn: Connection, measure_id: str) -> IndicatorStatus:
    iid = indicator_id(conn, measure_id)
    row = conn.execute(select(indicators.c.title).where(indicators.c.id == iid)).one()
    rules = rules_of(conn, iid)
    d, findings = check_stored(conn, measure_id)
    return IndicatorStatus(iid, measure_id, row.title, state_of(conn, iid, rules), tuple(rules),
                           d.version_text if d else None, None if d is None else sum(1 for f in findings if f.is_error))


def all_statuses(conn: Connection) -> list[IndicatorStatus]:
    described = latest_descriptions(conn, published=True)  # what publication needs: the reviewed, published version
    errors: dict[str, int] = {}
    for f in validate_stored(conn, published=True):
        if f.is_error and f.measure_id:
            errors[f.measure_id] = errors.get(f.measure_id, 0) + 1
    rules: dict[int, list[Rule]] = {}
    for r in conn.execute(select(publication_rules).order_by(publication_rules.c.period_start.is_not(None), publication_rules.c.period_start)):
        rules.setdefault(r.indicator_id, []).append(Rule(r.period_start, r.period_end, Level(r.level), r.changed_by, r.changed_at, r.reason))
    last_id = select(func.max(publication_log.c.id)).where(publication_log.c.indicator_id.is_not(None)).group_by(publication_log.c.indicator_id)
    last_action = dict(conn.execute(select(publication_log.c.indicator_id, publication_log.c.action).where(publication_log.c.id.in_(last_id))).all())
    out = []
    for r in conn.execute(select(indicators.c.id, indicators.c.measure_id, indicators.c.title).order_by(indicators.c.measure_id)):
        own = rules.get(r.id, [])
        wide = next((x for x in own if x.period_start is None), None)
        if wide is not None and wide.level is not Level.UNPUBLISHED:
            state = IndicatorState(wide.level.value)
        else:
            state = IndicatorState.DEPUBLISHED if last_action.get(r.id) == "depublish" else IndicatorState.UNPUBLISHED
        d = described.get(r.measure_id)
        out.append(IndicatorStatus(r.id, r.measure_id, r.title, state, tuple(own),
                                   d.version_text if d else None, None if d is None else errors.get(r.measure_id, 0)))
    return out


def batch_statuses(conn: Connection, limit: int = 200) -> list[BatchStatus]:
    rows = conn.execute(select(batches).order_by(batches.c.id.desc()).limit(limit))
    return [BatchStatus(r.id, r.file_name, r.registry_hsa_id, BatchState(r.status), r.created_by, r.created_at,
                        r.approved_by, r.approved_at, r.depublished_by, r.depublished_at, r.added, r.changed, r.removed)
            for r in rows]


def log_entries(conn: Connection, *, measure_id: str | None = None, batch_id: int | None = None, limit: int = 200) -> list[dict]:
    q = (
        select(publication_log, indicators.c.measure_id)
        .select_from(publication_log.outerjoin(indicators, indicators.c.id == publication_log.c.indicator_id))
        .order_by(publication_log.c.id.desc()).limit(limit)
    )
    if measure_id is not None:
        q = q.where(indicators.c.measure_id == measure_id)
    if batch_id is not None:
        q = q.where(publication_log.c.batch_id == batch_id)
    out = []
    for r in conn.execute(q):
        out.append({
            "at": iso_utc(r.at), "actor": r.actor, "action": r.action, "measureId": r.measure_id,
            "batchId": r.batch_id, "periodStart": r.period_start.isoformat() if r.period_start else None,
            "periodEnd": r.period_end.isoformat() if r.period_end else None,
            "before": r.level_before, "after": r.level_after, "reason": r.reason,
        })
    return out


__all__ = [
    "BatchStatus",
    "IndicatorStatus",
    "Rule",
    "all_statuses",
    "approve_batch",
    "batch_statuses",
    "depublish_batch",
    "depublish_indicator",
    "indicator_id",
    "indicator_status",
    "log_entries",
    "parse_period",
    "rules_of",
    "set_level",
    "state_of",
]

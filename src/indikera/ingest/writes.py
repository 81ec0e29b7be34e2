"""Writing one import: rows as tuples straight to the driver, history rows, content-hash refreshes.

At a million rows SQLAlchemy's per-row parameter processing costs more than the insert itself, so the
import writes tuples with the driver: ``executemany`` on SQLite, ``COPY … FROM STDIN`` on PostgreSQL.
Values are converted exactly as the column types would (dates as ISO text on SQLite, JSON as text).

History: every add, change and remove gets a ``measurement_history`` row. Before-images are stored for
changes and removals (the values that would otherwise be lost) and the after-image of a change; an added
value's after-image is the stored row itself (or the before-image of its next change), so a first import
of a million values does not write every value twice (``history.changes`` puts it back together).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import date
from operator import itemgetter

from sqlalchemy import Connection, bindparam, select, update

from ..domain.checksum import content_hash
from ..domain.measurements import SourceSystem
from ..store import value_summaries
from ..store.bulk import insert_rows, update_rows
from ..store.publication_clock import clock
from ..store.repositories import load_organisations, measurement_from_row, utcnow
from ..store.tables import indicators, measurement_history, measurements, organisations, pending_changes, source_systems
from . import pending
from .deferred_checks import unchecked

CHUNK = 5000
MEASUREMENT_COLUMNS = (
    "indicator_id", "version", "period_start", "period_end", "organisation_id", "stratum", "kind", "rate", "numerator",
    "denominator", "value", "population", "cohort", "reason_code", "ci_low", "ci_high", "standard_deviation",
    "coverage", "exclusions", "reference_interval", "first_encounter", "last_encounter", "source_system_id",
    "batch_id", "content_hash", "updated_at",
)
HISTORY_COLUMNS = ("batch_id", "indicator_id", "period_start", "period_end", "organisation_id", "stratum", "operation",
                   "before", "after", "recorded_at")
SNAPSHOT = (
    "version", "kind", "rate", "numerator", "denominator", "value", "population", "cohort", "reason_code", "ci_low",
    "ci_high", "standard_deviation", "coverage", "exclusions", "reference_interval", "source_system_id", "batch_id",
    "content_hash",
)
_POS = {c: i for i, c in enumerate(MEASUREMENT_COLUMNS)}
_SNAPSHOT_OF_TUPLE = itemgetter(*(_POS[c] for c in SNAPSHOT))
_KEY_OF_TUPLE = itemgetter(*(_POS[c] for c in ("indicator_id", "period_start", "period_end", "organisation_id", "stratum")))
_PENDING_OF_TUPLE = itemgetter(*(_POS[c] for c in pending.PENDING_VALUES))
_NO_VALUES = (None,) * len(pending.PENDING_VALUES)


def driver_date(d: date, sqlite: bool):
    """A date as the driver stores it for SQLAlchemy's Date: ISO text on SQLite, the date on PostgreSQL."""
    return d.isoformat() if sqlite else d


def _snapshot_of_row(row) -> dict:
    return {k: getattr(row, k) for k in SNAPSHOT}


Job = tuple[list[tuple], list[tuple[int, tuple]], list[int], list[tuple]]  # inserts, updates, deletes, history


class Writer:
    """The importer's side: buffers inserts, updates and deletes of one batch (and the history rows of the
    inserts) and hands them, a chunk at a time, to ``send`` — a :class:`JobWriter` in this process or in
    the database writer process (``write_process``)."""

    def __init__(self, send: Callable[[Job], None], batch_id: int, stamp, *, sqlite: bool) -> None:
        self.send, self.batch_id, self.stamp, self.sqlite = send, batch_id, stamp, sqlite
        self.inserts: list[tuple] = []
        self.updates: list[tuple[int, tuple]] = []  # (old id, new row)
        self.deletes: list[int] = []
        self.history: list[tuple] = []
        self.added = self.changed = self.removed = 0
        self._dates: dict[int, object] = {}

    def date(self, ordinal: int):
        """A period date as the driver wants it (ISO text on SQLite, a date on PostgreSQL), memoised."""
        d = self._dates.get(ordinal)
        if d is None:
            d = self._dates[ordinal] = driver_date(date.fromordinal(ordinal), self.sqlite)
        return d

    def db_date(self, d: date):
        return driver_date(d, self.sqlite)

    def add(self, row: tuple) -> None:
        """``row`` holds :data:`MEASUREMENT_COLUMNS` in order, dates already in driver form."""
        self.added += 1
        self.inserts.append(row)
        self.history.append((self.batch_id, *_KEY_OF_TUPLE(row), "added", None, None, self.stamp))
        if len(self.inserts) >= CHUNK:
            self.flush()

    def change(self, old_id: int, row: tuple) -> None:
        self.changed += 1
        self.updates.append((old_id, row))
        if len(self.updates) >= CHUNK:
            self.flush()

    def remove(self, old_id: int) -> None:
        self.removed += 1
        self.deletes.append(old_id)
        if len(self.deletes) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        job = (self.inserts, self.updates, self.deletes, self.history)
        self.inserts, self.updates, self.deletes, self.history = [], [], [], []
        if any(job):
            self.send(job)


class JobWriter:
    """The database's side: writes each job on ``conn``; changes and removals get history rows with the
    stored values as they were (read here, inside the import's transaction). A change or removal of an
    approved value waits in ``pending_changes`` until this batch is approved (``ingest.pending``)."""

    def __init__(self, conn: Connection, batch_id: int, stamp, *, unchecked: bool = False) -> None:
        self.conn, self.batch_id, self.stamp = conn, batch_id, stamp
        self.sqlite = conn.dialect.name == "sqlite"
        self.unchecked = unchecked  # PostgreSQL: COPY without per-row triggers, checked at the end (deferred_checks)
        self._approved: dict[int, bool] = {}  # batch id → approved (no approval runs during an import's lock)
        self.touched: set[int] = set()  # indicator ids written: their summaries are rebuilt (restore_row_triggers)

    def _shown(self, olds: list) -> set[int]:
        """Ids of the stored rows whose batch is approved: those are not overwritten but get a pending change."""
        unknown = {o.batch_id for o in olds} - set(self._approved)
        if unknown:
            approved = pending.approved_batch_ids(self.conn, unknown)
            self._approved.update({b: b in approved for b in unknown})
        return {o.id for o in olds if self._approved[o.batch_id]}

    def _old_rows(self, ids: Sequence[int]) -> Iterator:
        for i in range(0, len(ids), 500):
            yield from self.conn.execute(select(measurements).where(measurements.c.id.in_(ids[i:i + 500])))

    def _old_history(self, op: str, old, before: dict, after: dict | None) -> tuple:
        return (self.batch_id, old.indicator_id, driver_date(old.period_start, self.sqlite), driver_date(old.period_end, self.sqlite),
                old.organisation_id, old.stratum, op, json.dumps(before), json.dumps(after) if after else None, self.stamp)

    def write(self, job: Job) -> None:
        inserts, updates, deletes, history = job
        self.touched.update(row[_INDICATOR] for row in inserts)
        self.touched.update(row[_INDICATOR] for _, row in updates)
        if inserts:
            with self._copying():
                insert_rows(self.conn, measurements.name, MEASUREMENT_COLUMNS, inserts)
        mark = "?" if self.sqlite else "%s"
        waiting: list[tuple] = []  # pending changes and removals of approved values
        if updates:
            new = dict(updates)
            olds = list(self._old_rows(list(new)))
            for old in olds:
                history.append(self._old_history("changed", old, _snapshot_of_row(old),
                                                 dict(zip(SNAPSHOT, _SNAPSHOT_OF_TUPLE(new[old.id])))))
            pending.supersede(self.conn, self.batch_id, list(new))
            shown = self._shown(olds)
            waiting += [(self.batch_id, old_id, "change", *_PENDING_OF_TUPLE(row)) for old_id, row in updates if old_id in shown]
            update_rows(self.conn, measurements.name, MEASUREMENT_COLUMNS,
                        [(old_id, *row) for old_id, row in updates if old_id not in shown])  # not public: in place
        if deletes:
            olds = list(self._old_rows(deletes))
            self.touched.update(old.indicator_id for old in olds)
            for old in olds:
                history.append(self._old_history("removed", old, _snapshot_of_row(old), None))
            pending.supersede(self.conn, self.batch_id, deletes)
            shown = self._shown(olds)
            waiting += [(self.batch_id, old_id, "remove", *_NO_VALUES) for old_id in deletes if old_id in shown]
            gone = [old_id for old_id in deletes if old_id not in shown]
            cur = self.conn.connection.cursor()
            for i in range(0, len(gone), 500):
                chunk = gone[i:i + 500]
                cur.execute(f'DELETE FROM "{measurements.name}" WHERE id IN ({", ".join([mark] * len(chunk))})', chunk)
        if waiting:
            insert_rows(self.conn, pending_changes.name, pending.PENDING_COLUMNS, waiting)
        if history:
            with self._copying():
                insert_rows(self.conn, measurement_history.name, HISTORY_COLUMNS, history)

    def _copying(self):
        return unchecked(self.conn) if self.unchecked else nullcontext()


def batch_stamp(sqlite: bool):
    """One time for the whole batch, as the driver stores it (SQLAlchemy's DateTime text on SQLite)."""
    now = utcnow()
    return now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now


# The tables the import writes row by row; their data-version triggers (migrations 0004 and 0006) and the
# summaries' triggers (0012) are suspended on SQLite for the import and replaced by one bump and one rebuild.
ROW_TABLES = ("measurements", "measurement_history", "pending_changes")
_SUSPENDED = tuple((table, table.replace("_", "\\_") + "\\_data\\_version\\_%") for table in ROW_TABLES) + (
    ("measurements", "measurements\\_summary\\_%"),)
_INDICATOR = MEASUREMENT_COLUMNS.index("indicator_id")


def suspend_row_triggers(conn: Connection) -> list[tuple[str, str]]:
    """SQLite knows only per-row triggers, and the data-version triggers on ``measurements`` (migration 0004)
    and ``measurement_history`` (0006) cost more than the insert itself at a million rows; the summaries'
    (0012) doubled an import's time. Inside the import's transaction the triggers are dropped here and
    re-created from their stored SQL by :func:`restore_row_triggers`, which bumps the version once and rebuilds
    the summaries of the indicators written. DDL is transactional in SQLite: a failed or killed import rolls the
    triggers back with everything else, and no other writer can run meanwhile (the import holds the write
    lock). PostgreSQL's triggers are per statement already: nothing to do."""
    if conn.dialect.name != "sqlite":
        return []
    # Only these triggers, whose whole effect the bump and the rebuild below reproduce; any other trigger on
    # these tables (a DBA's own audit, say) keeps firing row by row.
    saved: list[tuple[str, str]] = []
    for table, pattern in _SUSPENDED:
        saved += [tuple(r) for r in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND name LIKE ? ESCAPE '\\' ORDER BY name", (table, pattern))]
    for name, _ in saved:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return saved


def restore_row_triggers(conn: Connection, saved: list[tuple[str, str]], indicator_ids: Iterable[int]) -> None:
    """Re-create the suspended triggers; bump the data version once; rebuild the summaries of ``indicator_ids``
    (every indicator whose values were written while the triggers were off)."""
    for _, sql in saved:
        conn.exec_driver_sql(sql)
    if any(name.startswith("measurements_summary_") for name, _ in saved):
        value_summaries.rebuild(conn, indicator_ids)
    if saved:
        conn.exec_driver_sql("UPDATE data_version SET version = version + 1 WHERE id = 1")


def rehash(conn: Connection, changed: set[int]) -> None:
    """Organisation names and parents are part of every answer: refresh the content hash of each stored
    value below a renamed or moved organisation, so the SOAP checksum stays exact."""
    children: dict[int, list[int]] = defaultdict(list)
    for r in conn.execute(select(organisations.c.id, organisations.c.parent_id)):
        if r.parent_id is not None:
            children[r.parent_id].append(r.id)
    affected, todo = set(), list(changed)
    while todo:
        node = todo.pop()
        if node not in affected:
            affected.add(node)
            todo.extend(children[node])
    orgs = load_organisations(conn)
    systems = {r.id: SourceSystem(r.root, r.extension, r.name) for r in conn.execute(select(source_systems))}
    mids = {r.id: r.measure_id for r in conn.execute(select(indicators.c.id, indicators.c.measure_id))}
    ids = sorted(affected)
    now = utcnow()
    stamped: list[int] = []
    stmt = update(measurements).where(measurements.c.id == bindparam("_id")).values(
        content_hash=bindparam("h"), updated_at=bindparam("t"))
    for i in range(0, len(ids), 500):
        rows = conn.execute(select(measurements).where(measurements.c.organisation_id.in_(ids[i:i + 500]))).all()
        params = []
        for r in rows:
            m = measurement_from_row(r, measure_id=mids[r.indicator_id], organisation=orgs[r.organisation_id],
                                     source_system=systems[r.source_system_id])
            h = content_hash(m)
            if h != r.content_hash:
                params.append({"_id": r.id, "h": h, "t": now})
        if params:
            conn.execute(stmt, params)
            stamped.extend(p["_id"] for p in params)
    # A rename shows at once in every published value below it: such a value is public "as it is now" from
    # this moment, so a syncing consumer (``updatedSince``) gets it again, with the new name.
    if stamped:
        at = clock(conn)
        for i in range(0, len(stamped), 500):
            conn.execute(update(measurements).where(measurements.c.id.in_(stamped[i:i + 500]),
                                                    measurements.c.visible_since.is_not(None)).values(visible_since=at))

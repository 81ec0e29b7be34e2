"""Writing one import: buffered inserts, updates, deletes and history rows, and content-hash refreshes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from operator import itemgetter

from sqlalchemy import Connection, bindparam, delete, select, update

from ..domain.checksum import content_hash
from ..domain.measurements import SourceSystem
from ..store.repositories import load_organisations, measurement_from_row, utcnow
from ..store.tables import indicators, measurement_history, measurements, organisations, source_systems

CHUNK = 2000
SNAPSHOT = (
    "version", "kind", "rate", "numerator", "denominator", "value", "population", "cohort", "reason_code", "ci_low",
    "ci_high", "standard_deviation", "coverage", "exclusions", "reference_interval", "source_system_id", "batch_id",
    "content_hash",
)


_SNAPSHOT_VALUES = itemgetter(*SNAPSHOT)


def _snapshot(row) -> dict:
    if isinstance(row, dict):
        try:
            return dict(zip(SNAPSHOT, _SNAPSHOT_VALUES(row)))  # rows from measurement_row have every key
        except KeyError:
            return {k: row.get(k) for k in SNAPSHOT}
    return {k: getattr(row, k) for k in SNAPSHOT}


class Writer:
    """Buffers inserts, updates, deletes and history rows and sends them in chunks (executemany)."""

    def __init__(self, conn: Connection, batch_id: int) -> None:
        self.conn, self.batch_id = conn, batch_id
        self.inserts: list[dict] = []
        self.updates: list[dict] = []
        self.deletes: list[int] = []
        self.history: list[dict] = []
        self.added = self.changed = self.removed = 0
        self.now = utcnow()
        cols = [c.name for c in measurements.columns if c.name != "id"]
        self._update = update(measurements).where(measurements.c.id == bindparam("_id")).values(
            {c: bindparam("p_" + c) for c in cols})  # bind names must differ from column names

    def _history(self, op: str, key_source, before: dict | None, after: dict | None) -> None:
        get = key_source.get if isinstance(key_source, dict) else lambda k: getattr(key_source, k)
        self.history.append(dict(
            batch_id=self.batch_id, indicator_id=get("indicator_id"), period_start=get("period_start"),
            period_end=get("period_end"), organisation_id=get("organisation_id"), stratum=get("stratum"),
            operation=op, before=before, after=after, recorded_at=self.now,
        ))
        if len(self.history) >= CHUNK:
            self.flush()

    def add(self, row: dict) -> None:
        row["updated_at"] = self.now  # one time for the whole batch
        self.added += 1
        self.inserts.append(row)
        self._history("added", row, None, _snapshot(row))

    def change(self, old, row: dict) -> None:
        row["updated_at"] = self.now
        self.changed += 1
        self.updates.append({"_id": old.id, **{"p_" + k: v for k, v in row.items()}})
        self._history("changed", row, _snapshot(old), _snapshot(row))

    def remove(self, old) -> None:
        self.removed += 1
        self.deletes.append(old.id)
        self._history("removed", old, _snapshot(old), None)

    def flush(self) -> None:
        if self.inserts:
            _bulk_insert(self.conn, measurements.name, self.inserts)
            self.inserts = []
        if self.updates:
            self.conn.execute(self._update, self.updates)
            self.updates = []
        if self.deletes:
            for i in range(0, len(self.deletes), 500):
                self.conn.execute(delete(measurements).where(measurements.c.id.in_(self.deletes[i:i + 500])))
            self.deletes = []
        if self.history:
            _bulk_insert(self.conn, measurement_history.name, self.history)
            self.history = []


_DATE_COLUMNS = frozenset({"period_start", "period_end", "first_encounter", "last_encounter"})
_TIME_COLUMNS = frozenset({"updated_at", "recorded_at"})
_JSON_COLUMNS = frozenset({"before", "after"})


def _converters(dialect: str, cols: list[str]) -> list[tuple[int, Callable]]:
    """Per-column conversions matching the storage formats of SQLAlchemy's Date, DateTime and JSON types."""
    out: list[tuple[int, Callable]] = []
    dates: dict = {}

    def sqlite_date(v):
        s = dates.get(v)
        if s is None:
            s = dates[v] = v.isoformat()
        return s

    times: dict = {}

    def sqlite_time(v):  # one import uses one timestamp: format it once
        s = times.get(v)
        if s is None:
            s = times[v] = v.strftime("%Y-%m-%d %H:%M:%S.%f")
        return s

    for i, c in enumerate(cols):
        if c in _JSON_COLUMNS:
            out.append((i, json.dumps))
        elif dialect == "sqlite" and c in _DATE_COLUMNS:
            out.append((i, sqlite_date))
        elif dialect == "sqlite" and c in _TIME_COLUMNS:
            out.append((i, sqlite_time))
    return out


def _bulk_insert(conn: Connection, table: str, rows: list[dict]) -> None:
    """executemany straight on the driver: SQLAlchemy's per-row parameter processing costs more than the
    insert itself at a million rows. Values are converted exactly as the column types would."""
    cols = list(rows[0])
    dialect = conn.dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    convert = _converters(dialect, cols)
    params = []
    values_of = itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    for r in rows:
        values = list(values_of(r))
        for i, f in convert:
            if values[i] is not None:
                values[i] = f(values[i])
        params.append(tuple(values))
    names = ", ".join('"' + c + '"' for c in cols)
    conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join([mark] * len(cols))})', params)


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

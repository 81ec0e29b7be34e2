"""Import a results file: validate every row first, then write everything in one transaction or nothing.

1. ``validate``: stream the file once, check each row (``rows.RowReader``), park valid measurements on
   disk per indicator family and period (``spool``), then check rules across rows (duplicates R9,
   same-length overlaps R8) family by family. Any problem rejects the whole file before anything is written.
2. ``apply``: one transaction. SQLite takes its write lock at BEGIN (``store.db.writer``), PostgreSQL an
   advisory transaction lock, so concurrent imports queue instead of interleaving. Per family and period: mask small
   counts (``domain.statistics.mask_measurements``), diff against the stored values, insert / update /
   delete, and record each change with before/after snapshots in ``measurement_history``.
   A killed process never commits: the database stays exactly as before.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select, text, update

from ..config import Settings
from ..domain.indicators import Indicator
from ..domain.measurements import Measurement, SourceSystem
from ..domain.rules import find_conflicts
from ..domain.statistics import family_of, mask_measurements
from ..store.db import writer
from ..store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    load_indicators,
    measurement_row,
)
from ..store.tables import batches, measurements, organisations
from .problems import Fatal, Problems
from .rows import RowContext, RowReader
from .sources import KEEP, REPLACE, Directive, open_table
from .spool import FamilySpool
from .writes import Writer, rehash

IMPORT_LOCK_KEY = 0x696E_646B  # "indk": PostgreSQL advisory lock serialising imports
Progress = Callable[[str, int], None]


@dataclass
class Plan:
    path: Path
    file_name: str
    sha256: str
    fmt: str
    problems: Problems
    directive: Directive = field(default_factory=lambda: Directive(KEEP))
    rows: int = 0
    source: SourceSystem | None = None
    indicators: dict[str, tuple[int, Indicator]] = field(default_factory=dict)
    spool: FamilySpool = field(default_factory=FamilySpool)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def registry(self) -> str | None:
        return self.source.extension if self.source else None


@dataclass
class Outcome:
    batch_id: int | None
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    masked_primary: int = 0
    masked_secondary: int = 0
    renamed_organisations: int = 0
    dry_run: bool = False

    @property
    def changes(self) -> int:
        return self.added + self.changed + self.removed


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def validate(engine: Engine, path: Path, settings: Settings, *, registry: str | None = None,
             display_name: str | None = None, progress: Progress | None = None) -> Plan:
    """Read and check the whole file; the plan holds every problem or the validated rows (spooled)."""
    name = display_name or path.name
    plan = Plan(path, name, file_sha256(path), "", Problems(name))
    with engine.connect() as conn:
        plan.indicators = load_indicators(conn)
    problems = plan.problems
    try:
        table = open_table(path, problems, max_line_bytes=settings.import_max_line_bytes)
    except Fatal:
        return plan
    plan.fmt, plan.directive = table.fmt, table.directive
    reader = RowReader(RowContext(problems, {k: v[1] for k, v in plan.indicators.items()}, table.decimal_comma))
    by_mid = {k: v[1] for k, v in plan.indicators.items()}
    counter = getattr(table, "_counter", None)
    last = 0
    for line, cells in table.rows:
        plan.rows += 1
        m = reader.read(line, cells)
        if m is not None and not problems:
            plan.spool.add((family_of(m.measure_id, by_mid), m.period.start, m.period.end), line, m)
        if progress and counter is not None and plan.rows % 5000 == 0:
            progress("read", counter[0] - last)
            last = counter[0]
    if progress and counter is not None:
        progress("read", counter[0] - last)
    plan.source = reader.source
    if plan.rows == 0 and not problems:
        problems.add(None, None, "EMPTY", "filen innehåller inga rader med värden", "the file holds no rows")
    if reader.registry is not None:
        hsa, _, first = reader.registry
        if registry and registry != hsa:
            problems.add(first, "RegisterHSAID", "REGISTER", f"filen gäller register {hsa}, inte {registry} (--registry)",
                         f"the file is for registry {hsa}, not {registry} (--registry)")
        if plan.directive.registry and plan.directive.registry != hsa:
            problems.add(plan.directive.line, None, "DIRECTIVE",
                         f"DELETE_EXISTING_DATA_FOR_REGISTER_HSAID anger {plan.directive.registry} men raderna gäller {hsa}",
                         f"the directive names {plan.directive.registry} but the rows are for {hsa}")
    if not problems:
        _check_across_rows(plan)
    return plan


def _check_across_rows(plan: Plan) -> None:
    """R9 (one value per indicator, period, organisation, stratum) and R8 (same-length periods never overlap)."""
    by_family: dict[str, list] = defaultdict(list)
    for group in plan.spool.families():
        by_family[group[0]].append(group)
    for groups in by_family.values():
        lines: list[int] = []
        items = []
        keys: dict[int, str] = {}
        for group in groups:
            for line, m in plan.spool.read(group):
                lines.append(line)
                okey = keys.get(id(m.organisation))
                if okey is None:
                    okey = keys[id(m.organisation)] = m.organisation.key
                items.append(((m.measure_id, okey, m.stratum), m.period))
        for c in find_conflicts(items):
            (mid, org, _), period = items[c.second]
            who = org.split(":", 1)[1]
            if c.code == "DUPLICATE":
                plan.problems.add(lines[c.second], None, "DUPLICATE",
                                  f"samma indikator {mid}, period {period} och organisation {who} finns redan på rad {lines[c.first]}",
                                  f"indicator {mid}, period {period} and organisation {who} already appear on line {lines[c.first]}")
            else:
                other = items[c.first][1]
                plan.problems.add(lines[c.second], "PeriodReportedStartDate", "OVERLAP",
                                  f"perioden {period} överlappar {other} på rad {lines[c.first]} (lika långa perioder får inte överlappa)",
                                  f"period {period} overlaps {other} on line {lines[c.first]} (same-length periods must not overlap)")


class _TrackingOrganisations(OrganisationRepository):
    """Remembers organisations whose stored name or parent the file changes."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.changed: set[int] = set()

    def ensure(self, org) -> int:
        cached = self._ids.get(org.key)
        if cached is not None:
            return cached
        before = self.conn.execute(
            select(organisations.c.name, organisations.c.parent_id).where(organisations.c.key == org.key)
        ).first()
        new_id = super().ensure(org)
        if before is not None:
            parent_id = self._ids.get(org.parent.key) if org.parent else None
            if before.name != org.name or before.parent_id != parent_id:
                self.changed.add(new_id)
        return new_id


def apply(engine: Engine, plan: Plan, settings: Settings, *, actor: str, dry_run: bool = False,
          progress: Progress | None = None) -> Outcome:
    """Write the validated plan in one transaction (or roll it back for a dry run / no change)."""
    assert plan.ok and plan.source is not None
    by_mid = {k: v[1] for k, v in plan.indicators.items()}
    ids = {k: v[0] for k, v in plan.indicators.items()}
    members: dict[str, list[str]] = defaultdict(list)
    for mid in by_mid:
        members[family_of(mid, by_mid)].append(mid)
    out = Outcome(None, dry_run=dry_run)
    with writer(engine).connect() as conn:
        tx = conn.begin()
        try:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK_KEY})
            source_id = ensure_source_system(conn, plan.source)
            batch_id = create_batch(conn, registry=plan.source.extension, file_name=plan.file_name, sha256=plan.sha256,
                                    fmt=plan.fmt, actor=actor)
            out.batch_id = batch_id
            orgs = _TrackingOrganisations(conn)
            writer_ = Writer(conn, batch_id)
            for group in plan.spool.families():
                family, start, end = group
                items: list[Measurement] = [m for _, m in plan.spool.read(group)]
                masked = mask_measurements(items, by_mid, settings.default_display_threshold)
                out.masked_primary += masked.primary
                out.masked_secondary += masked.secondary
                family_ids = [ids[mid] for mid in members[family]]
                existing = {
                    (r.indicator_id, r.period_start, r.period_end, r.organisation_id, r.stratum): r
                    for r in conn.execute(select(measurements).where(
                        measurements.c.indicator_id.in_(family_ids), measurements.c.period_start == start,
                        measurements.c.period_end == end))
                }
                for m in masked.measurements:
                    row = measurement_row(m, indicator_id=ids[m.measure_id], organisation_id=orgs.ensure(m.organisation),
                                          source_system_id=source_id, batch_id=batch_id)
                    key = (row["indicator_id"], row["period_start"], row["period_end"], row["organisation_id"], row["stratum"])
                    old = existing.pop(key, None)
                    if old is None:
                        writer_.add(row)
                    elif old.content_hash == row["content_hash"] and old.source_system_id == source_id:
                        out.unchanged += 1
                    else:
                        writer_.change(old, row)
                if plan.directive.mode == REPLACE:
                    for old in existing.values():
                        if old.source_system_id == source_id:
                            writer_.remove(old)
                del existing, items, masked
                if progress:
                    progress("write", plan.spool.counts[group])
            if plan.directive.mode == REPLACE:  # the registry's values for indicators and periods the file lacks
                done = {(ids[mid], start, end) for fam, start, end in plan.spool.families() for mid in members[fam]}
                keys = conn.execute(select(measurements.c.id, measurements.c.indicator_id, measurements.c.period_start,
                                           measurements.c.period_end).where(measurements.c.source_system_id == source_id)).all()
                gone = [k.id for k in keys if (k.indicator_id, k.period_start, k.period_end) not in done]
                for i in range(0, len(gone), 500):
                    for old in conn.execute(select(measurements).where(measurements.c.id.in_(gone[i:i + 500]))).all():
                        writer_.remove(old)
            writer_.flush()
            out.added, out.changed, out.removed = writer_.added, writer_.changed, writer_.removed
            out.renamed_organisations = len(orgs.changed)
            if orgs.changed:
                rehash(conn, orgs.changed)
            conn.execute(update(batches).where(batches.c.id == batch_id).values(
                added=out.added, changed=out.changed, removed=out.removed, unchanged=out.unchanged))
            if dry_run or (out.changes == 0 and not orgs.changed):
                tx.rollback()
                if not dry_run:
                    out.batch_id = None
            else:
                tx.commit()
        except BaseException:
            if tx.is_active:
                tx.rollback()
            raise
    return out

"""Import a results file: validate every row first, then write everything in one transaction or nothing.

1. ``validate``: stream the file once, check each row (``rows.RowReader``), park valid measurements on
   disk per indicator family and period (``spool``), then check rules across rows (duplicates R9,
   same-length overlaps R8) family by family. Any problem rejects the whole file before anything is written.
2. ``apply``: one transaction, owned by the database writer process (``write_process``, ``transaction``).
   SQLite takes its write lock at BEGIN (``store.db.writer``), PostgreSQL an advisory transaction lock, so
   concurrent imports queue instead of interleaving. Per family and calendar year (``groups``): mask small counts
   (``domain.disclosure``: canonical suppression, refused unless the LP audit passes), compute content hashes, diff against the stored values, and send
   inserts / updates / deletes as flat tuples (``writes``); each change is recorded in ``measurement_history``.
   A killed process never commits: the database stays exactly as before.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from ..config import Settings
from ..domain import oids
from ..domain.indicators import Indicator
from ..domain.measurements import SourceSystem
from ..domain.rules import find_conflicts
from ..domain.statistics import family_of, threshold_of
from ..store.repositories import load_indicators
from ..store.tables import measurements
from . import parallel
from .problems import Fatal, Problems
from .rows import RowContext, RowReader
from .json_source import read_json
from .sources import KEEP, REPLACE, Directive, Table, detect_format, read_csv, read_xlsx
from .disclosure import OrgFacts
from .groups import GroupWriter
from .pending import check_no_waiting
from .spool import LINE, MID, ORG, STRATUM, FamilySpool, sweep
from .transaction import IMPORT_LOCK_KEY  # noqa: F401 - re-exported: tests and tools name it here
from .write_process import session_for
from .writes import Writer

Progress = Callable[[str, int], None]


def open_table(path: Path, problems: Problems, *, max_line_bytes: int, max_json_bytes: int = 512 * 1024 * 1024,
               settings: Settings | None = None) -> Table:
    """The reader for the file's format. Here, above both reader modules, so that neither imports the other."""
    fmt = detect_format(path)
    if fmt == "xlsx":
        s = settings or Settings()
        return read_xlsx(path, problems, max_line_bytes, max_bytes=s.import_xlsx_max_bytes,
                         max_ratio=s.import_xlsx_max_ratio)
    if fmt == "json":
        return read_json(path, problems, max_json_bytes)
    return read_csv(path, problems, max_line_bytes)


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
    parts: int = 1  # processes that checked the rows (``parallel``)

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
    audit_lps: int = 0  # linear programmes the disclosure audit solved
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
    sweep(settings.import_spool_dir)  # unmasked rows a killed import left behind
    plan = Plan(path, name, file_sha256(path), "", Problems(name), spool=FamilySpool(root=settings.import_spool_dir))
    with engine.connect() as conn:
        plan.indicators = load_indicators(conn)
    problems = plan.problems
    try:
        table = open_table(path, problems, max_line_bytes=settings.import_max_line_bytes, settings=settings)
    except Fatal:
        return plan
    plan.fmt, plan.directive = table.fmt, table.directive
    by_mid = {k: v[1] for k, v in plan.indicators.items()}
    in_parts = _check_in_parts(plan, table, settings, by_mid, progress) if table.body is not None else None
    if in_parts is not None:
        table.close()
        file_registry = in_parts
    else:
        file_registry = _check_rows(plan, table, by_mid, progress)
    if plan.rows == 0 and not problems:
        problems.add(None, None, "EMPTY", "filen innehåller inga rader med värden", "the file holds no rows")
    if file_registry is not None:
        hsa, _, first = file_registry
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


def _check_rows(plan: Plan, table, by_mid: dict[str, Indicator], progress: Progress | None) -> tuple | None:
    """Check every row in this process and spool the valid ones; the file's registry as met."""
    problems = plan.problems
    reader = RowReader(RowContext(problems, by_mid, table.decimal_comma))
    counter = getattr(table, "_counter", None)
    last = 0
    for line, cells in table.rows:
        plan.rows += 1
        row = reader.read(line, cells)
        if row is not None and not problems:
            plan.spool.add_row(line, row, by_mid)
        if progress and counter is not None and plan.rows % 5000 == 0:
            progress("read", counter[0] - last)
            last = counter[0]
    if progress and counter is not None:
        progress("read", counter[0] - last)
    plan.source = reader.source
    return reader.registry


def _check_in_parts(plan: Plan, table, settings: Settings, by_mid: dict[str, Indicator],
                    progress: Progress | None) -> tuple | None:
    """Check a large CSV file in worker processes (``parallel``); the file's registry, or None when the
    file is to be checked in this process (small, quoted, unusual, or the parts did not agree)."""
    body = table.body
    parts = parallel.cut(body, parallel.workers_for(settings.import_workers), settings.import_parallel_min_bytes)
    if parts is None:
        return None
    registry = parallel.first_registry(body, plan.file_name, by_mid, table.decimal_comma)
    if registry is None:
        return None
    ran = parallel.validate_in_parts(body, parts, plan.file_name, by_mid, table.decimal_comma, registry,
                                     progress=(lambda n: progress("read", n)) if progress else None,
                                     spool_root=settings.import_spool_dir)
    if ran is None:
        return None
    results, directory = ran
    if not parallel.consistent(results, registry):
        shutil.rmtree(directory, ignore_errors=True)
        return None
    plan.parts = len(results)
    for r in results:
        plan.problems.extend(r.shown, r.total)
        plan.rows += r.rows
        plan.spool.adopt(r.spool, r.organisations, directory)
    plan.source = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, registry[0], registry[1])
    return registry


def _check_across_rows(plan: Plan) -> None:
    """R9 (one value per indicator, period, organisation, stratum) and R8 (same-length periods never overlap).

    A family whose distinct periods never overlap at the same length (the usual case: whole years, or
    months) can only hold duplicates, and only within one period: each group is checked alone. Otherwise
    every row of the family goes through ``rules.find_conflicts``.
    """
    spool = plan.spool
    by_family: dict[str, list] = defaultdict(list)
    for group in spool.families():
        by_family[group[0]].append(group)
    for family, groups in by_family.items():
        periods = [spool.period(g[1], g[2]) for g in groups]
        found: list[tuple] = []  # (line, code, first line, measure id, period, organisation key, other period)
        if find_conflicts((("", "", ""), p) for p in periods):
            rows = sorted((t[LINE], (t[MID], t[ORG], t[STRATUM]), period)
                          for group, period in zip(groups, periods) for t in spool.read(group))
            lines = [r[0] for r in rows]  # file order: the later line is the one in conflict
            items = [(r[1], r[2]) for r in rows]
            del rows
            for c in find_conflicts(items):
                (mid, org, _), period = items[c.second]
                found.append((lines[c.second], c.code, lines[c.first], mid, period, org, items[c.first][1]))
        else:
            for group, period in zip(groups, periods):
                seen: dict[tuple, int] = {}
                for t in spool.read(group):
                    key = (t[MID], t[ORG], t[STRATUM])
                    first = seen.setdefault(key, t[LINE])
                    if first != t[LINE]:
                        found.append((t[LINE], "DUPLICATE", first, key[0], period, key[1], period))
        found.sort(key=lambda f: (f[0], f[2]))
        for line, code, first, mid, period, org, other in found:
            who = org.split(":", 1)[1]
            if code == "DUPLICATE":
                plan.problems.add(line, None, "DUPLICATE",
                                  f"samma indikator {mid}, period {period} och organisation {who} finns redan på rad {first}",
                                  f"indicator {mid}, period {period} and organisation {who} already appear on line {first}")
            else:
                plan.problems.add(line, "PeriodReportedStartDate", "OVERLAP",
                                  f"perioden {period} överlappar {other} på rad {first} (lika långa perioder får inte överlappa)",
                                  f"period {period} overlaps {other} on line {first} (same-length periods must not overlap)")


def apply(engine: Engine, plan: Plan, settings: Settings, *, actor: str, dry_run: bool = False,
          progress: Progress | None = None) -> Outcome:
    """Write the validated plan in one transaction (or roll it back for a dry run / no change).

    The transaction lives in the database writer process (``write_process``) while this process masks,
    hashes and diffs the next group: the two overlap, and nothing commits unless this function gets to
    ``finish``."""
    assert plan.ok and plan.source is not None
    by_mid = {k: v[1] for k, v in plan.indicators.items()}
    ids = {k: v[0] for k, v in plan.indicators.items()}
    members: dict[str, list[str]] = defaultdict(list)
    for mid in by_mid:
        members[family_of(mid, by_mid)].append(mid)
    thresholds = {mid: threshold_of(mid, by_mid, settings.default_display_threshold) for mid in by_mid}
    spool = plan.spool
    out = Outcome(None, dry_run=dry_run)
    session = session_for(engine, plan.rows, settings.import_writer_process_min_rows, settings.import_set_based_checks)
    try:
        begun = session.begin(plan.source, plan.file_name, plan.sha256, plan.fmt, actor, spool.organisations)
        out.batch_id = begun.batch_id
        read = session.reader(engine)
        facts = OrgFacts()  # parents and types for the relations: the file's organisations, then the stored ones
        for o in spool.organisations.values():
            facts.add_organisation(o)
        facts.add_stored(read)
        # One waiting correction per value (issue #16): refuse before writing anything (ingest.pending).
        check_no_waiting(read, begun.batch_id, {(ids[mid], spool.date(start), spool.date(end))
                                                for fam, start, end in spool.families() for mid in members[fam]},
                         begun.source_id if plan.directive.mode == REPLACE else None)
        w = Writer(session.write, begun.batch_id, begun.stamp, sqlite=engine.dialect.name == "sqlite")
        groups = GroupWriter(read, plan, w, out, source_id=begun.source_id, ids=ids, members=members, by_mid=by_mid,
                             thresholds=thresholds, org_ids=begun.org_ids, facts=facts,
                             stored_keys=begun.stored_keys, replace=plan.directive.mode == REPLACE)
        bundles: dict[tuple, list[tuple]] = defaultdict(list)  # (family, calendar year): masked together
        for group in spool.families():
            bundles[(group[0], spool.date(group[1]).year)].append(group)
        for bundle in sorted(bundles):
            groups.write_bundle(bundles[bundle])
            if progress:
                progress("write", sum(spool.counts[g] for g in bundles[bundle]))
        if plan.directive.mode == REPLACE:  # the registry's values for indicators and periods the file lacks
            done = {(ids[mid], spool.date(start), spool.date(end))
                    for fam, start, end in spool.families() for mid in members[fam]}
            keys = read.execute(select(measurements.c.id, measurements.c.indicator_id, measurements.c.period_start,
                                       measurements.c.period_end).where(measurements.c.source_system_id == begun.source_id)).all()
            for k in keys:
                if (k.indicator_id, k.period_start, k.period_end) not in done:
                    w.remove(k.id)
        w.flush()
        out.added, out.changed, out.removed = w.added, w.changed, w.removed
        finished = session.finish(out.added, out.changed, out.removed, out.unchanged, dry_run)
    except BaseException:
        session.abort()
        raise
    out.renamed_organisations = finished.renamed_organisations
    if not finished.committed and not dry_run:
        out.batch_id = None
    return out

"""National-size synthetic data on top of the demo registry (``indikera demo --scale N``, issue #19).

The demo registry's 40 544 measurements stay as they are, so the demo's requests (indicator 10001 in 2024:
1 810 measurements) can be timed on a small and a national-size database alike. Added: ``S0001``… open
proportion indicators (monthly), vårdenheter under the 21 län and monthly periods, about ``N`` measurements
in all (10 000 000 → 100 indicators × 2 000 units × 50 periods). Rows are what an import writes: one approved
batch, a content hash per value (the same canonical text the producer checksums), an ``added`` history row
per value. Small denominators are masked (primary rule only: no secondary suppression across these units).

Fast: worker processes compute values and hashes one indicator at a time and hand over ready COPY text
(PostgreSQL) or driver tuples (SQLite); one transaction writes everything, so a failure leaves nothing. On
PostgreSQL the per-row foreign-key triggers are skipped for the COPY and every reference is checked afterwards
in one set-based query per table (``_check_references``).
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import DBAPIError

from .demo import SEED, SOURCE, build_organisations
from .domain.checksum import canonical_head, canonical_tail, hash_text, source_text
from .domain.indicators import Frequency, Indicator, UnitType
from .domain.organisations import Organisation, OrgType
from .domain.statistics import needs_masking, wilson_interval
from .ingest import deferred_checks
from .ingest.writes import HISTORY_COLUMNS, restore_row_triggers, suspend_row_triggers
from .store import value_summaries
from .store.bulk import insert_rows
from .store.catalog_tables import publication_log, publication_rules
from .store.db import writer
from .store.repositories import OrganisationRepository, create_batch, ensure_source_system, upsert_indicator, utcnow
from .store.tables import batches, measurements, settings

MARKER = "demo_scale"  # settings key: the shape this database was scaled to
FIRST_MONTH = (2015, 1)
THRESHOLD = 5
# The columns written, in the order of the rows built below (the rest stay NULL); ``visible_since`` (the
# open data's publication time, migration 0008) when the schema has it: the batch is approved as it is written.
COLUMNS = ("indicator_id", "version", "period_start", "period_end", "organisation_id", "stratum", "kind", "rate",
           "numerator", "denominator", "ci_low", "ci_high", "coverage", "reason_code", "source_system_id", "batch_id",
           "content_hash", "updated_at") + (("visible_since",) if "visible_since" in measurements.c else ())


@dataclass(frozen=True)
class Shape:
    indicators: int
    units: int
    periods: int

    @property
    def measurements(self) -> int:
        return self.indicators * self.units * self.periods


def shape_for(n: int) -> Shape:
    """About ``n`` measurements in the proportions of 100 indicators × 2 000 units × 50 monthly periods."""
    if n < 1:
        raise ValueError("--scale must be at least 1")
    f = (n / 10_000_000) ** (1 / 3)
    ind, per = max(1, round(100 * f)), max(1, min(600, round(50 * f)))
    return Shape(ind, max(1, round(n / (ind * per))), per)


def months(n: int) -> list[tuple[date, date]]:
    out = []
    for k in range(n):
        y, mo = FIRST_MONTH[0] + (FIRST_MONTH[1] - 1 + k) // 12, (FIRST_MONTH[1] - 1 + k) % 12 + 1
        nxt = date(y + (mo == 12), mo % 12 + 1, 1)
        out.append((date(y, mo, 1), date.fromordinal(nxt.toordinal() - 1)))
    return out


def measure_id(k: int) -> str:
    return f"S{k + 1:04d}"


def units(count: int, lans: list[Organisation]) -> list[Organisation]:
    return [Organisation(OrgType.VARDENHET, f"Skalenhet {i + 1} {lans[i % len(lans)].name}",
                         hsa_id=f"SE2321000000-X{i + 1:05d}", parent=lans[i % len(lans)]) for i in range(count)]


@dataclass(frozen=True)
class _Job:
    k: int  # indicator number
    indicator_id: int
    org_ids: tuple[int, ...]
    periods: int
    units: int
    source_id: int
    batch_id: int
    stamp: datetime
    copy_text: bool  # PostgreSQL: COPY text; SQLite: driver tuples


_ORGS: list[Organisation] = []


def _init_orgs(unit_count: int) -> None:
    global _ORGS
    _, lans, _, _ = build_organisations(random.Random(SEED))
    _ORGS = units(unit_count, [lans[c] for c in sorted(lans)])


def _rows(job: _Job):
    """(measurement rows, history rows) of one indicator, dates and stamps in the form the target wants."""
    if len(_ORGS) != job.units:
        _init_orgs(job.units)
    rng = random.Random(f"{SEED}-scale-{job.k}")
    mid = measure_id(job.k)
    src = source_text(SOURCE.root, SOURCE.extension, SOURCE.name)
    tails = [canonical_tail(org, src) for org in _ORGS]
    base = rng.uniform(0.3, 0.9)
    effect = [rng.gauss(0, 0.08) for _ in _ORGS]
    size = [rng.lognormvariate(0, 0.9) for _ in _ORGS]
    stamp = job.stamp.isoformat() if job.copy_text else job.stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows, history = [], []
    text = job.copy_text
    stamps = (f"\t{stamp}" * (len(COLUMNS) - 17)) if text else (stamp,) * (len(COLUMNS) - 17)  # updated_at (visible_since)
    pre, post = f"{job.indicator_id}\t1\t", f"\t{job.source_id}\t{job.batch_id}\t"
    for start, end in months(job.periods):
        head = canonical_head(mid, 1, start, end, "")
        ds, de = start.isoformat(), end.isoformat()
        key = f"{pre}{ds}\t{de}\t"
        hkey = f"{job.batch_id}\t{job.indicator_id}\t{ds}\t{de}\t"
        for u, org_id in enumerate(job.org_ids):
            den = max(0, round(rng.gauss(40 * size[u], 3 * math.sqrt(40 * size[u]))))
            p = min(0.99, max(0.01, base + effect[u]))
            num = round(den * p + rng.gauss(0, 0.5 * math.sqrt(den * p * (1 - p)) + 1e-9))
            num = min(den, max(0, num))
            if den == 0 or needs_masking(numerator=num, denominator=den, threshold=THRESHOLD):
                reason = "INV" if den == 0 else "MSK"
                h = hash_text(f"{head}|missing|{reason}|||||||||{tails[u]}")
                if text:
                    rows.append(f"{key}{org_id}\t\tmissing\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t{reason}{post}{h}{stamps}\n")
                else:
                    rows.append((job.indicator_id, 1, ds, de, org_id, "", "missing", None, None, None, None, None, None,
                                 reason, job.source_id, job.batch_id, h, *stamps))
            else:
                rate = num / den
                low, high = wilson_interval(num, den)
                coverage = round(min(1.0, max(0.5, rng.gauss(0.93, 0.04))), 3)
                # The canonical text's middle (checksum.canonical_middle) written out: floats as repr.
                nums = f"{rate!r}\t{float(num)!r}\t{float(den)!r}"
                h = hash_text(f"{head}|proportion|{nums.replace(chr(9), '|')}|{low!r}|{high!r}||{coverage!r}|||||{tails[u]}")
                if text:
                    rows.append(f"{key}{org_id}\t\tproportion\t{nums}\t{low!r}\t{high!r}\t{coverage!r}\t\\N{post}{h}{stamps}\n")
                else:
                    rows.append((job.indicator_id, 1, ds, de, org_id, "", "proportion", rate, float(num), float(den),
                                 low, high, coverage, None, job.source_id, job.batch_id, h, *stamps))
            if text:
                history.append(f"{hkey}{org_id}\t\tadded\t\\N\t\\N\t{stamp}\n")
            else:
                history.append((job.batch_id, job.indicator_id, ds, de, org_id, "", "added", None, None, stamp))
    if not text:
        return rows, history
    return "".join(rows).encode(), "".join(history).encode()


def build(engine: Engine, n: int | Shape, *, progress: Callable[[int], None] | None = None, actor: str = "demo",
          processes: int = 2) -> Shape:
    """Add about ``n`` scale measurements (or exactly ``n``'s shape) to a migrated database without scale data
    (``indikera demo --scale`` builds the demo registry first). ``processes`` compute values and hashes (1: in this process)."""
    shape = n if isinstance(n, Shape) else shape_for(n)
    sqlite = engine.dialect.name == "sqlite"
    with writer(engine).begin() as conn:
        if conn.execute(select(settings.c.value).where(settings.c.key == MARKER)).first():
            raise RuntimeError("databasen har redan skaldata (this database already holds scale data)")
        jobs = _prepare(conn, shape, actor, copy_text=not sqlite)
        saved = suspend_row_triggers(conn)
        per_row_checks_off = not sqlite and _skip_row_triggers(conn)
        cur = conn.connection.cursor()
        ctx = multiprocessing.get_context("spawn" if processes > 1 else None)
        pool = ctx.Pool(processes, initializer=_init_orgs, initargs=(shape.units,)) if processes > 1 else None
        try:
            results = pool.imap(_rows, jobs) if pool else map(_rows, jobs)
            for rows, history in results:
                if sqlite:
                    insert_rows(conn, "measurements", COLUMNS, rows)
                    insert_rows(conn, "measurement_history", HISTORY_COLUMNS, history)
                else:
                    for table, columns, data in (("measurements", COLUMNS, rows),
                                                 ("measurement_history", HISTORY_COLUMNS, history)):
                        names = ", ".join('"' + c + '"' for c in columns)
                        with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                            copy.write(data)
                if progress:
                    progress(shape.units * shape.periods)
        finally:
            if pool:
                pool.close()
                pool.join()
        restore_row_triggers(conn, saved, {job.indicator_id for job in jobs})
        if per_row_checks_off:
            _check_references(conn)
            # The replica role skipped the summaries' triggers too (migration 0012): one aggregate instead.
            value_summaries.rebuild(conn, {job.indicator_id for job in jobs})
        conn.execute(batches.update().where(batches.c.id == jobs[0].batch_id).values(added=shape.measurements))
        conn.execute(insert(settings).values(key=MARKER, value=f"{shape.indicators}x{shape.units}x{shape.periods}"))
    if not sqlite:  # fresh statistics, or the first plans at this size are guesses
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return shape


def _skip_row_triggers(conn: Connection) -> bool:
    """PostgreSQL checks each COPYed row's four foreign keys with a trigger per row: most of the load's time at
    10 million rows. Rows whose ids were all made in this transaction skip them (``session_replication_role``,
    superusers only; otherwise the checks run as usual); :func:`_check_references` then checks every reference
    at once, so integrity is checked all the same, as a set."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return True
    except DBAPIError:
        return False


def _check_references(conn: Connection) -> None:
    """The foreign keys the row triggers skipped, checked as one anti-join per table (the importer's
    ``deferred_checks.dangling``); the data version bumped once (the statement triggers were skipped too)."""
    conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
    for table, missing in deferred_checks.dangling(conn):
        raise RuntimeError(f"{missing} rader i {table} pekar på rader som inte finns "
                               f"({missing} rows of {table} reference a row that does not exist)")
    conn.exec_driver_sql("UPDATE data_version SET version = version + 1 WHERE id = 1")


def _prepare(conn: Connection, shape: Shape, actor: str, *, copy_text: bool) -> list[_Job]:
    """Indicators, units, publication rules and the approved batch; one job per indicator."""
    now = utcnow()
    _init_orgs(shape.units)
    repo = OrganisationRepository(conn, preload=True)
    org_ids = tuple(repo.ensure(org) for org in _ORGS)
    source_id = ensure_source_system(conn, SOURCE)
    digest = hashlib.sha256(f"demo-scale-{SEED}-{shape}".encode()).hexdigest()
    batch_id = create_batch(conn, registry=SOURCE.extension, file_name=f"demo --scale {shape.measurements}",
                            sha256=digest, fmt="demo", actor=actor)
    conn.execute(batches.update().where(batches.c.id == batch_id).values(status="approved", approved_by=actor, approved_at=now))
    jobs = []
    for k in range(shape.indicators):
        ind = Indicator(measure_id(k), 1, f"Skalindikator {k + 1} (syntetisk)", UnitType.ANDEL, Frequency.MONTH)
        iid = upsert_indicator(conn, ind)
        conn.execute(insert(publication_rules).values(indicator_id=iid, level="open", changed_by=actor, changed_at=now,
                                                      reason="demo --scale"))
        conn.execute(insert(publication_log).values(at=now, actor=actor, action="publish", indicator_id=iid,
                                                    level_before="unpublished", level_after="open", reason="demo --scale"))
        jobs.append(_Job(k, iid, org_ids, shape.periods, shape.units, source_id, batch_id,
                         now.astimezone(UTC), copy_text))
    return jobs

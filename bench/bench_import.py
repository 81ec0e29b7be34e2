"""Benchmark: import a generated VIS CSV (default 1 000 000 rows) into SQLite and PostgreSQL.

Reports, for the same file in the same run:
  * the floor: a bare ``csv`` module parse of the file (median of 3),
  * the write floor per database: storing as many ready-made rows (and their history rows) in the same
    schema, with nothing read or checked, rolled back after,
  * ``indikera import results`` wall time per database and its ratio to the floor,
  * the import process's peak RSS (goal: ≤ 3× the floor, ≤ 300 MB).

    .venv/bin/python bench/bench_import.py                 # 1 000 000 rows, SQLite and PostgreSQL
    .venv/bin/python bench/bench_import.py --rows 200000 --no-pg

PostgreSQL: ``INDIKERA_TEST_PG_DSN`` (default host=127.0.0.1 port=5432 dbname=test user=postgres); a
scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from indikera import demo, refdata  # noqa: E402
from indikera.ingest.sources import COLUMNS  # noqa: E402
from indikera.store import db as store_db  # noqa: E402
from indikera.store.repositories import upsert_indicator  # noqa: E402

PG_DSN = os.environ.get("INDIKERA_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")
INDICATORS = ("10001", "10004", "10013", "10010", "10015", "10005", "10007", "10008")  # 5 proportions, 2 continuous, 1 count
YEARS = range(2001, 2026)


def generate(path: Path, rows: int) -> int:
    """Care units × indicators × years, deterministic; a few small counts so masking has work to do."""
    lans = sorted(refdata.lan().items())
    per_unit = len(INDICATORS) * len(YEARS)
    n_units = math.ceil(rows / per_unit)
    kinds = {s.indicator.measure_id: s.indicator.kind.value for s in demo.INDICATORS}
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(COLUMNS)
        idx = {c: i for i, c in enumerate(COLUMNS)}
        for u in range(n_units):
            code, item = lans[u % len(lans)]
            base = [""] * len(COLUMNS)
            base[idx["Version"]] = "1"
            base[idx["CountryName"]] = "Riket"
            base[idx["RegionOrganisationId"]] = code
            base[idx["RegionName"]] = item.name
            base[idx["UnitHSAID"]] = f"SE2321000000-B{u:06d}"
            base[idx["UnitName"]] = f"Enhet {u}"
            base[idx["RegisterHSAID"]] = "SE2321000000-BENCH"
            base[idx["RegisterNamn"]] = "Benchregistret"
            for mid in INDICATORS:
                for y in YEARS:
                    if written == rows:
                        return written
                    row = list(base)
                    row[idx["MeasureID"]] = mid
                    row[idx["PeriodReportedStartDate"]] = f"{y}0101"
                    row[idx["PeriodReportedEndDate"]] = f"{y}1231"
                    den = 4 + (u * 31 + y * 7 + len(mid)) % 400
                    if kinds[mid] == "proportion":
                        num = (den * (u % 7 + 2)) // 10
                        row[idx["Numerator"]], row[idx["Denominator"]] = str(num), str(den)
                        row[idx["Rate"]] = f"{num / den:.4f}"
                    elif kinds[mid] == "continuous":
                        row[idx["Value"]], row[idx["Measurepopulation"]] = f"{20 + (u + y) % 30}.5", str(den)
                    else:
                        row[idx["Cohort"]] = str(den)
                    w.writerow(row)
                    written += 1
    return written


def bare_parse(path: Path) -> float:
    t = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        for _ in csv.reader(fh, delimiter=";"):
            pass
    return time.perf_counter() - t


def prepare(url: str) -> None:
    store_db.upgrade(url)
    eng = store_db.make_engine(url)
    with store_db.writer(eng).begin() as conn:
        for spec in demo.INDICATORS:
            upsert_indicator(conn, spec.indicator)
    eng.dispose()


def write_floor(url: str, n: int) -> tuple[float, float]:
    """Seconds to write ``n`` ready-made rows into ``measurements`` and ``measurement_history`` the way the
    importer does (driver executemany / COPY, SQLite's per-row triggers suspended), rolled back after.

    This is what storing the rows costs in this schema (its indexes, foreign keys and audit trail) before
    any reading, checking, masking or hashing: the part of the import no parser can make cheaper."""
    from datetime import UTC, date, datetime

    from sqlalchemy import text

    from indikera.ingest.writes import HISTORY_COLUMNS, MEASUREMENT_COLUMNS, batch_stamp, suspend_row_triggers
    from indikera.store.bulk import insert_rows
    from indikera.store.db import make_engine, writer

    eng = make_engine(url)
    with writer(eng).connect() as conn:
        tx = conn.begin()
        sqlite = conn.dialect.name == "sqlite"
        now = datetime.now(UTC)
        stamp = batch_stamp(sqlite)
        conn.execute(text("INSERT INTO source_systems (root, extension, name) VALUES ('1.2.752.129.2.1.4.1', 'FLOOR', 'Floor')"))
        sid = conn.execute(text("SELECT id FROM source_systems WHERE extension = 'FLOOR'")).scalar_one()
        conn.execute(text("INSERT INTO batches (registry_hsa_id, file_name, sha256, format, created_by, created_at, status) "
                          "VALUES ('FLOOR', 'f', 's', 'csv', 'bench', :t, 'applied')"), {"t": now})
        bid = conn.execute(text("SELECT max(id) FROM batches")).scalar_one()
        iid = conn.execute(text("SELECT min(id) FROM indicators")).scalar_one()
        per_org = len(YEARS)
        orgs = []
        for i in range(math.ceil(n / per_org)):
            conn.execute(text("INSERT INTO organisations (key, type, name) VALUES (:k, 'Lan', 'Golv')"), {"k": f"floor:{i}"})
        orgs = conn.execute(text("SELECT id FROM organisations WHERE key LIKE 'floor:%' ORDER BY id")).scalars().all()
        days = {y: (date(y, 1, 1), date(y, 12, 31)) for y in YEARS}
        if sqlite:
            days = {y: (a.isoformat(), b.isoformat()) for y, (a, b) in days.items()}
        years = list(YEARS)
        rows = []
        for i in range(n):
            start, end = days[years[i % per_org]]
            rows.append((iid, 1, start, end, orgs[i // per_org], "", "proportion", 0.5, 50.0, 100.0, None, None, None, None,
                         0.4, 0.6, None, None, None, None, None, None, sid, bid, f"{i * 2654435761 % (1 << 64):064x}", stamp))
        history = [(bid, r[0], r[2], r[3], r[4], "", "added", None, None, stamp) for r in rows]
        suspend_row_triggers(conn)
        t = time.perf_counter()
        for i in range(0, n, 5000):
            insert_rows(conn, "measurements", MEASUREMENT_COLUMNS, rows[i:i + 5000])
        t_m = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(0, n, 5000):
            insert_rows(conn, "measurement_history", HISTORY_COLUMNS, history[i:i + 5000])
        t_h = time.perf_counter() - t
        tx.rollback()  # the triggers come back with the rollback
    eng.dispose()
    return t_m, t_h


def write_floor_in_child(url: str, n: int) -> tuple[float, float]:
    """``write_floor`` in its own process: its million ready-made rows must not inflate this process, whose
    memory a forked import child would otherwise report as its own peak RSS."""
    res = subprocess.run([sys.executable, __file__, "--write-floor", url, str(n)], capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"write floor failed:\n{res.stderr[-3000:]}")
    t_m, t_h = map(float, res.stdout.split())
    return t_m, t_h


def run_import(path: Path, url: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, last output line) of ``indikera import results`` in a child process."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "indikera.cli", "import", "results", str(path), "--db", url, "--actor", "bench"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=dict(os.environ, COLUMNS="200"))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    out = proc.stderr.read().decode() + proc.stdout.read().decode()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed:\n{out[-3000:]}")
    return wall, usage.ru_maxrss / 1024, out.strip().splitlines()[-1] if out.strip() else ""


def main() -> None:
    if sys.argv[1:2] == ["--write-floor"]:  # the child of write_floor_in_child
        t_m, t_h = write_floor(sys.argv[2], int(sys.argv[3]))
        print(t_m, t_h)
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        path = Path(tmp) / "vis.csv"
        t = time.perf_counter()
        n = generate(path, args.rows)
        print(f"generated {n} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        floor = statistics.median(bare_parse(path) for _ in range(3))
        print(f"floor: bare csv parse          {floor:8.2f} s")
        targets = []
        if not args.no_sqlite:
            targets.append(("sqlite", f"sqlite:///{tmp}/bench.db", None))
        if not args.no_pg:
            import psycopg

            name = f"indikera_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_DSN, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            params = dict(p.split("=", 1) for p in PG_DSN.split())
            url = f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}"
            targets.append(("postgresql", url, name))
        try:
            for label, url, _ in targets:
                prepare(url)
                t_m, t_h = write_floor_in_child(url, n)
                print(f"{label:10s} write floor        {t_m + t_h:8.2f} s  = {(t_m + t_h) / floor:5.1f}× floor   "
                      f"(measurements {t_m:.2f} s + history {t_h:.2f} s, no reading or checking)")
                wall, rss, last = run_import(path, url)
                print(f"{label:10s} import             {wall:8.2f} s  = {wall / floor:5.1f}× floor   peak RSS {rss:6.0f} MB"
                      f"   ({n / wall:,.0f} rows/s)")
                print(f"{'':10s} import ÷ (parse + write floor) = {wall / (floor + t_m + t_h):.2f}")
                print(f"           {last}")
        finally:
            for _, _, name in targets:
                if name:
                    with psycopg.connect(PG_DSN, autocommit=True) as c:
                        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"goal: ≤ 3× floor and ≤ 300 MB peak RSS; measured at {n} rows")


if __name__ == "__main__":
    main()

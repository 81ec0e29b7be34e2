"""Benchmark: what corrections without a gap (issue #16) cost — importing a correction of approved values (written
to ``pending_changes``) and approving it (the swap, tombstones, ``visible_since``), on SQLite.

Floors measured in the same run, on the same database and file size:
  * import floor: the first import of the same number of values (plain inserts);
  * approval floor: approving that first batch (status + ``visible_since`` for every value, no swap).
Prints the median of ``--runs`` for each and the ratios.

    .venv/bin/python bench/bench_corrections.py --units 1500      # 1 500 units × 2 years × 1 indicator
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from indikera.config import Settings  # noqa: E402
from indikera.domain.measurements import Measurement, Proportion  # noqa: E402
from indikera.ingest.export import write_csv  # noqa: E402
from indikera.ingest.importer import apply, validate  # noqa: E402
from indikera.publish import control  # noqa: E402
from indikera.store import db as store_db  # noqa: E402
from tests.support.ingest_files import REG, Y2023, Y2024, organisations, seed_indicators  # noqa: E402


def _file(path: Path, units: list, shift: int) -> Path:
    write_csv(path, [Measurement("10001", 1, p, u, Proportion(300 + (i + shift) % 100, 500), REG)
                     for p in (Y2023, Y2024) for i, u in enumerate(units)], directive="KEEP_")
    return path


def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _import(engine, path: Path, settings: Settings):
    plan = validate(engine, path, settings)
    assert plan.ok
    try:
        return apply(engine, plan, settings, actor="bench")
    finally:
        plan.spool.close()


def _approve(engine, batch: int) -> None:
    with store_db.writer(engine).begin() as conn:
        control.approve_batch(conn, batch, actor="bench", reason="bench run")


def one_run(tmp: Path, n_units: int) -> dict[str, float]:
    from indikera.domain.organisations import Organisation, OrgType

    url = f"sqlite:///{tmp / 'b.db'}"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    settings = Settings(database_url=url)
    seed_indicators(engine)
    parent = organisations()["01"]
    units = [Organisation(OrgType.VARDENHET, f"Enhet {i}", hsa_id=f"SE2321000016-B{i:05d}", parent=parent) for i in range(n_units)]
    out: dict[str, float] = {}
    out["import (floor: first load)"], first = _timed(lambda: _import(engine, _file(tmp / "a.csv", units, 0), settings))
    out["approve (floor: first load)"], _ = _timed(lambda: _approve(engine, first.batch_id))
    out["import correction (pending)"], corr = _timed(lambda: _import(engine, _file(tmp / "b.csv", units, 1), settings))
    assert corr.changed == 2 * n_units
    out["approve correction (swap)"], _ = _timed(lambda: _approve(engine, corr.batch_id))
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=1500)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            runs.append(one_run(Path(d), args.units))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"{2 * args.units} values, SQLite, median of {args.runs}:")
    for k, v in med.items():
        print(f"  {k:32s} {v * 1000:9.1f} ms")
    print(f"  correction import / first import  {med['import correction (pending)'] / med['import (floor: first load)']:.2f}×")
    print(f"  swap approval / first approval    {med['approve correction (swap)'] / med['approve (floor: first load)']:.2f}×")


if __name__ == "__main__":
    main()

"""EXPLAIN (ANALYZE, BUFFERS) of the producer's and the open data's main queries on a large database (issue #19).

    .venv/bin/python bench/explain_scale.py postgresql+psycopg://postgres@127.0.0.1:5432/indikera_scale10m [--plans]

The statements are the ones the app builds (``contracts.qualityreporting_v2.store_query`` and
``opendata.results`` / ``result_query``), for the demo's request (10001 in 2024: 1 810 measurements) and for
one scale indicator (S0001: all units, one month). For each: execution time, the scan node per table, and
whether ``measurements`` is read by an index (a sequential scan of ``measurements`` is flagged: at 10 million
rows it is what an index must prevent). ``--plans`` prints the whole plans. Also: the database bytes per
measurement (measurements + history, tables with their indexes and TOAST).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from indikera.contracts.qualityreporting_v2 import store_query as sq  # noqa: E402
from indikera.contracts.qualityreporting_v2.request import Query  # noqa: E402
from indikera.domain import oids  # noqa: E402
from indikera.opendata import results  # noqa: E402
from indikera.publish.visibility import PUBLIC, visible_measurements  # noqa: E402
from indikera.store import db as store_db  # noqa: E402
from indikera.store.tables import indicators, measurements  # noqa: E402

CASES = (("10001", "20240101", "20241231"), ("S0001", "20190101", "20190131"))


def statements(conn, mid: str, start: str, end: str) -> dict[str, object]:
    query = Query(((oids.MEASURE_ID_ROOT, mid),), start, end, True)
    sel = sq.select_for(conn, query, PUBLIC)
    assert sel is not None, f"{mid} is not in this database"
    iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == mid)).scalar_one()
    f = results.ResultFilter((iid,), date(int(start[:4]), int(start[4:6]), int(start[6:])),
                             date(int(end[:4]), int(end[4:6]), int(end[6:])))
    return {
        "soap checksum rows": sq._ordered(conn, sq.CHECKSUM_COLUMNS, sel),
        "soap answer rows": sq._ordered(conn, sq.ANSWER_COLUMNS, sel),
        "soap matching count": select(func.count()).select_from(measurements).where(sel.matching),
        "open data page": results.query(conn, f, after=None, limit=10001),
        "open data total": select(func.count()).select_from(measurements).where(*results.where(conn, f)),
        "visibility clause": select(func.count()).select_from(measurements).where(
            visible_measurements(conn, PUBLIC, (iid,)), measurements.c.indicator_id == iid),
    }


def scans(plan: dict) -> list[str]:
    out = []
    node_type = plan.get("Node Type", "")
    if "Scan" in node_type and "Relation Name" in plan:
        out.append(f"{node_type} on {plan['Relation Name']}" + (f" using {plan['Index Name']}" if "Index Name" in plan else ""))
    elif node_type == "Bitmap Index Scan":
        out.append(f"{node_type} using {plan['Index Name']}")
    for child in plan.get("Plans", []):
        out += scans(child)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--plans", action="store_true", help="print each whole plan (text)")
    args = ap.parse_args()
    engine = store_db.make_engine(args.url)
    if engine.dialect.name != "postgresql":
        raise SystemExit("PostgreSQL only (EXPLAIN ANALYZE's JSON form)")
    bad = 0
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(measurements)).scalar_one()
        size = conn.exec_driver_sql(
            "SELECT pg_total_relation_size('measurements'), pg_total_relation_size('measurement_history'), "
            "pg_indexes_size('measurements'), pg_indexes_size('measurement_history'), pg_database_size(current_database())"
        ).one()
        print(f"{n:,} measurements; measurements {size[0] / 1e9:.2f} GB (indexes {size[2] / 1e9:.2f} GB), history "
              f"{size[1] / 1e9:.2f} GB (indexes {size[3] / 1e9:.2f} GB); {(size[0] + size[1]) / n:.0f} bytes per measurement "
              f"({size[0] / n:.0f} without history); whole database {size[4] / 1e9:.2f} GB")
        for mid, start, end in CASES:
            if conn.execute(select(indicators.c.id).where(indicators.c.measure_id == mid)).first() is None:
                print(f"{mid}: not in this database, skipped")
                continue
            print(f"\n{mid} {start}–{end}:")
            for name, stmt in statements(conn, mid, start, end).items():
                sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).scalar_one()[0]
                used = scans(plan["Plan"])
                seq = any(s.startswith("Seq Scan on measurements") for s in used)
                bad += seq
                print(f"  {name:<22}{plan['Execution Time']:>9.1f} ms  {'SEQ SCAN OF measurements  ' if seq else ''}"
                      + "; ".join(sorted(set(used))))
                if args.plans:
                    text = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql).scalars().all()
                    print("\n".join("      " + line for line in text))
    engine.dispose()
    print(f"\n{'every query reads measurements by an index' if not bad else f'{bad} plan(s) scan measurements sequentially'}")


if __name__ == "__main__":
    main()

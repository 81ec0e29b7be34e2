"""Benchmark catalogue import and the visibility rule at catalogue scale.

    .venv/bin/python bench/bench_catalog.py [--db sqlite:///…|postgresql+psycopg://…] [--n 2000] [--runs 5]

* import of a catalogue file with ``--n`` descriptions into an empty database (parse, editorial validation,
  write, identity rows), median of ``--runs``, as a ratio to the FLOOR measured in the same run: ``json.loads``
  of the same file plus a bare executemany of the same documents into ``indicator_descriptions``;
* ``validate_text`` alone (no writes);
* ``visible_measurements`` clause construction for the public with ``--n`` indicators, each with a
  wide rule and a period rule.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy import delete, insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from indikera import demo  # noqa: E402
from indikera.catalog import jsonformat  # noqa: E402
from indikera.catalog import store as cs  # noqa: E402
from indikera.catalog.demo_descriptions import description_for  # noqa: E402
from indikera.publish import control  # noqa: E402
from indikera.publish.visibility import PUBLIC, visible_measurements  # noqa: E402
from indikera.store import db as store_db  # noqa: E402
from indikera.store.catalog_tables import indicator_descriptions, publication_log, publication_rules  # noqa: E402
from indikera.store.repositories import utcnow  # noqa: E402
from indikera.store.tables import indicators  # noqa: E402


def catalogue(n: int) -> str:
    base = [description_for(s.indicator) for s in demo.INDICATORS if s.indicator.parent_measure_id is None]
    return jsonformat.dumps([replace(base[i % len(base)], measure_id=f"{100000 + i}") for i in range(n)])


def wipe(engine) -> None:
    with engine.begin() as conn:
        for t in (publication_log, publication_rules, indicator_descriptions, indicators):
            conn.execute(delete(t))


def timed(fn, runs: int, before=None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    text = catalogue(args.n)
    now = utcnow()

    def floor():
        docs = json.loads(text)["indicators"]
        with store_db.writer(engine).begin() as conn:
            conn.execute(insert(indicator_descriptions), [
                {"measure_id": d["measureId"], "version_major": d["versionMajor"], "version_minor": d["versionMinor"],
                 "document": d, "created_by": "bench", "created_at": now} for d in docs])

    def do_import():
        assert cs.import_text(engine, text, "bench").ok

    f = timed(floor, args.runs, lambda: wipe(engine))
    imp = timed(do_import, args.runs, lambda: wipe(engine))
    val = timed(lambda: cs.validate_text(engine, text), args.runs)
    wipe(engine)
    do_import()
    with store_db.writer(engine).begin() as conn:
        ids = [r.id for r in conn.execute(indicators.select())]
        conn.execute(insert(publication_rules), [{"indicator_id": i, "level": "open", "changed_by": "b", "changed_at": now, "reason": "r"} for i in ids])
        conn.execute(insert(publication_rules), [{"indicator_id": i, "period_start": __import__("datetime").date(2023, 1, 1),
                                                   "period_end": __import__("datetime").date(2023, 12, 31), "level": "unpublished",
                                                   "changed_by": "b", "changed_at": now, "reason": "r"} for i in ids[::2]])
    with engine.connect() as conn:
        vis = timed(lambda: visible_measurements(conn, PUBLIC), args.runs)
        statuses = timed(lambda: control.all_statuses(conn), 1)
    print(f"backend {engine.dialect.name}, {args.n} descriptions ({len(text) / 1e6:.1f} MB), median of {args.runs}")
    print(f"floor (json.loads + bare insert)   {f * 1000:8.1f} ms")
    print(f"catalogue import                   {imp * 1000:8.1f} ms   ratio {imp / f:5.2f}x floor")
    print(f"validate only                      {val * 1000:8.1f} ms   ratio {val / f:5.2f}x floor")
    print(f"visibility clause, {args.n} indicators {vis * 1000:8.1f} ms")
    print(f"catalog list (all statuses)        {statuses * 1000:8.1f} ms")


if __name__ == "__main__":
    main()

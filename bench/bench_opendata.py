"""Benchmark the open-data API end to end over HTTP (a real uvicorn server in a separate process).

    .venv/bin/python bench/bench_opendata.py [--db postgresql+psycopg://…/empty_db] [--runs 21]

The data: the demo registry plus its values copied to earlier years, so that the open results pass 100 000
rows. Two measurements, each with a FLOOR measured in the same run on the same data:

* a typical results query: one indicator, all units, one year (``/api/v1/results?measureId=10001&
  periodFrom=2024-01-01&periodTo=2024-12-31``): median latency over ``--runs`` calls and sequential
  throughput; floor: the bare SQL query for the same rows plus ``json.dumps`` of the raw tuples; and the
  same query with and without gzip (``Accept-Encoding``): median and bytes on the wire (issue #15);
* a CSV export of every open result (> 100 000 rows, ``/api/v1/results.csv``): time, rows/s and the
  server's peak RSS growth while streaming (sampled from /proc), against the file size; floor: the bare
  SQL query plus ``csv.writer`` of the raw tuples.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from indikera import demo  # noqa: E402
from indikera.store import db as store_db  # noqa: E402
from indikera.store.db import writer  # noqa: E402
from indikera.store.repositories import insert_measurements  # noqa: E402
from indikera.store.tables import indicators, measurements  # noqa: E402

TYPICAL = "/api/v1/results?measureId=10001&periodFrom=2024-01-01&periodTo=2024-12-31&limit=10000"
EXPORT = "/api/v1/results.csv"
EXTRA_YEARS = 2  # copies of the demo values shifted back by 5 and 10 years


def _shift(d: date | None, years: int) -> date | None:
    return None if d is None else d.replace(year=d.year - years)


def build(url: str) -> int:
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    n = demo.build(engine)
    with writer(engine).begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(measurements))]
        for k in range(1, EXTRA_YEARS + 1):
            copies = []
            for r in rows:
                c = {key: value for key, value in r.items() if key != "id"}
                c["period_start"], c["period_end"] = _shift(r["period_start"], 5 * k), _shift(r["period_end"], 5 * k)
                c["content_hash"] = f"{k}{r['content_hash'][1:]}"
                copies.append(c)
            n += insert_measurements(conn, copies)
    engine.dispose()
    return n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def floor_typical(url: str) -> float:
    engine = store_db.make_engine(url)
    with engine.connect() as conn:
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10001")).scalar_one()
        t = time.perf_counter()
        rows = conn.execute(select(measurements).where(
            measurements.c.indicator_id == iid, measurements.c.period_start >= date(2024, 1, 1),
            measurements.c.period_end <= date(2024, 12, 31))).all()
        json.dumps([list(r) for r in rows], default=str)
        elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed


def floor_export(url: str) -> tuple[float, int]:
    engine = store_db.make_engine(url)
    with engine.connect() as conn:
        t = time.perf_counter()
        buf, n = io.StringIO(), 0
        w = csv.writer(buf)
        for r in conn.execution_options(yield_per=5000).execute(select(measurements)):
            w.writerow(r)
            n += 1
            if n % 5000 == 0:
                buf.seek(0)
                buf.truncate()
        elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="an EMPTY database URL (default: a temporary SQLite file)")
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    t = time.perf_counter()
    total = build(url)
    print(f"data: {total} measurements ({store_db.make_engine(url).dialect.name}), built in {time.perf_counter() - t:.1f} s")

    port = free_port()
    env = {**os.environ, "INDIKERA_DATABASE_URL": url}
    server = subprocess.Popen([sys.executable, "-m", "indikera.cli", "serve", "--db", url, "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        # Uncompressed unless a measurement asks (httpx asks for gzip by default): figures stay comparable.
        with httpx.Client(base_url=base, timeout=600, headers={"Accept-Encoding": "identity"}) as client:
            deadline = time.monotonic() + 180
            while True:  # the server process needs a moment to import and bind
                try:
                    if client.get("/health").status_code in (200, 503):
                        break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"server did not start: {server.stderr.read().decode()[-2000:] if server.stderr else ''}") from None
                    time.sleep(0.2)
            client.get(TYPICAL).raise_for_status()  # warm the caches (view, organisations)
            times, rows = [], 0
            for _ in range(args.runs):
                t = time.perf_counter()
                r = client.get(TYPICAL)
                times.append(time.perf_counter() - t)
                rows = r.json()["count"]
            typical = statistics.median(times)
            floor_t = statistics.median(floor_typical(url) for _ in range(args.runs))
            print(f"typical results query ({rows} rows, one indicator, all units, one year):")
            print(f"  median {typical * 1000:.1f} ms, throughput {1 / typical:.1f} req/s ({rows / typical:,.0f} rows/s); "
                  f"floor (bare SQL + json.dumps) {floor_t * 1000:.1f} ms; ratio {typical / floor_t:.2f}x")
            etag = r.headers["etag"]
            t304 = statistics.median(_timed(lambda: client.get(TYPICAL, headers={"If-None-Match": etag})) for _ in range(args.runs))
            print(f"  conditional request (304): median {t304 * 1000:.1f} ms")
            wire = {enc: [_wire(client, TYPICAL, enc) for _ in range(args.runs)] for enc in ("identity", "gzip", "br")}
            (t_id, n_id), (t_gz, n_gz), (t_br, n_br) = ((statistics.median(t for t, _ in w), w[-1][1]) for w in wire.values())
            print(f"  on the wire: identity median {t_id * 1000:.1f} ms, {n_id:,} bytes; gzip median {t_gz * 1000:.1f} ms, "
                  f"{n_gz:,} bytes ({n_id / max(n_gz, 1):.1f}x smaller, time ratio gzip/identity {t_gz / t_id:.2f}; "
                  f"the client does not decompress)")
            print(f"  brotli asked (Accept-Encoding: br): {n_br:,} bytes, median {t_br * 1000:.1f} ms — "
                  f"{'not offered: answered uncompressed' if n_br == n_id else 'compressed'}")
            # issue #15 part B: ranking and the newest period cost one keyset query + the COUNT, like the typical one
            for label, extra in (("sort=-value", "&sort=-value"), ("period=latest (no period range)", "")):
                path = TYPICAL + extra if extra else TYPICAL.split("&periodFrom")[0] + "&period=latest&limit=10000"
                t_x = statistics.median(_timed(lambda: client.get(path)) for _ in range(args.runs))
                print(f"  {label}: median {t_x * 1000:.1f} ms ({t_x / typical:.2f}x the typical query)")

            base_rss = rss_kb(server.pid)
            # A small export first, then the full one: if memory is bounded, the full export's peak growth is
            # no larger than the small one's, although it streams many times the rows.
            small = _export(client, server.pid, EXPORT + "?periodFrom=2024-01-01")
            full = _export(client, server.pid, EXPORT)
            floor_e, floor_rows = floor_export(url)
            export, size, csv_rows, peak_full = full
            print(f"CSV export ({csv_rows:,} rows, {size / 1e6:.1f} MB):")
            print(f"  {export:.2f} s, {csv_rows / export:,.0f} rows/s; floor (bare SQL + csv.writer, {floor_rows:,} rows) "
                  f"{floor_e:.2f} s; ratio {export / floor_e * floor_rows / max(csv_rows, 1):.2f}x per row")
            print(f"  server RSS {base_rss / 1024:.0f} MB before; peak growth {(small[3] - base_rss) / 1024:.1f} MB for "
                  f"{small[2]:,} rows ({small[1] / 1e6:.1f} MB), {(peak_full - base_rss) / 1024:.1f} MB for {csv_rows:,} rows "
                  f"({size / 1e6:.1f} MB): streamed, memory bounded")
    finally:
        server.terminate()
        server.wait(timeout=10)
        tmp.cleanup()


def _export(client: httpx.Client, pid: int, path: str) -> tuple[float, int, int, int]:
    """(seconds, bytes, CSV rows, peak server RSS in kB) of one streamed download."""
    peak, done = [rss_kb(pid)], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t = time.perf_counter()
    size = lines = 0
    with client.stream("GET", path) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - t
    done.set()
    sampler.join()
    return elapsed, size, lines - 1, max(peak)


def _wire(client: httpx.Client, path: str, encoding: str) -> tuple[float, int]:
    """(seconds, bytes as sent) of one GET with ``Accept-Encoding: encoding``."""
    t = time.perf_counter()
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as resp:
        resp.raise_for_status()
        size = sum(len(chunk) for chunk in resp.iter_raw())
    return time.perf_counter() - t, size


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()

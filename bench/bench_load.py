"""Load test: the producer and the open-data API under 32 concurrent consumers (issue #19).

    .venv/bin/python bench/bench_load.py [--seconds 10] [--workers 1,2] [--targets sqlite,pg,pg10m]
        [--scale-db postgresql+psycopg://postgres@127.0.0.1:5432/indikera_scale10m] [--json out.json]

For each database (``sqlite``: the demo registry in a temporary file; ``pg``: the demo registry in a fresh
PostgreSQL database; ``pg10m``: ``--scale-db``, a database made by ``indikera demo --scale 10000000``) and
each ``indikera serve --workers N``, three requests are driven, each first one at a time (the serial
baseline, same run) and then by ``--clients`` concurrent connections:

* ``checksum``: GetQualityIndicators for 10001 in 2024 with ``includeMeasurements=false`` (how VIS polls);
* ``full``: the same with the measurements: 1 810 of them, ~3 MB;
* ``opendata``: the typical open-data query (10001, all units, 2024: 1 810 rows as JSON).

The load comes from its own process: ``wrk`` (Debian package ``wrk``; a Lua script POSTs the SOAP body and
prints the statistics as JSON) or, without it, an asyncio httpx client in a child process. Printed and in
``--json``: requests/s, p50, p99, errors; the ratio concurrent ÷ serial throughput (and per worker). On
``pg10m`` also the cold checksum-only answer (first call after start: computed, then cached per data
version) and the full answer and open-data query against the ``pg`` demo database's times from this run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SOAP_PATH = "/qualityreporting/GetQualityIndicators/2/rivtabp21"
OPENDATA = "/api/v1/results?measureId=10001&periodFrom=2024-01-01&periodTo=2024-12-31&limit=10000"
EXPECTED = 1810  # 10001 in 2024: 362 organisations × (the year + 4 quarters)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def soap_body(include: bool) -> bytes:
    from indikera.domain import oids

    return (
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:itr="urn:riv:itintegration:registry:1" xmlns:g="urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2" '
        'xmlns:q="urn:riv:followup:groupoutcomes:qualityreporting:2">'
        "<s:Header><itr:LogicalAddress>SE2321000000-INDIKERA</itr:LogicalAddress></s:Header><s:Body><g:GetQualityIndicators>"
        f"<g:measureId><q:root>{oids.MEASURE_ID_ROOT}</q:root><q:extension>10001</q:extension></g:measureId>"
        "<g:reportingPeriod><q:start>20240101</q:start><q:end>20241231</q:end></g:reportingPeriod>"
        f"<g:includeMeasurements>{'true' if include else 'false'}</g:includeMeasurements></g:GetQualityIndicators></s:Body></s:Envelope>"
    ).encode()


def requests() -> dict[str, tuple[str, str, bytes | None]]:
    return {"checksum": ("POST", SOAP_PATH, soap_body(False)), "full": ("POST", SOAP_PATH, soap_body(True)),
            "opendata": ("GET", OPENDATA, None)}


# ---------------------------------------------------------------- load generators (own process)

WRK_LUA = r"""
wrk.method = os.getenv("BENCH_METHOD")
local body_file = os.getenv("BENCH_BODY")
if body_file ~= "" then
  local f = io.open(body_file, "rb"); wrk.body = f:read("*a"); f:close()
  wrk.headers["Content-Type"] = "text/xml; charset=UTF-8"
end
wrk.headers["Accept-Encoding"] = "identity"
local bad = 0
response = function(status, headers, body) if status ~= 200 then bad = bad + 1 end end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, '
    .. '"error_kinds": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def run_wrk(base: str, method: str, path: str, body: bytes | None, clients: int, seconds: float, tmp: Path) -> dict:
    script, body_file = tmp / "load.lua", tmp / "body.xml"
    script.write_text(WRK_LUA)
    if body is not None:
        body_file.write_bytes(body)
    env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY=str(body_file) if body is not None else "")
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
                          base + path], env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    r = json.loads(line.removeprefix("BENCH_JSON "))
    return {"requests": r["requests"], "rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": r["errors"], "error_kinds": r["error_kinds"]}


def run_httpx(base: str, method: str, path: str, body: bytes | None, clients: int, seconds: float, tmp: Path) -> dict:
    """The fallback generator: this file run as ``--client`` in a child process, printing JSON."""
    body_file = tmp / "body.xml"
    body_file.write_bytes(body or b"")
    out = subprocess.run([sys.executable, __file__, "--client", base + path, method, str(body_file) if body else "",
                          str(clients), str(seconds)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def client_main(url: str, method: str, body_file: str, clients: int, seconds: float) -> None:
    import asyncio

    body = Path(body_file).read_bytes() if body_file else None
    latencies: list[float] = []
    errors = 0

    async def worker(http: httpx.AsyncClient, stop: float) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                r = await http.request(method, url, content=body, headers={"content-type": "text/xml; charset=UTF-8"})
                errors += r.status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - t)

    async def main() -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=30, limits=limits, headers={"Accept-Encoding": "identity"}) as http:
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(http, t0 + seconds) for _ in range(clients)))
            return time.perf_counter() - t0

    elapsed = asyncio.run(main())
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731
    print(json.dumps({"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pick(0.5),
                      "p99_ms": pick(0.99), "errors": errors}))


# ---------------------------------------------------------------- databases and servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indikera.cli", *args], capture_output=True, text=True, check=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))


def fresh_pg_demo(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    cli("demo", "--db", url)
    # As after any bulk load: without it autovacuum works through the new tables during the first runs (and no
    # visibility map allows index-only scans). In one run that made 2 workers slower than 1 (0.57 per worker;
    # 0.87 on the same database vacuumed).
    with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


def has_workers_option() -> bool:
    return "--workers" in cli("serve", "--help").stdout


def start_server(url: str, workers: int, with_workers: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "indikera.cli", "serve", "--db", url, "--port", str(port)]
    if with_workers:
        cmd += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDIKERA_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"server did not start: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)  # the server and its worker processes (its own session)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def check_answers(base: str, workers: int) -> tuple[float, float]:
    """Each request answers as expected; returns the cold checksum-only time (first call after start, ms) and
    the slowest first open-data request (ms): each worker process seals the open data's state (the ETag's
    digest over every visible value, opendata.view_cache) on its first request, a scan of the whole table."""
    from concurrent.futures import ThreadPoolExecutor

    def first_opendata(_) -> float:
        t = time.perf_counter()
        assert httpx.get(base + OPENDATA, timeout=1800, headers={"Accept-Encoding": "identity"}).json()["count"] == EXPECTED
        return (time.perf_counter() - t) * 1000

    with ThreadPoolExecutor(2 * workers) as pool:  # enough at once to reach every worker while the first ones seal
        first = max(pool.map(first_opendata, range(2 * workers)))
    reqs = requests()
    with httpx.Client(base_url=base, timeout=600, headers={"Accept-Encoding": "identity"}) as http:
        t = time.perf_counter()
        r = http.post(SOAP_PATH, content=reqs["checksum"][2], headers={"content-type": "text/xml; charset=UTF-8"})
        cold = (time.perf_counter() - t) * 1000
        assert r.status_code == 200 and b"measurementChecksum" in r.content, r.text[:300]
        r = http.post(SOAP_PATH, content=reqs["full"][2], headers={"content-type": "text/xml; charset=UTF-8"})
        assert r.status_code == 200, r.text[:300]
        found = len(etree.fromstring(r.content).findall(".//{urn:riv:followup:groupoutcomes:qualityreporting:2}measurement"))
        assert found == EXPECTED, (found, EXPECTED)
        assert http.get(OPENDATA).json()["count"] == EXPECTED
    return cold, first


# ---------------------------------------------------------------- the run


def _cpu_ticks() -> tuple[int, int] | None:
    """(all, idle) jiffies of the whole machine (Linux), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    return sum(v), v[3] + v[4]


def timed(generate, *a) -> dict:
    """``generate``'s result plus the machine's CPU use over the run: ``busy`` (0–1 of all cores) and ``cpu_ms``
    per completed request (server, database and load generator together). If a request costs the same CPU
    concurrently as one at a time, nothing thrashes, and a ratio below 1 means the cores were full."""
    before, started = _cpu_ticks(), time.perf_counter()
    res = generate(*a)
    after, wall = _cpu_ticks(), time.perf_counter() - started
    if before and after and after[0] > before[0]:
        busy = 1 - (after[1] - before[1]) / (after[0] - before[0])
        res["busy"] = busy
        done = res.get("requests") or res["rps"] * wall
        res["cpu_ms"] = busy * (os.cpu_count() or 1) * wall * 1000 / done if done else None
    return res


def measure(target: str, url: str, workers: int, args, generate, tmp: Path, with_workers: bool) -> list[dict]:
    proc, base = start_server(url, workers, with_workers)
    out = []
    try:
        cold, first_opendata = check_answers(base, workers)
        print(f"{target:<7}{workers:>3}  first open-data request (seals the state): {first_opendata:,.0f} ms", flush=True)
        for name, (method, path, body) in requests().items():
            generate(base, method, path, body, 1, 1, tmp)  # warm every worker's caches and connections
            serial = timed(generate, base, method, path, body, 1, args.seconds, tmp)
            # Long enough for every connection to finish several answers: a run shorter than one round of
            # ``clients`` queued answers would count none of them (wrk counts completed requests only).
            window = min(args.max_seconds, max(args.seconds, 4 * args.clients / max(serial["rps"], 1e-3)))
            loaded = timed(generate, base, method, path, body, args.clients, window, tmp)
            loaded["seconds"] = window
            ratio = loaded["rps"] / serial["rps"] if serial["rps"] else 0.0
            rec = {"target": target, "workers": workers, "request": name, "serial": serial, "concurrent": loaded,
                   "clients": args.clients, "ratio": ratio, "ratio_per_worker": ratio / workers}
            if name == "checksum":
                rec["cold_ms"] = cold
            if name == "opendata":
                rec["first_ms"] = first_opendata
            out.append(rec)
            print(f"{target:<7}{workers:>3}  {name:<9}{serial['rps']:>9.1f}{serial['p50_ms']:>9.1f}"
                  f"{loaded['rps']:>10.1f}{loaded['p50_ms']:>9.1f}{loaded['p99_ms']:>9.1f}{ratio:>7.2f}"
                  f"{ratio / workers:>7.2f}{loaded['errors'] + serial['errors']:>6}"
                  f"{_pct(loaded.get('busy')):>6}{_ms(serial.get('cpu_ms')):>8}{_ms(loaded.get('cpu_ms')):>8}", flush=True)
    finally:
        stop_server(proc)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        url, method, body_file, clients, seconds = sys.argv[2:7]
        return client_main(url, method, body_file, int(clients), float(seconds))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each serial and each concurrent run")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="longest concurrent run (each lasts 4 rounds of --clients answers at the serial speed, at least --seconds)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--targets", default="sqlite,pg,pg10m")
    ap.add_argument("--sqlite-db", help="an existing SQLite demo database file (default: built in a temporary directory)")
    ap.add_argument("--pg-db", help="an existing PostgreSQL demo database URL (default: a fresh database indikera_bench_load)")
    ap.add_argument("--scale-db", help="PostgreSQL URL of a database made by `indikera demo --scale 10000000`")
    ap.add_argument("--tool", choices=("auto", "wrk", "httpx"), default="auto")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    tool = ("wrk" if shutil.which("wrk") else "httpx") if args.tool == "auto" else args.tool
    generate = run_wrk if tool == "wrk" else run_httpx
    with_workers = has_workers_option()
    counts = [int(w) for w in args.workers.split(",")]
    if not with_workers:  # before `serve --workers` existed: one process only
        print("indikera serve has no --workers: measuring one worker only")
        counts = [1]
    targets = args.targets.split(",")
    if "pg10m" in targets and not args.scale_db:
        print("pg10m skipped: no --scale-db")
        targets.remove("pg10m")
    tmp_dir = tempfile.TemporaryDirectory()
    tmp = Path(tmp_dir.name)
    urls = {}
    if "sqlite" in targets:
        urls["sqlite"] = f"sqlite:///{args.sqlite_db}" if args.sqlite_db else f"sqlite:///{tmp / 'demo.db'}"
        if not args.sqlite_db:
            cli("demo", "--db", urls["sqlite"])
    if "pg" in targets:
        urls["pg"] = args.pg_db or fresh_pg_demo("indikera_bench_load")
    if "pg10m" in targets:
        urls["pg10m"] = args.scale_db
    print(f"load generator: {tool}; {args.clients} clients; {args.seconds:g} s per run; load average {os.getloadavg()[0]:.1f}")
    print(f"{'target':<7}{'wrk':>3}  {'request':<9}{'1-by-1/s':>9}{'p50 ms':>9}{'32: req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'ratio':>7}{'/wrkr':>7}{'errs':>6}{'cpu%':>6}{'cpu/1':>8}{'cpu/32':>8}".replace("wrk", "wkr", 1))
    print("(cpu%: the machine's cores busy during the 32-client run; cpu/1, cpu/32: CPU ms per answer, all processes)")
    results = []
    try:
        for target in targets:
            for w in counts:
                results += measure(target, urls[target], w, args, generate, tmp, with_workers)
    finally:
        tmp_dir.cleanup()
    summary = scale_summary(results)
    for line in summary.get("lines", []) + goals(results, summary.get("figures", {})):
        print(line)
    report = {"tool": tool, "clients": args.clients, "seconds": args.seconds, "cpus": os.cpu_count(),
              "loadavg": os.getloadavg(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "results": results, "scale": summary.get("figures", {})}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def goals(results: list[dict], scale: dict) -> list[str]:
    """Issue #19's goals against this run's figures."""
    lines = ["goals (issue #19):"]
    for r in results:
        where = f"{r['target']}, {r['workers']} worker(s)"
        if r["request"] == "checksum":
            p99 = r["concurrent"]["p99_ms"]
            lines.append(f"  checksum-only p99 with {r['clients']} consumers ≤ 250 ms, {where}: {p99:.0f} ms "
                         f"{'met' if p99 <= 250 else 'NOT met'}")
        if r["request"] == "full":
            lines.append(f"  full answers ≥ 0.8× one-at-a-time throughput per worker, {where}: {r['ratio_per_worker']:.2f} "
                         f"{'met' if r['ratio_per_worker'] >= 0.8 else 'NOT met'}")
    for name, goal in (("full", 1.5), ("opendata", 1.5)):
        if name in scale:
            ratio = scale[name]["ratio"]
            lines.append(f"  10M {name} within {goal}× of the demo database: {ratio:.2f}× {'met' if ratio <= goal else 'NOT met'}")
    if "checksum" in scale:
        ms = scale["checksum"]["scale_ms"]
        lines.append(f"  10M checksum-only ≤ 5 ms: {ms:.1f} ms {'met' if ms <= 5 else 'NOT met'}")
    return lines


def scale_summary(results: list[dict]) -> dict:
    """The national-size figures: 10M vs the demo database on the same server setup (one worker, serial)."""
    pick = {(r["target"], r["workers"], r["request"]): r for r in results}
    demo, big = ("pg", 1), ("pg10m", 1)
    if (big + ("full",)) not in pick or (demo + ("full",)) not in pick:
        return {}
    figures, lines = {}, ["at 10M (one worker, serial p50, vs the PostgreSQL demo database in this run):"]
    for name in ("full", "opendata", "checksum"):
        a, b = pick[demo + (name,)]["serial"]["p50_ms"], pick[big + (name,)]["serial"]["p50_ms"]
        figures[name] = {"demo_ms": a, "scale_ms": b, "ratio": b / a if a else 0.0}
        lines.append(f"  {name:<9} demo {a:.1f} ms, 10M {b:.1f} ms: {b / a if a else 0:.2f}x")
    cold = pick[big + ("checksum",)].get("cold_ms")
    figures["checksum_cold_ms"] = cold
    lines.append(f"  checksum-only, first call after start (computed, not cached): {cold:.1f} ms (goal ≤ 5 ms warm)")
    return {"figures": figures, "lines": lines}


if __name__ == "__main__":
    main()

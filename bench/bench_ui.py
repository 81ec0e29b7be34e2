"""Benchmark the preview UI's indicator page on the demo registry and on a 1 500-unit registry (issue #18, item 8).

    .venv/bin/python bench/bench_ui.py [--runs 15]

Builds the demo registry and a copy with 1 500 vårdenheter for indicator 10001 in 2025
(``tests/support/big_registry.py``), serves each with uvicorn in a separate process and measures time to first
byte (the response head arriving; the body is read afterwards) over real HTTP, median of ``--runs``. The
floor, measured in the same run, is the demo registry's page at the same address: the ratio shows what the
larger registry costs, independent of how loaded the machine is. Also prints the HTML size of each page.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from indikera import demo  # noqa: E402
from indikera.store.db import make_engine, upgrade  # noqa: E402

PAGES = [
    "/indikatorer/10001?period=20250101-20251231",
    "/indikatorer/10001?period=20250101-20251231&niva=vardenhet",
    "/indikatorer/10001?period=20250101-20251231&niva=vardenhet&sort=varde&sida=8",
    "/indikatorer/10001?period=20250101-20251231&sok=enhet%2001",
    "/indikatorer/10001/resultat.csv?period=20250101-20251231&niva=vardenhet",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "INDIKERA_DATABASE_URL": f"sqlite:///{db_path}", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "indikera.app:create_app", "--factory", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=str(db_path.parent),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/health", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def ttfb(client: httpx.Client, url: str, runs: int) -> tuple[float, int]:
    times, size = [], 0
    client.get(url)  # warm: templates compiled, caches filled
    for _ in range(runs):
        start = time.perf_counter()
        with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as r:
            times.append(time.perf_counter() - start)  # the head has arrived
            size = len(r.read())
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--units", type=int, default=1500)
    args = parser.parse_args()
    from tests.support import big_registry

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        small = directory / "demo.db"
        upgrade(f"sqlite:///{small}")
        engine = make_engine(f"sqlite:///{small}")
        demo.build(engine)
        engine.dispose()
        big = big_registry.build(small, directory, args.units)
        results: dict[str, dict[str, tuple[float, int]]] = {}
        for name, path in (("demo", small), ("big", big)):
            proc, base = serve(path)
            try:
                with httpx.Client(base_url=base, timeout=60) as client:
                    results[name] = {page: ttfb(client, page, args.runs) for page in PAGES}
            finally:
                proc.terminate()
                proc.wait(10)
        print(f"Load average: {os.getloadavg()[0]:.2f} (2 cores); median TTFB of {args.runs} over real HTTP")
        print(f"{'page':<78} {'demo (floor)':>14} {f'{args.units} units':>14} {'ratio':>6} {'HTML kB':>8}")
        for page in PAGES:
            (t0, _), (t1, size) = results["demo"][page], results["big"][page]
            print(f"{page:<78} {t0 * 1000:>11.1f} ms {t1 * 1000:>11.1f} ms {t1 / t0:>6.2f} {size / 1000:>8.1f}")


if __name__ == "__main__":
    main()

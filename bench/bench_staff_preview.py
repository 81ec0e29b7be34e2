"""What the staff preview costs over the public page (issue #16 item 2).

    .venv/bin/python bench/bench_staff_preview.py --db sqlite:///demo.db [--runs 15]

Serves a *copy* of the database (``indikera demo`` builds one) in-process with uvicorn, logs in with a bench admin
token, adds one waiting batch, and measures over real HTTP the median of ``--runs`` for the public indicator page
(the floor, same run) and the same page in the preview (which approves what waits in a transaction and rolls it
back), and the preview list. Prints medians and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from indikera.app import create_app  # noqa: E402
from indikera.config import Settings  # noqa: E402
from indikera.context import AppContext  # noqa: E402
from tests.support.server import running  # noqa: E402
from tests.support.staff import TOKENS, TOKEN, waiting_batch  # noqa: E402


def median_ms(c: httpx.Client, url: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        r = c.get(url)
        assert r.status_code == 200, (url, r.status_code)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, help="sqlite:///path of a demo database (copied, never changed)")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        shutil.copy(args.db.removeprefix("sqlite:///"), path)
        ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{path}", admin_tokens=TOKENS))
        waiting_batch(ctx)
        with running(create_app(ctx=ctx)) as url, httpx.Client(base_url=url, timeout=60) as c:
            c.post("/personal/logga-in", data={"token": TOKEN})
            page = "/indikatorer/10001?period=20250101-20251231"
            floor = median_ms(c, page, args.runs)
            preview = median_ms(c, "/personal/forhandsgranska/10001?period=20250101-20251231&publik=allman", args.runs)
            listing = median_ms(c, "/personal/forhandsgranska?publik=allman", args.runs)
        ctx.engine.dispose()
    print(f"public indicator page (floor): {floor:.1f} ms")
    print(f"preview indicator page:        {preview:.1f} ms  ratio {preview / floor:.2f}")
    print(f"preview list:                  {listing:.1f} ms  ratio {listing / floor:.2f}")


if __name__ == "__main__":
    main()

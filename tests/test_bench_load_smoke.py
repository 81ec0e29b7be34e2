"""bench/bench_load.py runs end to end: a real server, the load generator in its own process, a full report.

Figures are not checked (timing assertions are forbidden in tests; the bench prints them): only that every
request answered correctly (the bench checks 1 810 measurements and rows itself) and the report has its fields.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_load.py"
FIELDS = {"requests", "rps", "p50_ms", "p99_ms", "errors"}


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["wrk", "httpx"])
def test_load_bench_reports_every_request(tool, demo_url, tmp_path):
    if tool == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (Debian package wrk); the httpx generator is tested instead")
    out = tmp_path / "load.json"
    db_file = demo_url.removeprefix("sqlite:///")
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--targets", "sqlite", "--sqlite-db", db_file, "--workers", "1", "--seconds", "1",
         "--clients", "4", "--tool", tool, "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["tool"] == tool and report["clients"] == 4
    assert [r["request"] for r in report["results"]] == ["checksum", "full", "opendata"]
    for r in report["results"]:
        assert r["target"] == "sqlite" and r["workers"] == 1
        assert FIELDS <= set(r["serial"]) and FIELDS <= set(r["concurrent"])
        assert {"ratio", "ratio_per_worker"} <= set(r)
        assert r["serial"]["errors"] == r["concurrent"]["errors"] == 0
    assert report["results"][0]["serial"]["requests"] > 0
    assert "cold_ms" in report["results"][0]

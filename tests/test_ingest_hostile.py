"""Hostile files end in a clean refusal: an XLSX zip bomb stays under the 300 MB bound (RSS measured in a
subprocess), every hostile case is a CLI error without a traceback, and a SIGKILLed import leaves no
unmasked rows behind for longer than the next import."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indikera.cli import app
from indikera.ingest import spool
from indikera.ingest.export import write_csv, write_xlsx

from .support.ingest_files import Y2024, many, organisations, prop, sample, seed_indicators, snapshot
from .test_ingest_rejects import _json_deep, _json_duplicate_key

ROOT = Path(__file__).resolve().parents[1]
RSS_BOUND_KB = 300 * 1024
runner = CliRunner()

# Runs the command given after it and reports the peak RSS of it (and whatever it waited for) in KiB.
_MEASURE = ("import resource, subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "print(r.stdout + r.stderr)\n"
            "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(r.returncode)\n")


def _bomb(path: Path, cell_bytes: int = 256 << 20) -> None:
    """A real workbook whose sheet starts with one cell of ``cell_bytes`` letters, written streaming."""
    plain = path.with_suffix(".plain.xlsx")
    write_xlsx(plain, sample()[:3])
    block = b"A" * (1 << 20)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if not item.filename.startswith("xl/worksheets/"):
                dst.writestr(item, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with dst.open(item.filename, "w", force_zip64=True) as out:
                out.write(head + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
                for _ in range(cell_bytes // len(block)):
                    out.write(block)
                out.write(b"</t></is></c></row>" + tail)
    plain.unlink()


def _import_measured(path: Path, url: str, **env: str) -> tuple[int, str, int]:
    cmd = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "indikera.cli", "import", "results", str(path), "--db", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env=dict(os.environ, COLUMNS="200", **env))
    peak = int(proc.stdout.rsplit("PEAK_RSS_KB", 1)[1].split()[0])
    return proc.returncode, proc.stdout, peak


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    _bomb(path)
    assert path.stat().st_size < 1_000_000  # ~260 KB inflating to 256 MB
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("env", "code"), [
    ({}, "zip-bomb"),  # refused from the zip directory: ratio ~1000
    ({"INDIKERA_IMPORT_XLSX_MAX_RATIO": "100000"}, "längre än 65536 tecken"),  # ratio allowed: the cell scan refuses
], ids=["ratio", "cell-scan"])
def test_xlsx_zip_bomb_is_refused_within_the_memory_bound(bomb, sqlite_engine, env, code):
    seed_indicators(sqlite_engine)
    before = snapshot(sqlite_engine)
    rc, output, peak_kb = _import_measured(bomb, str(sqlite_engine.url), **env)
    assert rc == 1, output
    assert "Traceback" not in output and code in output and "Inget har skrivits" in output, output
    assert peak_kb < RSS_BOUND_KB, f"peak RSS {peak_kb // 1024} MB"
    assert snapshot(sqlite_engine) == before


def test_zip_limits_are_read_before_inflating(sqlite_engine, tmp_path):
    """The total-size limit, configurable: a workbook inflating past it is refused by name."""
    from indikera.config import Settings
    from indikera.ingest.importer import validate

    seed_indicators(sqlite_engine)
    path = tmp_path / "ok.xlsx"
    write_xlsx(path, sample())
    settings = Settings(database_url=str(sqlite_engine.url), import_xlsx_max_bytes=10_000)
    plan = validate(sqlite_engine, path, settings)
    assert [p.code for p in plan.problems.shown] == ["XLSX_TOO_LARGE"]
    assert validate(sqlite_engine, path, Settings(database_url=str(sqlite_engine.url))).ok


@pytest.mark.parametrize(("make", "where"), [
    (_json_deep, "hostile.json:5:"),
    (_json_duplicate_key, "hostile.json:6: kolumn Numerator:"),
], ids=["100000-deep", "duplicate-key"])
def test_hostile_json_is_a_clean_cli_error(make, where, sqlite_engine, tmp_path):
    seed_indicators(sqlite_engine)
    path = tmp_path / "hostile.json"
    path.write_bytes(make())
    before = snapshot(sqlite_engine)
    res = runner.invoke(app, ["import", "results", str(path), "--db", str(sqlite_engine.url)])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert where in res.output and "Inget har skrivits" in res.output and "Traceback" not in res.output
    assert snapshot(sqlite_engine) == before


def test_sweep_removes_only_dead_importers_directories(tmp_path):
    mine = Path(spool.private_dir(str(tmp_path)))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{spool.SPOOL_PREFIX}{dead.pid}-x"
    stale.mkdir()
    (stale / "a.spool").write_bytes(b"unmasked")
    other = tmp_path / "not-ours"
    other.mkdir()
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    assert spool.sweep(str(tmp_path)) == [str(stale)]
    assert mine.exists() and other.exists() and not stale.exists()


def _leftovers(tmp: Path) -> list[Path]:
    return sorted(tmp.rglob("*"))


@pytest.mark.slow
def test_sigkill_in_write_phase_leaves_no_unmasked_rows_behind(tmp_path):
    from indikera.store import db as store_db

    url = f"sqlite:///{tmp_path / 'k.db'}"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    seed_indicators(engine)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    big = tmp_path / "big.csv"
    write_csv(big, sample() + many(4000))  # checked in 2 worker processes whose spool files the importer adopts
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONUNBUFFERED="1", COLUMNS="200", INDIKERA_IMPORT_WORKERS="2",
               INDIKERA_IMPORT_PARALLEL_MIN_BYTES="100000", INDIKERA_IMPORT_WRITER_PROCESS_MIN_ROWS="0")
    cmd = [sys.executable, "-m", "indikera.cli", "import", "results"]
    proc = subprocess.Popen([*cmd, str(big), "--db", url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=ROOT)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "Skriver till databasen" in line:
            break
    assert any("i 2 processer" in ln for ln in seen), seen
    time.sleep(0.3)
    assert proc.poll() is None, "the import finished before it could be killed: make the file larger"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    left = _leftovers(tmp)
    files = [p for p in left if p.is_file()]
    assert files, "the killed import should have had spooled rows on disk"
    for p in left:  # what a kill leaves is this user's only: directories 0700, files not readable by others
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode & 0o077 == 0, (p, oct(mode))
        assert p.relative_to(tmp).parts[0].startswith(spool.SPOOL_PREFIX), p
    small = tmp_path / "small.csv"
    write_csv(small, [prop("10001", Y2024, organisations()["u1"], 300, 500)])
    nxt = subprocess.run([*cmd, str(small), "--db", url], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert nxt.returncode == 0, nxt.stdout + nxt.stderr
    assert _leftovers(tmp) == [], "the next import removes what the killed one left, and its own spool"
    engine.dispose()


def test_measure_helper_reports_rss():
    """The RSS figure is real: a child that allocates 100 MB is reported above 100 MB."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-c", "x = bytearray(100 << 20); x[::4096] = b'1' * len(x[::4096])"],
                         capture_output=True, text=True, timeout=60).stdout
    assert int(out.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) > 100 * 1024
    assert resource.RUSAGE_CHILDREN  # the measurement is of the children, never of pytest itself

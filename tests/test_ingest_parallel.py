"""Checking a large CSV file in worker processes gives exactly the sequential outcome: the same problems
(line, column, code, message), the same row count and the same spooled rows, whatever the file holds."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indikera.config import Settings
from indikera.ingest.export import vis_row
from indikera.ingest.importer import validate
from indikera.ingest.sources import COLUMNS
from indikera.store import db as store_db

from .support.ingest_files import many, sample, seed_indicators

BASE = [vis_row(m) for m in sample() + many(12, years=range(2019, 2025))]


def _write(path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r[c] for c in COLUMNS])


def _outcome(engine, path, **kw):
    plan = validate(engine, path, Settings(database_url=str(engine.url), **kw))
    try:
        # A rejected file writes nothing, so what it left in the spool is not part of the outcome.
        spooled = {g: list(plan.spool.read(g)) for g in plan.spool.families()} if plan.ok else None
        return plan.parts, (
            [(p.line, p.column, p.code, p.sv, p.en) for p in plan.problems.shown], plan.problems.total, plan.rows,
            plan.ok, spooled, dict(plan.spool.organisations) if plan.ok else None, plan.source,
        )
    finally:
        plan.spool.close()


# Edits that make a row wrong on its own, or wrong only next to another row (possibly in another part).
EDITS = {
    "unknown indicator": lambda r: r.update(MeasureID="99999"),
    "bad date": lambda r: r.update(PeriodReportedStartDate="20241345"),
    "other registry": lambda r: r.update(RegisterHSAID="SE2321000000-OTHER"),
    "renamed unit": lambda r: r.update(UnitName=r["UnitName"] + " (ny)") if r["UnitName"] else None,
    "numerator above denominator": lambda r: r.update(Numerator="999999") if r["Numerator"] else None,
    "renamed region": lambda r: r.update(RegionName="Region X") if r["RegionName"] else None,
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('par')}/t.db"
    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    seed_indicators(engine)
    yield engine
    engine.dispose()


@pytest.mark.slow
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.sampled_from(sorted(EDITS))), max_size=4),
       st.lists(st.integers(0, len(BASE) - 1), max_size=2), st.integers(2, 3))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_parts_give_the_sequential_outcome(seeded, tmp_path_factory, edits, duplicates, workers):
    rows = [dict(r) for r in BASE]
    for i, edit in edits:
        EDITS[edit](rows[i])
    rows += [dict(rows[i]) for i in duplicates]  # R9: the same value again, far from the first
    path = tmp_path_factory.mktemp("f") / "f.csv"
    _write(path, rows)
    parts, in_parts = _outcome(seeded, path, import_workers=workers, import_parallel_min_bytes=1)
    one, sequential = _outcome(seeded, path, import_workers=1)
    assert one == 1
    assert in_parts == sequential
    if not edits and not duplicates:
        assert parts == workers  # a plain file really is checked in parts


def test_a_quoted_file_is_checked_in_one_process(seeded, tmp_path):
    rows = [dict(r) for r in BASE]
    unit = next(i for i, r in enumerate(rows) if r["UnitName"])
    for r in rows:  # one unit, one name: renamed everywhere, so the file stays valid
        if r["UnitHSAID"] == rows[unit]["UnitHSAID"]:
            r["UnitName"] = 'Enhet "Norr"; vård'  # needs quoting
    path = tmp_path / "q.csv"
    _write(path, rows)
    parts, outcome = _outcome(seeded, path, import_workers=2, import_parallel_min_bytes=1)
    assert parts == 1 and outcome[3] and outcome == _outcome(seeded, path, import_workers=1)[1]


def test_small_files_and_one_worker_stay_in_one_process(seeded, tmp_path):
    path = tmp_path / "s.csv"
    _write(path, BASE)
    assert _outcome(seeded, path, import_workers=2)[0] == 1  # far below the default 16 MB
    assert _outcome(seeded, path, import_workers=1, import_parallel_min_bytes=1)[0] == 1


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.slow
def test_killing_the_import_ends_its_workers_and_leaves_no_files(seeded, tmp_path):
    """SIGKILL the import while its workers check the file: they notice, remove their spool and exit."""
    rows = [dict(r) for r in BASE] * 300  # duplicates: rejected in the end, but only after the long check
    path = tmp_path / "big.csv"
    _write(path, rows)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), INDIKERA_IMPORT_WORKERS="2", INDIKERA_IMPORT_PARALLEL_MIN_BYTES="1")
    proc = subprocess.Popen([sys.executable, "-m", "indikera.cli", "import", "results", str(path), "--db",
                             str(seeded.url)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the workers never started"
        time.sleep(0.02)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]
              for w in workers):
        assert time.monotonic() < deadline, "the workers outlived the import"
        time.sleep(0.05)
    assert list(scratch.iterdir()) == []

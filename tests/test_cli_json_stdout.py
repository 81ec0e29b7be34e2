"""A ``--json`` command's standard output is JSON and nothing else, in a fresh process as a script runs it.

CliRunner captures Python's ``sys.stdout`` only: a native library writing to file descriptor 1 (HiGHS prints a
banner when its first instance is made) slipped past every in-process test and broke
``indikera import audit --json`` for scripts. These run the real command line in a child process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [
    ["import", "audit", "1", "--json"],      # solves LPs: the first HiGHS instance of the process
    ["catalog", "list", "--json"],
], ids=lambda a: " ".join(a[:2]))
def test_json_output_is_only_json(demo_url, args):
    done = subprocess.run([sys.executable, "-m", "indikera.cli", *args, "--db", demo_url],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    json.loads(done.stdout)  # raises on a banner, a progress bar or a log line in stdout

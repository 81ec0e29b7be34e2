"""The command line as a user meets it: help, database commands, the demo and the main job."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from indikera.cli import app
from tests.support.server import free_port

runner = CliRunner()


def test_help_lists_every_command_with_a_description():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "demo", "db"):
        assert command in result.output
    for name, group in [(c.name, c) for c in app.registered_groups]:
        assert name in result.output, f"group {name} missing from --help"
        assert group.typer_instance.info.help or group.help, f"group {name} has no description"


def test_db_upgrade_then_current(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(app, ["db", "current", "--db", url]).exit_code == 1  # not migrated yet
    up = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert up.exit_code == 0, up.output
    cur = runner.invoke(app, ["db", "current", "--db", url])
    assert cur.exit_code == 0 and "up-to-date" in cur.output


def test_bad_config_file_is_usage_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("no_such_setting = 1\n")
    result = runner.invoke(app, ["db", "upgrade", "--config", str(bad)])
    assert result.exit_code == 2
    assert "no_such_setting" in result.output


def test_serve_refuses_half_tls_options(tmp_path):
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'y.db'}", "--tls-cert", str(tmp_path / "c.pem")])
    assert result.exit_code == 2


@pytest.mark.slow
def test_main_job_serves_demo_database(tmp_path):
    """`indikera serve --demo` in a fresh directory builds the demo database and answers on localhost."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDIKERA_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "indikera.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300  # builds the demo registry, then starts one worker per CPU
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert health.json()["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/").text
        assert "Indikatorer" in page and 'id="n-measurements">0<' not in page
        assert (tmp_path / "indikera-demo.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=15)

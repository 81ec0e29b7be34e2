"""`indikera platform serve` as an operator runs it: a real process, real mTLS; bad input → a clear exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from indikera.cli import app as cli_app
from indikera.platform.tak import export_document

from .support.connection_kit import NS, SithsTestCA, client_context, envelope
from .support.server import free_port

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    ca = SithsTestCA(tmp_path / "pki")
    tak = tmp_path / "tak.json"
    tak.write_text(json.dumps(export_document(
        [{"logiskAdress": "SE1", "tjanstekontrakt": NS, "adress": "https://127.0.0.1:9/x", "rivtaprofil": "RIVTABP21", "tjanstekomponent": "P"}],
        [])), encoding="utf-8")
    return {"ca": ca, "tak": tak, "server": ca.issue("server", "VP", cn="localhost"), "consumer": ca.issue("consumer", "CONS"), "dir": tmp_path}


def test_serve_runs_as_a_process_and_answers_vp_faults(files):
    port = free_port()
    cmd = [sys.executable, "-m", "indikera.cli", "platform", "serve", "--tak", str(files["tak"]), "--port", str(port),
           "--tls-cert", str(files["server"].cert), "--tls-key", str(files["server"].key), "--client-ca", str(files["ca"].ca_file),
           "--instance-name", "LOKAL-VP"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    try:
        ctx = client_context(files["ca"], files["consumer"])
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = httpx.post(f"https://127.0.0.1:{port}/vp", content=envelope("SE-NOWHERE"), verify=ctx, timeout=5)
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "platform did not start"
                time.sleep(0.2)
        assert resp.status_code == 500 and b"VP004 [LOKAL-VP]" in resp.content
        unauthorised = httpx.post(f"https://127.0.0.1:{port}/vp", content=envelope("SE1"), verify=ctx, timeout=5)
        assert b"VP007 [LOKAL-VP]" in unauthorised.content
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "1 vägval, 0 anropsbehörigheter" in proc.stderr.read().decode().replace("\n", " ")


@pytest.mark.parametrize("case", ["missing", "broken", "no-client-ca", "no-listener"])
def test_serve_refuses_bad_setups(files, case):
    args = ["platform", "serve", "--tak", str(files["tak"]), "--port", "0"]
    if case == "missing":
        args[3] = str(files["dir"] / "nope.json")
    elif case == "broken":
        (files["dir"] / "bad.json").write_text('{"data": {"vagval": [{"relationships": {}}]}}')
        args[3] = str(files["dir"] / "bad.json")
    elif case == "no-client-ca":
        args += ["--tls-cert", str(files["server"].cert), "--tls-key", str(files["server"].key)]
    res = runner.invoke(cli_app, args)
    assert res.exit_code == 2, res.output


def test_serve_reads_a_settings_file_and_rejects_unknown_names(files, tmp_path):
    bad = tmp_path / "platform.toml"
    bad.write_text('[platform]\nread_timout = 3\n', encoding="utf-8")
    res = runner.invoke(cli_app, ["platform", "serve", "--tak", str(files["tak"]), "--config", str(bad), "--http-port", "0"])
    assert res.exit_code == 2 and "read_timout" in res.output

"""``indikera serve --workers N`` as a real subprocess for tests: started, waited for (``/health``), stopped.

Its output is collected in a thread (``lines``), so a test can wait for what the server says it does
(e.g. that a worker is draining) instead of sleeping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .server import free_port

START_TIMEOUT = 180  # seconds: each worker imports the whole app, on a machine shared with other test runs


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    port: int
    lines: list[str] = field(default_factory=list)

    def wait_for_line(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"server never said {text!r}:\n" + "".join(self.lines[-40:]))
            time.sleep(0.05)

    def output(self) -> str:
        return "".join(self.lines)


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without the caller's INDIKERA_* settings, plus ``settings`` (INDIKERA_<NAME>)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDIKERA_") or k.startswith("INDIKERA_TEST_")}
    env.update({f"INDIKERA_{k.upper()}": v for k, v in settings.items()})
    return env


def indikera(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """One ``indikera`` command as a subprocess (what an operator types)."""
    return subprocess.run([sys.executable, "-m", "indikera.cli", *args], env=env or clean_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@contextmanager
def serve(db_url: str, *extra: str, workers: int = 2, env: dict[str, str] | None = None, cwd: Path | None = None,
          scheme: str = "http", ready_verify=None) -> Iterator[Served]:
    """``indikera serve --workers N`` on a free port until the block ends (then SIGTERM, and SIGKILL if stuck)."""
    port = free_port()
    cmd = [sys.executable, "-m", "indikera.cli", "serve", "--workers", str(workers), "--port", str(port), "--db", db_url, *extra]
    proc = subprocess.Popen(cmd, env=env or clean_env(), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served = Served(proc, f"{scheme}://127.0.0.1:{port}", port)
    reader = threading.Thread(target=lambda: served.lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        _wait_ready(served, ready_verify)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=10)


def _wait_ready(served: Served, verify) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if served.proc.poll() is not None:
            raise AssertionError(f"indikera serve exited with {served.proc.returncode}:\n{served.output()}")
        try:
            if httpx.get(f"{served.url}/health", timeout=5, verify=verify if verify is not None else True).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"indikera serve was not ready within {START_TIMEOUT} s:\n{served.output()}")
        time.sleep(0.3)


def per_worker(url: str, check, n: int = 2, attempts: int = 80, **client_kwargs) -> dict[int, object]:
    """``check(client)`` answered by each of ``n`` worker processes: {pid: result}. Each try opens a new
    connection, asks ``/health`` (which worker) before and after ``check`` on that same kept-alive
    connection, and counts only when both agree."""
    results: dict[int, object] = {}
    for _ in range(attempts):
        with httpx.Client(base_url=url, timeout=60, **client_kwargs) as client:
            before = client.get("/health").json()["pid"]
            result = check(client)
            if client.get("/health").json()["pid"] == before:
                results.setdefault(before, result)
        if len(results) == n:
            return results
    raise AssertionError(f"only workers {sorted(results)} answered {attempts} new connections")

#!/usr/bin/env python3
"""Set-up and the two everyday commands, needing nothing but Python ≥ 3.11.

    python3 dev.py run    # create .venv, install indikera, serve it on the embedded demo database
    python3 dev.py test   # create .venv, install indikera with its test tools, run every test

Extra arguments go to the command: ``python3 dev.py run --port 9000``, ``python3 dev.py test -k soap``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("INDIKERA_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def sh(*args: str | Path, **kw) -> None:
    subprocess.run([str(a) for a in args], check=True, **kw)


def ensure_venv(extras: str) -> None:
    """Create the venv and (re)install when pyproject.toml or the extras changed since last time."""
    if sys.version_info < (3, 11):
        sys.exit("indikera needs Python 3.11 or newer")
    if not PY.exists():
        print(f"Skapar virtuell miljö i {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".indikera-installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installerar indikera och dess beroenden …", flush=True)
    sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    sh(PY, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def run(args: list[str]) -> int:
    ensure_venv("")
    return subprocess.call([str(BIN / "indikera"), "serve", "--demo", *args])


def test(args: list[str]) -> int:
    ensure_venv("test")
    workers = [] if any(a.startswith("-n") for a in args) else ["-n", os.environ.get("INDIKERA_TEST_WORKERS", "2")]
    return subprocess.call([str(PY), "-m", "pytest", *workers, *args], cwd=ROOT)


def main() -> int:
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the open-data tests: module-scoped copies of the demo registry (read-only tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

from . import conftest
from .support import pg


def demo_copy(backend: str, demo_template: Path, tmp_path_factory) -> str:
    """A private copy of the demo registry on ``backend`` (sqlite or postgresql), as a database URL."""
    if backend == "sqlite":
        target = tmp_path_factory.mktemp("opendata") / "demo.db"
        shutil.copy(demo_template, target)
        return f"sqlite:///{target}"
    template = conftest._pg_demo_template()
    name, url = pg.create_database(template=template)
    conftest._PG_STATE.setdefault("copies", []).append(name)  # dropped at the end of the session
    return url

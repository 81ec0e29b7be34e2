"""The design rules the layout promises: a pure domain, and no runtime use of the test oracle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "indikera"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_only_the_standard_library():
    for path in sorted((SRC / "domain").glob("*.py")):
        foreign = {n for n in _imports(path) if n not in sys.stdlib_module_names and n != "__future__"}
        assert not foreign, f"{path.name} imports {sorted(foreign)}: the domain must stay free of I/O and frameworks"


def test_domain_does_not_import_the_adapters():
    for path in sorted((SRC / "domain").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                raise AssertionError(f"{path.name} imports ..{node.module}: adapters depend on the domain, not the reverse")


def test_product_code_never_reads_the_test_oracle():
    offenders = [p for p in SRC.rglob("*.py") if "../shared" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders

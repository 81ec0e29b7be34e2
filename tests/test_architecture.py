"""The design rules the layout promises: a pure domain, an import graph without cycles, HTTP code that never
imports the command line, and no runtime use of the test oracle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.support import imports

SRC = Path(__file__).resolve().parents[1] / "src" / "indikera"


def _imports(path: Path) -> set[str]:
    tree = imports.parse(path)
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
        tree = imports.parse(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                raise AssertionError(f"{path.name} imports ..{node.module}: adapters depend on the domain, not the reverse")


def test_product_code_never_reads_the_test_oracle():
    offenders = [p for p in SRC.rglob("*.py") if "../shared" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


# The RIVTA literals that must have one definition (src/indikera/rivta.py, below every package so access/,
# contracts/, platform/, web/ and conformance/ can all import it); docstrings and comments may mention them,
# code must import the constant.
RIVTA_MODULE = SRC / "rivta.py"
RIVTA_LITERALS = (
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2005/08/addressing",
    "urn:riv:itintegration:registry:1",
    "urn:riv:followup:groupoutcomes:qualityreporting",
    "urn:riv:itintegration:monitoring:PingForConfigurationResponder",
    "x-skltp-correlation-id",
    "x-skltp-prt",
    "x-rivta-original-serviceconsumer-hsaid",
    "x-rivta-serviceconsumer-hsaid",
    "x-rivta-routing-history",
    "x-vp-sender-id",
    "x-vp-instance-id",
    "x-vp-auth-cert",
    "/GetQualityIndicators/2/rivtabp21",
    "/PingForConfiguration/1/rivtabp21",
)


def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants in code, without docstrings (modules, classes, functions)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [n for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def rivta_literal_offenders(root: Path = SRC) -> list[str]:
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path == RIVTA_MODULE:
            continue
        for node in _code_strings(imports.parse(path)):
            for literal in RIVTA_LITERALS:
                if literal.lower() in node.value.lower():
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}: {literal}")
    return offenders


def test_rivta_constants_are_defined_once():
    offenders = rivta_literal_offenders()
    assert not offenders, "import these from indikera.rivta instead:\n" + "\n".join(offenders)


def test_the_rivta_literal_check_finds_a_copy(tmp_path):
    # The guard above must not pass vacuously: a copy in code is found, one in a docstring is not.
    (tmp_path / "copy.py").write_text('"""Mentions x-skltp-correlation-id."""\nHEADER = "X-SKLTP-Correlation-Id"\n'
                                      'NS = f"{{http://schemas.xmlsoap.org/soap/envelope/}}Body"\n', encoding="utf-8")
    found = rivta_literal_offenders(tmp_path)
    assert found == ["copy.py:2: x-skltp-correlation-id", "copy.py:3: http://schemas.xmlsoap.org/soap/envelope/"]


def test_the_rivta_module_imports_nothing_from_indikera():
    tree = ast.parse(RIVTA_MODULE.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module.split(".")[0] != "indikera", "rivta.py must stay import-free"
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] != "indikera" for a in node.names)


# ---------------------------------------------------------------- import graph: no cycles, routes never import CLI
# Intended direction: domain ← store ← ingest/catalog/publish/access ← contracts/opendata/web/platform/conformance
# ← app/cli. A cycle anywhere (between modules, or between packages such as indikera.access ↔ indikera.publish)
# means that direction is broken; imports inside functions count, they only hide the cycle.


def test_no_import_cycle_between_modules():
    graph = imports.module_graph(SRC)
    found = [imports.describe(graph, c) for c in imports.cycles(graph)]
    assert not found, "import cycles between modules:\n" + "\n".join(found)


def test_no_import_cycle_between_packages():
    graph = imports.package_graph(imports.module_graph(SRC))
    found = [imports.describe(graph, c) for c in imports.cycles(graph)]
    assert not found, "import cycles between packages (move the shared thing to the lower layer):\n" + "\n".join(found)


def test_the_cycle_check_finds_a_cycle_hidden_in_a_function(tmp_path):
    # The two checks above must not pass vacuously: a function-level import that closes a cycle is found.
    pkg = tmp_path / "demo"
    for sub in ("low", "high"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from ..high.b import g\n    return g\n")
    (pkg / "high" / "b.py").write_text("from ..low import a\n\ndef g():\n    return a\n")
    graph = imports.module_graph(pkg)
    assert imports.cycles(graph) == [["demo.high.b", "demo.low.a", "demo.high.b"]]
    assert imports.describe(graph, imports.cycles(graph)[0]) == (
        "demo.high.b → demo.low.a (demo/high/b.py:1) → demo.high.b (demo/low/a.py:2)")
    assert imports.cycles(imports.package_graph(graph)) == [["demo.high", "demo.low", "demo.high"]]


def test_no_http_module_imports_a_command_line_module():
    http = imports.imports_of_kind(SRC, ("fastapi", "starlette"))
    cli = imports.imports_of_kind(SRC, ("typer",))
    assert http and cli and not http & cli
    graph = imports.module_graph(SRC)
    offenders = [f"{m} imports {t} ({w})" for m in sorted(http) for t, w in graph[m].items() if t in cli]
    assert not offenders, "HTTP code must not depend on the command line:\n" + "\n".join(offenders)

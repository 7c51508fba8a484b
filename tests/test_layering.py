"""sparkish's modules import only downward, through the layers ARCHITECTURE.md describes.

The test reads every module's AST (no import runs): each module belongs to one layer, every
import goes to the same or a lower layer, the import graph has no cycle, code that runs in worker
processes never imports the driver side (not even for type hints), and no module imports one of
sparkish's own modules inside a function.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sparkish"

#: Top to bottom. A module may import modules of its own layer or of the layers below it.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "api",
        [
            "sparkish",
            "sparkish.context",
            "sparkish.conf",
            "sparkish.rdd",
            "sparkish.rdd.core",
            "sparkish.rdd.checkpoints",
            "sparkish.rdd.narrow",
            "sparkish.rdd.actions",
            "sparkish.rdd.pairs",
            "sparkish.rdd.barrier",
            "sparkish.rdd.interop",
            "sparkish.sources",
            "sparkish.status",
            "sparkish.submit",
            "sparkish.util",
            "sparkish.sql",
            "sparkish.sql.*",
            "sparkish.compat",
            "sparkish._pyspark_shim",
            "sparkish._pyspark_shim.*",
        ],
    ),
    ("planning", ["sparkish.rdd.kinds"]),
    (
        "execution",
        [
            "sparkish.execution",
            "sparkish.execution.*",
            "sparkish.monitoring.driver",
            "sparkish.monitoring.jobs_page",
            "sparkish.monitoring.progress",
            "sparkish.monitoring.scheduler_plugin",
            "sparkish.monitoring.setup",
            "sparkish.monitoring.stages",
        ],
    ),
    (
        "worker",
        [
            "sparkish.worker",
            "sparkish.worker.*",
            "sparkish.taskcontext",
            "sparkish.broadcast",
            "sparkish.accumulators",
            "sparkish.files",
        ],
    ),
    (
        "transport",
        [
            "sparkish._dask_compat",
            "sparkish.shuffle",
            "sparkish.shuffle.*",
            "sparkish.serialization",
            "sparkish.columnar",
            "sparkish.storage",
            "sparkish.io",
            "sparkish.io.*",
        ],
    ),
    (
        "foundation",
        [
            "sparkish._version",
            "sparkish.callsite",
            "sparkish.errors",
            "sparkish.monitoring",
            "sparkish.monitoring.catalog",
            "sparkish.monitoring.task_metrics",
            "sparkish.monitoring.worker_metrics",
            "sparkish.partitioner",
            "sparkish.resultiterable",
            "sparkish.row",
            "sparkish.serializers",
            "sparkish.settings",
            "sparkish.statcounter",
            "sparkish.storagelevel",
            "sparkish.validation",
        ],
    ),
]

DRIVER_LAYERS = {"api", "planning", "execution"}

#: Imports of sparkish's own modules inside function bodies that are allowed, with the reason.
ALLOWED_FUNCTION_IMPORTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    type_only: bool
    in_function: bool


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve(importer: str, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = importer.split(".")
    if not _is_package(importer):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(importer: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The sparkish modules an import statement loads, parent packages included."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _resolve(importer, node.level, node.module)
        submodules = [f"{base}.{alias.name}" for alias in node.names]
        names = [name for name in submodules if name in MODULES] or [base]
    found = set()
    for name in names:
        module = _known(name)
        while module and module.startswith("sparkish"):
            if module != importer and not importer.startswith(module + "."):
                found.add(module)
            module = module.rpartition(".")[0]
    return found - {"sparkish"} if importer != "sparkish" else found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in sorted(_targets(module, child)):
                    found.append(Import(module, target, child.lineno, type_only, in_function))
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for statement in child.body:
                    visit(ast.Module(body=[statement], type_ignores=[]), True, in_function)
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]), type_only, in_function)
            else:
                function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                visit(child, type_only, in_function or function)

    visit(tree, False, False)
    return found


IMPORTS = [edge for module in MODULES for edge in _imports_of(module)]


def layer_of(module: str) -> str:
    for layer, patterns in LAYERS:
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return layer
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS (and ARCHITECTURE.md)")


def _rank(module: str) -> int:
    names = [layer for layer, _ in LAYERS]
    return names.index(layer_of(module))


def _describe(edge: Import) -> str:
    kind = "type-only import" if edge.type_only else "import"
    return (
        f"{edge.importer} ({layer_of(edge.importer)}) line {edge.line}: {kind} of "
        f"{edge.imported} ({layer_of(edge.imported)})"
    )


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        layer_of(module)


def test_runtime_imports_go_downward():
    upward = [
        _describe(edge)
        for edge in IMPORTS
        if not edge.type_only and _rank(edge.imported) < _rank(edge.importer)
    ]
    assert upward == []


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for successor in sorted(edges.get(node, ())):
            if state.get(successor) == 1:
                return stack[stack.index(successor) :] + [successor]
            if successor not in state:
                found = visit(successor)
                if found:
                    return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle_at_run_time():
    edges: dict[str, set[str]] = {}
    for edge in IMPORTS:
        if not edge.type_only:
            edges.setdefault(edge.importer, set()).add(edge.imported)
    assert _cycle(edges) is None


def test_worker_side_code_never_imports_the_driver_side():
    reaching = [
        _describe(edge)
        for edge in IMPORTS
        if layer_of(edge.importer) not in DRIVER_LAYERS and layer_of(edge.imported) in DRIVER_LAYERS
    ]
    assert reaching == []


def test_no_package_import_inside_a_function():
    inside = {
        (edge.importer, edge.imported): _describe(edge) for edge in IMPORTS if edge.in_function
    }
    unexplained = [text for key, text in inside.items() if key not in ALLOWED_FUNCTION_IMPORTS]
    assert unexplained == []
    assert len(ALLOWED_FUNCTION_IMPORTS) <= 3


def test_the_layer_rules_see_a_planted_violation(tmp_path):
    """The checks are not vacuous: a worker module importing the context is caught."""
    planted = Import("sparkish.worker.task", "sparkish.context", 1, False, False)
    assert _rank(planted.imported) < _rank(planted.importer)
    assert layer_of(planted.importer) not in DRIVER_LAYERS
    assert layer_of(planted.imported) in DRIVER_LAYERS
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


ENTRY_MODULES = ["sparkish.rdd", "sparkish.shuffle", "sparkish.io"]


@pytest.mark.parametrize(
    "order", list(itertools.permutations(ENTRY_MODULES)), ids=lambda order: ",".join(order)
)
def test_modules_import_in_any_order(order):
    statements = "; ".join(f"import {module}" for module in order)
    result = subprocess.run(
        [sys.executable, "-c", statements],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_pyspark_names_are_where_pyspark_users_look():
    from sparkish.context import SparkContext
    from sparkish.rdd import RDD, Partitioner, portable_hash

    assert SparkContext.__name__ == "SparkContext"
    assert RDD.__module__ == "sparkish.rdd"
    assert Partitioner(2, portable_hash)("a") in (0, 1)

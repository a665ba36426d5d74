"""Imports flow one way between copsim's packages, and no module imports itself back.

The layers, lowest first (README, Files): the foundation (``copsim.errors``, ``copsim.resources``,
``copsim.dtypes``, ``copsim.version``, ``copsim.outputs``) <- ``copsim.scenario`` <-
``copsim.engine`` <- ``copsim`` (the package's public names) <- ``copsim.studies`` and
the Python API (``copsim.api``, ``copsim.ema``) <-
``copsim.viz`` <- ``copsim.workshop`` <- ``copsim.cli``. A module may import from its own
layer or a lower one. Every import statement counts, wherever it is: at the top, inside
a function, or under ``TYPE_CHECKING`` (a type-only import still ties the modules
together; a ``Protocol`` in the lower module describes the shape it needs).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS = (
    ("copsim.errors", "copsim.dtypes", "copsim.version", "copsim.resources", "copsim.outputs"),
    ("copsim.scenario",),
    ("copsim.engine",),
    ("copsim",),
    ("copsim.studies", "copsim.api", "copsim.ema"),
    ("copsim.viz",),
    ("copsim.workshop",),
    ("copsim.cli",),
)
ENGINE = "copsim.engine"
ROOT = "copsim"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / "copsim").rglob("*.py"))}


def layer(module: str) -> int:
    """The index in LAYERS of the module or its package (``copsim`` is the root module only)."""
    for i, names in enumerate(LAYERS):
        if any(module == name or (name != ROOT and module.startswith(name + "."))
               for name in names):
            return i
    raise AssertionError(f"{module} is in no layer: add it or its package to LAYERS")


def imported(module: str, tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every copsim module the tree imports, with the line: ``from P import n`` means
    the submodule ``P.n`` when there is one, else the module ``P`` itself."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno


def import_graph() -> nx.DiGraph:
    """Modules of src/copsim and the imports between them (edge data: the line)."""
    graph = nx.DiGraph()
    for module, path in MODULES.items():
        graph.add_node(module)
        for target, line in imported(module, ast.parse(path.read_text(encoding="utf-8"))):
            if target in MODULES and target != module:
                graph.add_edge(module, target, line=line)
    return graph


GRAPH = import_graph()


def cycles(inside_engine: bool) -> list[list[str]]:
    """Import cycles whose modules are all in copsim.engine, or the others."""
    found = []
    for component in nx.strongly_connected_components(GRAPH):
        if len(component) > 1:
            in_engine = all(layer(m) == layer(ENGINE) for m in component)
            if in_engine == inside_engine:
                found.append(sorted(component))
    return sorted(found)


def test_the_graph_sees_every_kind_of_import() -> None:
    """The parser counts function-level and TYPE_CHECKING imports (else the tests below
    would pass vacuously)."""
    assert GRAPH.has_edge("copsim.cli.run", "copsim.engine.runner")  # inside a function
    assert GRAPH.has_edge("copsim", "copsim.engine.model")  # under TYPE_CHECKING
    assert GRAPH.has_edge("copsim.cli", "copsim.cli.validate")  # from package import module
    assert layer("copsim.outputs.files") == 0 and layer("copsim") == 3
    with pytest.raises(AssertionError, match="in no layer"):
        layer("copsim.unlisted")


def test_imports_flow_down_the_layers_only() -> None:
    upward = [f"{MODULES[a].relative_to(SRC)}:{GRAPH.edges[a, b]['line']}: {a} imports {b}"
              for a, b in GRAPH.edges if layer(b) > layer(a)]
    assert not upward, "imports against the layer order:\n" + "\n".join(sorted(upward))


def test_no_import_cycles_between_modules() -> None:
    assert not cycles(inside_engine=False)


def test_no_import_cycles_inside_the_engine() -> None:
    assert not cycles(inside_engine=True)

"""The package's layers, as docs/architecture.md draws them: a module imports only from its own layer or
those below it, and no import cycle exists, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import filmscore

ROOT = Path(filmscore.__file__).parent
# Bottom to top. The package root (the front door, re-exporting the API) and `python -m filmscore` sit above
# them all, so no module imports the package root.
LAYERS = (
    "core",
    "config",
    "store",
    "media",
    "analysis",
    "music",
    "delivery",
    "scoring",
    "report",
    "batch",
    "api",
    "cli",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def layer(module: str) -> int:
    """The index in LAYERS for a stage package, len(LAYERS) for the package root and __main__."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return len(LAYERS)
    return LAYERS.index(parts[1])


def imports(module: str) -> set[str]:
    """The filmscore modules `module` imports anywhere in its code: `from X import name` counts as X.name
    where that is a module, else as X."""
    tree = ast.parse(MODULES[module].read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "filmscore"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "filmscore":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return found - {module}


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_sits_in_a_layer_and_every_package_says_what_it_owns():
    for module in MODULES:
        layer(module)  # raises for a module outside the layers
    for name in LAYERS:
        docstring = ast.get_docstring(ast.parse((ROOT / name / "__init__.py").read_text()))
        assert docstring, f"filmscore/{name}/__init__.py says nothing of what it owns"


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a module from a higher layer, as "importer imports imported"."""
    return sorted(
        f"{module} imports {target}" for module, targets in graph.items() for target in targets
        if layer(target) > layer(module)
    )  # fmt: skip


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in list(graph):
        if module not in index:
            visit(module)
    return found


def test_imports_point_down_the_layers_only():
    assert upward(GRAPH) == []


def test_no_import_cycles():
    assert cycles(GRAPH) == []


def test_the_checks_catch_an_upward_import_and_a_cycle_and_see_imports_inside_functions():
    toy = {
        "filmscore.core.errors": {"filmscore.music.planning"},  # core reaching up into music
        "filmscore.music.planning": {"filmscore.music.mer"},
        "filmscore.music.mer": {"filmscore.music.planning"},  # a cycle within a layer
    }
    assert upward(toy) == ["filmscore.core.errors imports filmscore.music.planning"]
    assert cycles(toy) == [["filmscore.music.mer", "filmscore.music.planning"]]
    # The CLI's commands import the API inside their functions, and those imports count.
    assert "filmscore.api" in GRAPH["filmscore.cli.commands.run"]
    assert "filmscore.scoring.run" in GRAPH["filmscore.api"]

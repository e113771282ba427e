"""Imports run one way: cli -> experiments -> {learning -> network; criticality; information;
energy} -> data -> errors, and no module imports itself back through others.

Reads every module of ``src/infodyn`` with the standard library's ``ast`` (no import is run), so
imports inside functions count as much as those at the top. In the library packages and the root
modules, imports sit at the top of the module, except those of the modules in ``LAZY`` (optional
dependencies, and a few that must or should load only when used; see docs/architecture.md,
"Imports").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "infodyn"

# What each part of the package may import besides itself. The root package (__init__) loads the
# subpackages lazily for users and may name any of them.
BOTTOM = {"errors", "memory", "_version", "progress", "atomic"}
ALLOWED: dict[str, set[str]] = {
    "__main__": {"cli"},  # ``python -m infodyn``: the command line, run, never imported
    "errors": set(),
    "_version": set(),
    "memory": {"errors"},
    "atomic": {"errors"},
    "progress": set(),
    "data": BOTTOM,
    "plotting": BOTTOM,
    "network": BOTTOM | {"data"},
    "criticality": BOTTOM | {"data", "plotting"},
    "information": BOTTOM | {"data"},
    "energy": BOTTOM | {"data"},
    "learning": BOTTOM | {"data", "network"},
    "experiments": BOTTOM
    | {"data", "plotting", "network", "learning", "criticality", "information", "energy"},
    "cli": BOTTOM
    | {
        "data",
        "plotting",
        "network",
        "learning",
        "criticality",
        "information",
        "energy",
        "experiments",
    },
}


# Parts of the package whose modules import at the top only (the library and the root modules).
TOP_ONLY = {
    "<root>",
    "errors",
    "_version",
    "memory",
    "atomic",
    "progress",
    "plotting",
    "data",
    "network",
    "learning",
    "criticality",
    "information",
    "energy",
}
# Modules that a function of those parts may import where it needs them.
LAZY = {
    # optional dependencies (pyproject's extras nwb, neo, pynapple, bench, docs) and Dask
    # (the sweep runner's cluster; no library module uses it)
    "pynwb",
    "neo",
    "pynapple",
    "torch",
    "snntorch",
    "hoi",
    "mkdocs",
    "dask",
    "distributed",
    "psutil",  # distributed's dependency: read inside a Dask worker only (infodyn.memory)
    # pyplot fixes matplotlib's backend when imported: infodyn.plotting.pyplot() chooses Agg first
    "matplotlib.pyplot",
    # fallbacks for built-in images whose files are not where expected; importing
    # sklearn.datasets costs seconds (data/image_files.py reads the files directly)
    "skimage.data",
    "sklearn.datasets",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """``(module, line)`` for each infodyn module ``name`` imports (a ``from m import x`` where
    ``m.x`` is a module counts as importing ``m.x``)."""
    is_pkg = path.name == "__init__.py"
    out = []
    for node in _walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("infodyn")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("infodyn"):
                continue
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES]
            if len(subs) < len(node.names):
                out.append((mod, node.lineno))
            out += [(s, node.lineno) for s in subs]
    return out


def _walk(node: ast.AST):
    """``ast.walk`` that skips ``if TYPE_CHECKING:`` blocks (never run)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)):
            yield from _walk(child)


def _function_imports(path: Path) -> list[tuple[str, int]]:
    """``(module, line)`` for each import inside a function of the module at ``path``."""
    out = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if in_function and isinstance(child, ast.Import):
                out.extend((a.name, child.lineno) for a in child.names)
            elif in_function and isinstance(child, ast.ImportFrom):
                out.append(("." * child.level + (child.module or ""), child.lineno))
            inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, in_function or inner)

    visit(ast.parse(path.read_text(), str(path)), False)
    return out


def _lazy_allowed(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in LAZY)


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_every_part_of_the_package_has_a_place_in_the_order():
    parts = {_part(m) for m in MODULES} - {"<root>"}
    assert parts <= set(ALLOWED), f"place {sorted(parts - set(ALLOWED))} in ALLOWED"


def test_imports_run_one_way():
    bad = []
    for name, imports in GRAPH.items():
        src = _part(name)
        if src == "<root>":
            continue
        for target, line in imports:
            dst = _part(target)
            if dst != src and dst not in ALLOWED[src]:
                bad.append(f"{MODULES[name].relative_to(SRC.parent)}:{line}: {src} imports {dst}")
    assert not bad, (
        "imports against cli -> experiments -> {learning -> network; criticality; "
        "information; energy} -> data -> errors:\n" + "\n".join(bad)
    )


def test_no_library_module_imports_the_package_root():
    bad = [
        f"{MODULES[name].relative_to(SRC.parent)}:{line}"
        for name, imports in GRAPH.items()
        if name != "infodyn"
        for target, line in imports
        if target == "infodyn"
    ]
    assert not bad, (
        "`import infodyn` inside the library (import the module you need):\n" + "\n".join(bad)
    )


def test_library_imports_sit_at_the_top():
    bad = [
        f"{path.relative_to(SRC.parent)}:{line}: import {module}"
        for name, path in MODULES.items()
        if _part(name) in TOP_ONLY
        for module, line in _function_imports(path)
        if not _lazy_allowed(module)
    ]
    assert not bad, (
        "imports inside functions (move them to the top of the module; only the modules in "
        "LAZY may load where used):\n" + "\n".join(bad)
    )


def _cycle() -> list[str] | None:
    """One import cycle among the modules, if any (depth-first search)."""
    edges = {
        n: sorted({t for t, _ in imps if t in MODULES and t != n}) for n, imps in GRAPH.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for t in edges[n]:
            if state.get(t) == 1:
                return stack[stack.index(t) :] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in edges:
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_cycles():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from infodyn.experiments import pipeline\n", "experiments"),
        ("import infodyn.cli.app\n", "cli"),
    ],
)
def test_the_checker_sees_a_wrong_way_import(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    ((target, _),) = _imports("infodyn.data.m", path)
    assert _part(target) == expected and expected not in ALLOWED["data"]


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import numpy\n"
        "def f():\n"
        "    import scipy.special\n"
        "    import pynwb\n"
        "    class A:\n"
        "        def g(self):\n"
        "            from infodyn.errors import InputError\n"
    )
    found = _function_imports(path)
    assert found == [("scipy.special", 3), ("pynwb", 4), ("infodyn.errors", 7)]
    assert [m for m, _ in found if not _lazy_allowed(m)] == ["scipy.special", "infodyn.errors"]

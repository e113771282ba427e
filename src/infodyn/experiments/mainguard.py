"""Refuse, in one line, to start worker processes from a script without a main guard.

A local Dask cluster starts its workers with the ``spawn`` method: each worker imports the
script that started it again (as ``__mp_main__``). When that script calls
:func:`~infodyn.experiments.sweep.run_sweep` at its top level instead of under
``if __name__ == "__main__":``, every worker would start a sweep of its own, and Python stops
them with pages of ``RuntimeError`` tracebacks about the "bootstrapping phase". The check here
reads the script (its syntax tree) before any worker starts and names the line to move.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from infodyn.errors import InputError


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either order of the comparison)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    names = {p.id for p in parts if isinstance(p, ast.Name)}
    consts = {p.value for p in parts if isinstance(p, ast.Constant)}
    return "__name__" in names and "__main__" in consts


def _unguarded_calls(tree: ast.Module, names: set[str]) -> list[int]:
    """Line numbers of top-level calls of ``names`` (plain or as an attribute) outside a guard."""
    lines = []
    for node in tree.body:
        if _is_main_guard(node) or isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                f = sub.func
                called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                if called in names:
                    lines.append(sub.lineno)
    return lines


def require_main_guard(names: tuple[str, ...] = ("run_sweep",)) -> None:
    """Raise :class:`InputError` when the running script calls ``names`` at its top level."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or not str(path).endswith(".py"):
        return  # interactive, ``python -c``, a notebook or a console script: nothing to re-import
    try:
        tree = ast.parse(Path(path).read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return
    lines = _unguarded_calls(tree, set(names))
    if lines:
        raise InputError(
            f"{path}:{lines[0]}: {names[0]}() is called at the top level of the script; its Dask "
            "workers re-import the script and would start sweeps of their own. Put the call "
            'under `if __name__ == "__main__":` (see docs/reliability.md)'
        )

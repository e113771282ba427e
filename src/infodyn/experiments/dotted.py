"""Dotted keys into nested tables: ``"network.k_in"`` is ``data["network"]["k_in"]``, as in
``--grid network.k_in=50,100`` and the command-line options that override a config."""

from __future__ import annotations

from typing import Any

from infodyn.errors import InputError


def set_dotted(data: dict[str, Any], key: str, value: Any, source: str = "--grid") -> None:
    """Set ``data["a"]["b"] = value`` for ``key="a.b"``, creating tables as needed; a step
    that is not a table is refused, named with ``source`` (the option that gave the key)."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InputError(f"{source} {key!r}: {'.'.join(parts[: i + 1])!r} is not a table")
        node = child
    node[parts[-1]] = value


def get_dotted(data: dict[str, Any], key: str) -> Any:
    """``data["a"]["b"]`` for ``key = "a.b"``; a missing step raises ``KeyError(key)``."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node

"""Configs written back as TOML (``infodyn config show``/``init``, the config reference): the
reverse of :mod:`tomllib`, for the JSON types a resolved config holds, with trailing comments."""

from __future__ import annotations

import json
import math
from typing import Any

from infodyn.errors import InputError


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise InputError(f"cannot write a {type(value).__name__} value to TOML")


def _toml_key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def to_toml(data: dict[str, Any], comments: dict[str, str] | None = None) -> str:
    """Write a nested dict as TOML; ``comments`` maps dotted keys to trailing comments.

    ``None`` values (unset optional settings) become commented-out lines, since TOML has no null.
    """
    comments = comments or {}
    lines: list[str] = []

    def emit(table: dict[str, Any], path: tuple[str, ...]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict) or not v}
        tables = {k: v for k, v in table.items() if isinstance(v, dict) and v}
        if path and (scalars or not tables):
            if lines:
                lines.append("")
            lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
        for key, value in scalars.items():
            dotted = ".".join((*path, key))
            note = comments.get(dotted)
            if value is None:
                line = f"# {_toml_key(key)} = (unset)"
            else:
                line = f"{_toml_key(key)} = {_toml_value(value)}"
            lines.append(f"{line}  # {note}" if note else line)
        for key, value in tables.items():
            emit(value, (*path, key))

    emit(data, ())
    return "\n".join(lines) + "\n"

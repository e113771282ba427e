"""Config validation errors in one line: every bad key as ``[section.key] problem``, an
unknown key near a known one with the key it was probably meant to be."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError


def _known_keys(model: Any, path: tuple[Any, ...]) -> list[str]:
    """The keys of the table at ``path`` inside the pydantic ``model`` ([] where it is not a
    model's table: a free-form one, a list's item)."""
    for part in path:
        info = getattr(model, "model_fields", {}).get(part)
        model = getattr(info, "annotation", None)
    return list(getattr(model, "model_fields", {})) if isinstance(model, type) else []


def format_errors(exc: ValidationError, prefix: str = "", model: Any = None) -> str:
    """One line naming every bad key as ``[section.key] problem``; an unknown key near one of
    ``model``'s says which (``[input.n_step] unknown key (did you mean 'n_steps'?)``)."""
    parts = []
    for err in exc.errors():
        where = [str(p) for p in (*([prefix] if prefix else []), *err["loc"])]
        msg = err["msg"].removeprefix("Value error, ")
        if where[-1:] == ["[key]"] and len(where) >= 2:  # a table's key: [a.b.wrec.[key]]
            msg = f"key {where[-2]!r}: {msg}"
            where = where[:-2]
        loc = ".".join(where)
        if err["type"] == "extra_forbidden":
            known = _known_keys(model, err["loc"][:-1])
            close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
            msg = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
        elif err["type"] == "missing":
            msg = "required key is missing"
        parts.append(f"[{loc}] {msg}")
    return "; ".join(parts)

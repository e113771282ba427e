"""Config validation errors in one line: every bad key as ``[section.key] problem``, an
unknown key near a known one with the key it was probably meant to be."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import ValidationError


def _known_keys(model: Any, path: tuple[Any, ...]) -> list[str]:
    """The keys of the table at ``path`` inside the pydantic ``model`` ([] where it is not a
    model's table: a free-form one, a list's item)."""
    for part in path:
        info = getattr(model, "model_fields", {}).get(part)
        model = getattr(info, "annotation", None)
    return list(getattr(model, "model_fields", {})) if isinstance(model, type) else []


#: a union's member as pydantic names it in an error's location, in words
_MEMBER_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false"}
_MEMBER = re.compile(r"^(str|int|float|bool|(list|dict|tuple)\[.*\])$")


def _member_words(tag: str) -> str:
    """``'list[int]'`` -> ``'a list of int'``; ``'str'`` -> ``'text'``."""
    if tag in _MEMBER_WORDS:
        return _MEMBER_WORDS[tag]
    outer, _, inner = tag.partition("[")
    return f"a {outer} of {inner.removesuffix(']')}"


def _merge_union_members(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A value that fits no member of a union gave one error per member, located at the
    member's type (``[units.list[int]] Input should be a valid list; [units.str] ...``). Where
    the value has a member's shape (a list whose item is bad), that member's errors alone,
    without the type in their key; else one error at the key naming what it may be."""
    groups: dict[tuple[Any, ...], list[tuple[str, tuple[Any, ...], dict[str, Any]]]] = {}
    order: list[Any] = []  # plain errors, and the keys of the unions in their first place
    for err in errors:
        loc = err["loc"]
        at = next((k for k, p in enumerate(loc) if isinstance(p, str) and _MEMBER.match(p)), None)
        if at is None:
            order.append(err)
            continue
        if loc[:at] not in groups:
            groups[loc[:at]] = []
            order.append(loc[:at])
        groups[loc[:at]].append((loc[at], loc[at + 1 :], err))
    merged: list[dict[str, Any]] = []
    for item in order:
        if isinstance(item, dict):
            merged.append(item)
            continue
        members = groups[item]
        deeper = [{**err, "loc": item + rest} for _, rest, err in members if rest]
        if deeper:
            merged.extend(deeper)
            continue
        given = members[0][2].get("input")
        words = " or ".join(_member_words(tag) for tag, _, _ in members)
        merged.append({"type": "union", "loc": item, "msg": f"got {given!r}: must be {words}"})
    return merged


def format_errors(exc: ValidationError, prefix: str = "", model: Any = None) -> str:
    """One line naming every bad key as ``[section.key] problem``; an unknown key near one of
    ``model``'s says which (``[input.n_step] unknown key (did you mean 'n_steps'?)``)."""
    parts = []
    for err in _merge_union_members(exc.errors()):
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

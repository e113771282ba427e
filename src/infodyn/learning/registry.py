"""The loss kinds a config may name, and :func:`build_loss`, which builds a loss from them.

A registry of its own so that :mod:`infodyn.learning.losses` and
:mod:`infodyn.learning.info_objectives` (whose terms are built on the losses) need not import
each other.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from infodyn.errors import InputError, check_option_type
from infodyn.learning.info_objectives import InfoMaxBound, TotalCorrelationPenalty
from infodyn.learning.losses import NAMED, CompositeLoss, LossTerm

#: loss kinds registered by users (:func:`register_loss_kind`)
_REGISTERED: dict[str, type[LossTerm]] = {}


def config_kinds() -> dict[str, type[LossTerm]]:
    """Loss kinds a config can name: :data:`NAMED` plus the information objectives that need no
    per-batch labels, ``infomax`` (:class:`~infodyn.learning.info_objectives.InfoMaxBound`, with
    a task whose target is a one-hot response window, e.g. evidence accumulation) and
    ``total_correlation`` (:class:`~infodyn.learning.info_objectives.TotalCorrelationPenalty`),
    and those registered by :func:`register_loss_kind`."""
    built_in = {**NAMED, "infomax": InfoMaxBound, "total_correlation": TotalCorrelationPenalty}
    return {**built_in, **_REGISTERED}


def register_loss_kind(kind: str, term: type[LossTerm]) -> type[LossTerm]:
    """Let configs name ``term`` (a :class:`LossTerm` dataclass; its fields are the table's
    keys besides ``kind`` and ``weight``) as ``[[loss]] kind = "<kind>"``. For the ``infodyn``
    command and sweep workers, register it in a plugin (:mod:`infodyn.experiments.plugins`):
    a kind added in a script is unknown to worker processes. A built-in kind's name is refused;
    registering the same class again is harmless."""
    if not (isinstance(kind, str) and kind.isidentifier()):
        raise InputError(f"a loss kind must be a word such as 'my_rate', got {kind!r:.40}")
    if not (isinstance(term, type) and issubclass(term, LossTerm)):
        raise InputError(f"loss kind {kind!r}: {term!r:.60} is not a LossTerm class")
    if not dataclasses.is_dataclass(term):
        raise InputError(f"loss kind {kind!r}: {term.__name__} must be a dataclass")
    taken = config_kinds().get(kind)
    if taken is not None and taken is not term:
        raise InputError(
            f"loss kind {kind!r} is taken by {taken.__name__}; give yours another name"
        )
    _REGISTERED[kind] = term
    return term


def build_loss(entries: list[dict[str, Any]]) -> CompositeLoss:
    """Build a loss from config entries, e.g. ``{"kind": "unit_rate", "weight": 0.1, "r0_hz": 5}``
    (kinds: :func:`config_kinds`).
    """
    kinds = config_kinds()
    if isinstance(entries, str | dict) or not isinstance(entries, list | tuple):
        raise InputError(  # "unit_rate" and None were raw ValueError and TypeError
            "the loss must be a list of tables such as [{'kind': 'unit_rate', 'weight': 0.1}], "
            f"got {entries!r}"
        )
    terms = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise InputError(f"each loss term must be a table with a 'kind', got {entry!r}")
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if kind not in kinds:
            raise InputError(f"loss kind must be one of {sorted(kinds)}, got {kind!r}")
        cls = kinds[kind]
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = set(entry) - set(types)
        if unknown:
            raise InputError(f"loss {kind!r} has no option {sorted(unknown)[0]!r}")
        for key, value in entry.items():  # "text" or nan failed inside JAX, unnamed
            check_option_type(f"[[loss]] {kind}.{key}", value, types[key])
        terms.append(cls(**entry))
    if not terms:
        raise InputError("the loss needs at least one term")
    return CompositeLoss(tuple(terms))

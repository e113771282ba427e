"""The registry of commands that run from a TOML config into a run directory: what ``infodyn
sweep --command`` and ``infodyn config show``/``init`` know (:mod:`infodyn.experiments.config`
registers the built-in ones; a plugin adds its own, :mod:`infodyn.experiments.plugins`)."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from infodyn.errors import InputError


def _import(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"cannot import {module!r} ({exc})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class CommandSpec:
    """A command that runs from a TOML config into a run directory.

    ``config`` and ``run`` are ``"module:attribute"`` references (imported lazily, so the spec is
    cheap to pickle to Dask workers): the pydantic config model and ``run(cfg, out) -> dict``.
    ``seed_keys`` are the dotted keys a sweep's ``--seeds N`` offsets by 0..N-1;
    ``summary_metric`` is the result a sweep plots; ``batch`` optionally names
    ``run_batch(cfgs, outs) -> list[dict]`` that runs several points at once (``vmap``): points
    whose configs give equal ``cfg.batch_signature()`` (a method of the command's config model,
    hashable; None: the point runs alone) share a batch (``simulate`` has its own rules).
    ``checkpoint`` names the file a resumable run leaves in its directory: when a sweep point is
    rerun after an interruption and that file exists, ``run(cfg, out, resume=True)`` continues it.
    """

    name: str
    config: str
    run: str
    seed_keys: tuple[str, ...] = ()
    summary_metric: str | None = None
    batch: str | None = None
    checkpoint: str | None = None
    #: values for the keys that have no default (``infodyn config init`` shows them), e.g.
    #: ``(("spikes", "spikes.h5"),)``
    required_example: tuple[tuple[str, Any], ...] = ()

    def config_model(self) -> type[BaseModel]:
        model = _import(self.config)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):  # a function named
            raise InputError(  # as the config was an AttributeError in every config show
                f"command {self.name!r}: config {self.config!r} is not a pydantic model class"
            )
        return model

    def runner(self) -> Any:
        return _import(self.run)

    def batch_runner(self) -> Any:
        return _import(self.batch) if self.batch else None


COMMANDS: dict[str, CommandSpec] = {}
#: the commands infodyn itself registers (a plugin may not replace them)
BUILT_IN = ("simulate", "train", "energy", "images", "channel")
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def register_command(spec: CommandSpec, replace: bool = False) -> CommandSpec:
    """Make ``spec`` available to ``infodyn config show`` and ``infodyn sweep`` (from a script,
    or from a plugin for the ``infodyn`` command, :mod:`infodyn.experiments.plugins`).

    The spec is checked: a name of letters, digits, ``_`` and ``-``; ``config``, ``run`` and
    ``batch`` as ``"module:attribute"``; ``seed_keys`` a tuple of dotted keys (a string was
    read a character at a time). Registering the same spec again is harmless; another spec
    under a registered name is refused unless ``replace=True``, and a built-in command's name
    always (a plugin replaced ``train`` unsaid)."""
    if not isinstance(spec, CommandSpec):
        raise InputError(f"register_command takes a CommandSpec, got {spec!r:.60}")
    if not (isinstance(spec.name, str) and re.fullmatch(r"[A-Za-z][\w-]*", spec.name)):
        raise InputError(f"a command's name must be a word such as 'mycmd', got {spec.name!r}")
    for field_name in ("config", "run", "batch"):
        value = getattr(spec, field_name)
        if field_name != "batch" or value is not None:
            if not (isinstance(value, str) and _REFERENCE.match(value)):
                raise InputError(
                    f"command {spec.name!r}: {field_name} must be a 'module:attribute' string, "
                    f"got {value!r:.60}"
                )
    keys = spec.seed_keys
    if not (isinstance(keys, tuple | list) and all(isinstance(k, str) and k for k in keys)):
        raise InputError(
            f"command {spec.name!r}: seed_keys must be a tuple of dotted keys such as "
            f"('simulation.seed',), got {keys!r:.60}"
        )
    old = COMMANDS.get(spec.name)
    if old is not None and old != spec:
        if spec.name in BUILT_IN:
            raise InputError(f"{spec.name!r} is a built-in command; give yours another name")
        if not replace:
            raise InputError(
                f"a command {spec.name!r} is registered already ({old.config}); give another "
                "name, or register_command(spec, replace=True)"
            )
    COMMANDS[spec.name] = spec
    return spec


def get_command(name: str) -> CommandSpec:
    """The registered :class:`CommandSpec` called ``name``; an unknown name is an ``InputError``
    that lists the registered ones (and says how a plugin registers one)."""
    from infodyn.experiments.plugins import load_plugins

    load_plugins()  # a plugin's commands (once a process)
    if name not in COMMANDS:
        raise InputError(
            f"unknown command {name!r}; choose one of {sorted(COMMANDS)} (a command of your own "
            "is registered by a plugin: INFODYN_PLUGINS=your.module, docs/scale.md#plugins)"
        )
    return COMMANDS[name]

"""Experiments: run directories, configs, sweeps and reports.

``RunDir`` is imported on first use, so that :mod:`infodyn.experiments.interrupt` (the command
line's first import) loads no NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from infodyn.experiments.rundir import RunDir

__all__ = ["RunDir"]


def __getattr__(name: str) -> Any:
    if name == "RunDir":  # on first use, as the root package's InputError
        return importlib.import_module("infodyn.experiments.rundir").RunDir
    raise AttributeError(f"module 'infodyn.experiments' has no attribute {name!r}")

"""infodyn: train spiking dynamical systems with local learning rules and measure what they encode.

The pipeline: stimulus -> spiking network -> learning -> analysis -> energy model -> generation.
Subpackages (and ``InputError``) are imported lazily so that ``import infodyn as idn`` stays fast
and loads no NumPy, and the command line starts quickly and can install its Ctrl-C handler
first; ``idn.network``, ``idn.learning``, ... load on first use.

"Seitz 2021" in the docstrings is the deck this library implements: C. Seitz, "Training a
dynamical system by using multivariate information" (slides, May 11, 2021).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from infodyn._version import __version__

_SUBPACKAGES = (
    "network",
    "learning",
    "criticality",
    "information",
    "energy",
    "data",
    "experiments",
)

__all__ = ["InputError", "__version__", *_SUBPACKAGES]

if TYPE_CHECKING:  # pragma: no cover
    from infodyn import (  # noqa: F401
        criticality,
        data,
        energy,
        experiments,
        information,
        learning,
        network,
    )
    from infodyn.errors import InputError


def __getattr__(name: str) -> Any:
    if name == "InputError":  # on first use, as the subpackages: infodyn.errors loads NumPy
        return importlib.import_module("infodyn.errors").InputError
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"infodyn.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'infodyn' has no attribute {name!r}")

"""Checks of what a simulation is given: the network, and its input as an array or a SciPy
sparse matrix (shared by :mod:`~infodyn.network.simulate`, :mod:`~infodyn.network.chunked`
and the learning rules)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from infodyn.errors import InputError, as_array, require_finite
from infodyn.memory import require_memory
from infodyn.network.engine_event import EXACT_INPUT_DTYPES


def check_sparse_input(net, x: Any):
    """Validate a SciPy sparse input ``x`` (T, n_in) and return it as a CSR array: as it is
    when its values are bool, uint8, float32 or float64 (the event engine reads them as they
    are, :data:`~infodyn.network.engine_event.EXACT_INPUT_DTYPES`), else as float64."""
    if x.ndim != 2:
        raise InputError(f"a sparse input x must be (T, n_in), got shape {x.shape}")
    if x.shape[1] != net.n_in:
        raise InputError(f"input x has {x.shape[1]} channels but the network has n_in={net.n_in}")
    if x.shape[0] == 0:
        raise InputError(f"input x is empty (shape {x.shape})")
    if x.dtype.kind not in "buif":  # complex: the cast below dropped the imaginary part
        raise InputError(f"input x must be numeric, got dtype {x.dtype}")
    if x.format != "csr" or x.dtype not in EXACT_INPUT_DTYPES:
        x = sp.csr_array(x, dtype=np.float64)
    require_finite("input x", x.data)
    return x


def require_network(net: Any) -> None:
    """Refuse what is not an infodyn network (a :class:`~infodyn.network.LIF` or ALIF): a text
    or the params dict passed as ``net`` was an AttributeError deep inside a run."""
    if not all(hasattr(net, a) for a in ("validate_params", "n_rec", "n_in", "dt", "init")):
        raise InputError(f"net must be an infodyn network (LIF or ALIF), got {net!r:.60}")


def check_input(net, x: Any) -> tuple[np.ndarray, bool]:
    """Validate ``x`` and return it as (B, T, n_in) float64 with a flag for batched input."""
    x = as_array(x, "input x")
    if x.dtype == object or x.dtype.kind not in "biuf":
        raise InputError(f"input x must be numeric, got dtype {x.dtype}")
    batched, given = x.ndim == 3, x.shape  # messages name the shape given, not (1, T, n_in)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise InputError(f"input x must be (T, n_in) or (B, T, n_in), got shape {x.shape}")
    if x.shape[2] != net.n_in:
        raise InputError(f"input x has {x.shape[2]} channels but the network has n_in={net.n_in}")
    if x.shape[1] == 0 or x.shape[0] == 0:
        raise InputError(f"input x is empty (shape {given})")
    require_finite("input x", x)
    if x.dtype != np.float64:  # bool or uint8 spikes: 8 bytes an entry more
        require_memory(
            8 * x.size,
            f"a float64 copy of the input x {x.shape}",
            "fewer steps, trials or input channels",
        )
    return x.astype(np.float64, copy=False), batched

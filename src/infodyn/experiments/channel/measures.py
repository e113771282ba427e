"""Measures of held-out responses: rate, branching (multistep regression; Wilting &
Priesemann 2018, Nat. Commun. 9:2325), I(stimulus; response words) and total correlation
(:mod:`infodyn.information.responses`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.criticality import branching_ratio
from infodyn.data.notes import muted_warnings
from infodyn.information.responses import response_gaussian_tc, response_information

#: Old name of :func:`infodyn.information.response_gaussian_tc` (its ``eps`` is now ``ridge``).
gaussian_total_correlation = response_gaussian_tc


def network_measures(
    z: np.ndarray,
    labels: np.ndarray,
    dt: float,
    start: int,
    info_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Rate, branching (MR), information and total correlation of held-out responses."""
    z = np.asarray(z)
    act = z[:, start:].sum(axis=2)
    with muted_warnings():
        br = branching_ratio(act, method="mr", dt=dt, n_boot=0)
        naive = branching_ratio(act, method="naive", dt=dt, n_boot=0)
    out = {
        "rate_hz": float(z[:, start:].mean() * 1000.0 / dt),
        "m": float(br.m),
        "tau_ms": float(br.tau),
        "m_naive": float(naive.m),
        "branching_meaningful": bool(br.meaningful),
        "fraction_silent": float(np.mean(z[:, start:].sum(axis=(0, 1)) == 0)),
        "tc_gauss_bits": response_gaussian_tc(z, start),
    }
    out.update(response_information(z, labels, start=start, **(info_options or {})))
    return out

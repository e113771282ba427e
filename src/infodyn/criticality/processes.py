"""Reference processes with known branching ratio.

* **Driven branching process** (Zierenberg, Wilting & Priesemann 2018):
  ``A_{t+1} ~ Poisson(m A_t + h)``; stationary mean ``h/(1-m)``, Fano factor ``1/(1-m^2)``,
  autocorrelation ``m^k``. Observation by **binomial subsampling**: each event is seen with
  probability ``a``, ``a_t ~ Binomial(A_t, a)`` (Wilting & Priesemann 2018).
* **Galton-Watson avalanches**: one ancestor, each individual has ``Poisson(m)`` offspring;
  size = all individuals, duration = number of generations. At ``m = 1`` sizes follow the Borel
  law ``P(S=s) = e^-s s^(s-1) / s!`` (tail ``~ s^-3/2``) and durations ``P(D) ~ D^-2``.

The loops are compiled with Numba; the same seed gives the same result.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy import special

from infodyn.criticality._common import warn
from infodyn.criticality.avalanches import Avalanches
from infodyn.errors import (
    InputError,
    as_array,
    is_finite_number,
    require,
    require_flag,
    whole_number,
)
from infodyn.memory import require_memory

_MAX_ACTIVITY = 2.0**52  # beyond this, counts lose integer precision in float64
#: Numba's generator keeps a seed's low 32 bits: seeds k and k + 2^32 ran the same process
NUMBA_SEED_MAX = 2**32 - 1


@numba.njit(cache=True)
def _bp_kernel(m, h, T, trials, a, burn, start, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    full = np.empty((trials, T), dtype=np.int64)
    obs = np.empty((trials, T), dtype=np.int64)
    for i in range(trials):
        x = np.random.poisson(start) if start > 0 else 0
        for t in range(burn + T):
            lam = m * x + h
            if lam > _MAX_ACTIVITY:
                return full, obs, False
            x = np.random.poisson(lam) if lam > 0 else 0
            if t >= burn:
                full[i, t - burn] = x
                obs[i, t - burn] = np.random.binomial(x, a) if a < 1.0 else x
    return full, obs, True


def _check_m(m: float) -> None:
    """The branching ratio (offspring mean): a finite number in [0, 1e6] (10**30 overflowed
    the Poisson draw: "lambda < 0")."""
    require(
        is_finite_number(m) and 0 <= m <= 1e6, f"m must be a finite number in [0, 1e6], got {m}"
    )


def simulate_branching_process(
    m: float,
    h: float,
    T: int,
    trials: int = 1,
    subsample: float = 1.0,
    seed: int = 0,
    burn_in: int | None = None,
    return_full: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Simulate ``A_{t+1} ~ Poisson(m A_t + h)``; return the observed counts ``(trials, T)``.

    Parameters
    ----------
    m, h
        Branching ratio (``>= 0``) and mean external drive per step (``>= 0``).
    T, trials
        Steps per trial and number of independent trials.
    subsample
        Fraction ``a`` in (0, 1] of events observed (binomial thinning per step).
    seed
        Seed of the Numba random stream, a whole number in ``[0, 2^32)``.
    burn_in
        Steps discarded before recording. Default ``ceil(10 / (1 - m))`` for ``m < 1`` (ten
        autocorrelation times), starting from a Poisson draw at the stationary mean; 0 for
        ``m >= 1``, starting from zero.
    return_full
        Also return the full (unsubsampled) activity: ``(observed, full)``.
    """
    return_full = require_flag("return_full", return_full)
    _check_m(m)
    require(is_finite_number(h) and h >= 0, f"h must be a finite number >= 0, got {h}")
    T, trials = whole_number(T, "T", minimum=1), whole_number(trials, "trials", minimum=1)
    seed = whole_number(seed, "seed", maximum=NUMBA_SEED_MAX)
    require_memory(  # the observed and the full activity, int64 each
        16.0 * T * trials,
        f"a branching process of {T:,} steps x {trials:,} trials",
        "simulate fewer steps or trials",
    )
    require(
        is_finite_number(subsample) and 0 < subsample <= 1,
        f"subsample must lie in (0, 1], got {subsample!r}",
    )
    if burn_in is not None:  # int() cut 2.5 to 2 and read "3" as 3
        burn_in = whole_number(burn_in, "burn_in", maximum=2**31 - 1)
    if m < 1:
        start = h / (1 - m)
        burn = int(math.ceil(10.0 / (1.0 - m))) if burn_in is None else burn_in
    else:
        start = 0.0
        burn = 0 if burn_in is None else burn_in
        warn(f"m = {m} >= 1: the driven branching process has no stationary state")
    require(burn >= 0, "burn_in must be >= 0")
    if h == 0 and m < 1:
        warn("h = 0: without drive the process dies out and stays silent")
    full, obs, ok = _bp_kernel(
        float(m), float(h), int(T), int(trials), float(subsample), burn, float(start), int(seed)
    )
    if not ok:
        raise InputError(
            f"the activity exceeded 2^52 events per step (m={m}): the run explodes; use a "
            "smaller m or T"
        )
    return (obs, full) if return_full else obs


@numba.njit(cache=True)
def _gw_kernel(n, m, max_size, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    sizes = np.empty(n, dtype=np.int64)
    durations = np.empty(n, dtype=np.int64)
    truncated = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        current = 1
        size = 1
        dur = 1
        while True:
            current = np.random.poisson(m * current)
            if current == 0:
                break
            size += current
            dur += 1
            if size >= max_size:
                truncated[i] = True
                break
        sizes[i] = size
        durations[i] = dur
    return sizes, durations, truncated


def galton_watson_avalanches(n: int, m: float = 1.0, max_size: int = 10**7, seed: int = 0):
    """``n`` avalanches of a Poisson(``m``) Galton-Watson process started by one ancestor.

    Size = total number of individuals (ancestor included), duration = generations with at least
    one individual. Avalanches reaching ``max_size`` are stopped and flagged in
    ``.truncated`` (they are kept, with their size and duration at the stop, so the tail is
    censored, not dropped). Returns an :class:`~infodyn.criticality.avalanches.Avalanches`.
    """
    n = whole_number(n, "n", minimum=1)  # 1.5, '2' and a seed of -1 went in
    _check_m(m)
    max_size = whole_number(max_size, "max_size", minimum=2)
    seed = whole_number(seed, "seed", maximum=NUMBA_SEED_MAX)
    sizes, durations, truncated = _gw_kernel(n, float(m), max_size, seed)
    if m > 1:
        warn(f"m = {m} > 1: a fraction of avalanches never ends; they stop at max_size")
    return Avalanches(
        sizes=sizes,
        durations=durations,
        trials=np.zeros(n, dtype=np.int64),
        starts=np.zeros(n, dtype=np.int64),
        truncated=truncated,
        bin_ms=1.0,
    )


def borel_pmf(s, mu: float = 1.0) -> np.ndarray:
    """Borel law ``P(S=s) = e^(-mu s) (mu s)^(s-1) / s!``: total progeny of a Poisson(mu) tree
    (Borel 1942; at mu = 1 its tail falls as s^(-3/2), Otter 1949, Harris 1963).

    Computed as ``log P = s (1 - mu + log mu) - log mu - (3/2) log s - (1/2) log(2 pi) - r(s)``,
    Stirling's formula with its remainder ``r(s) = log Gamma(s) - (s - 1/2) log s + s -
    (1/2) log(2 pi)`` (DLMF 5.11.1: ``1/(12 s) - 1/(360 s^3) + 1/(1260 s^5) - 1/(1680 s^7)``
    from s = 10): the direct sum of terms of size s log s cancelled to nothing in float64 (1.0
    for ``s = 1e16``, where P is 4e-25)."""
    require(  # "3" was read as 3, True as 1
        is_finite_number(mu) and 0 < mu <= 1, f"borel_pmf needs 0 < mu <= 1, got mu={mu!r}"
    )
    s = as_array(s, "s")
    ok = s.dtype.kind in "iuf" and (s.dtype.kind != "f" or bool(np.all(np.isfinite(s))))
    s = s.astype(float) if ok else s
    if not ok or np.any(s < 1) or np.any(s != np.round(s)):
        raise InputError("borel_pmf needs sizes s that are whole numbers >= 1")
    mu = float(mu)
    return np.exp(
        s * (1.0 - mu + math.log(mu))
        - math.log(mu)
        - 1.5 * np.log(s)
        - _HALF_LOG_2PI
        - _stirling_remainder(s)
    )


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _stirling_remainder(s: np.ndarray) -> np.ndarray:
    """``log Gamma(s) - (s - 1/2) log s + s - (1/2) log(2 pi)`` for s >= 1 (DLMF 5.11.1); the
    series from s = 10, where its first omitted term is below 1e-12."""
    small = s < 10
    out = np.empty_like(s)
    q = s[small]
    out[small] = special.gammaln(q) - (q - 0.5) * np.log(q) + q - _HALF_LOG_2PI
    q = s[~small]
    inv2 = 1.0 / (q * q)
    out[~small] = (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680))) / q
    return out

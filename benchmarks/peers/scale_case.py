"""The network of the scale benchmark (``benchmarks/bench_scale.py``): built once, read by every
simulator. NumPy only, so that every peer venv can import it.

Model (the discrete map of :mod:`infodyn.network.model`, LIF units, no refractoriness)::

    v[t] = alpha v[t-1] + W_rec^T z[t-1] + W_in^T x[t] - v_th z[t-1],   z[t] = H(v[t] - v_th)

with ``alpha = exp(-dt / tau_m)``, dt = 1 ms, tau_m = 20 ms, v_th = 1, delta synapses with a
one-step delay and the subtractive reset. Connectivity as in Brunel (2000, J. Comput. Neurosci.
8:183, section 2 "The model"): ``N_E = 0.8 N`` excitatory and ``N_I = 0.2 N`` inhibitory units;
every unit receives exactly ``K_E = 0.8 K`` synapses from distinct excitatory units and
``K_I = K - K_E`` from distinct inhibitory units (fixed in-degree, no autapses, no multapses);
excitatory weights are ``J``, inhibitory ones ``-g J`` (Dale's law). Input: every unit has its
own Poisson input channel (Bernoulli per step with probability ``p_ext``, the binned Poisson
process) through one synapse of weight ``J_ext``, so ``W_in = J_ext I`` (n_in = N).

The case file (``.npz``) holds the recurrent synapses in the layout of
:class:`infodyn.network.SparseWeights` (CSR by presynaptic unit: ``values`` float32, ``indices``
int32 post ids ascending within a row, ``indptr`` int64), so infodyn reads it without a copy, and
the input spikes sparsely as ``in_t`` (step, int32) and ``in_u`` (unit, int32), sorted by step.
Weights are float32 numbers (other simulators read them as float64: the same values).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ScaleCase:
    """Parameters of one benchmark network (see the module docstring)."""

    n: int
    k: int
    j: float
    g: float
    j_ext: float
    p_ext: float
    n_steps: int = 10_000
    tau_m: float = 20.0
    dt: float = 1.0
    v_th: float = 1.0
    frac_exc: float = 0.8
    seed: int = 1
    regime: str = "custom"

    @property
    def alpha(self) -> float:
        return float(np.exp(-self.dt / self.tau_m))

    @property
    def n_exc(self) -> int:
        return int(round(self.frac_exc * self.n))

    @property
    def k_exc(self) -> int:
        return int(round(self.frac_exc * self.k))

    @property
    def nnz(self) -> int:
        return self.n * self.k

    def check(self) -> str | None:
        """Why this case cannot be built, or None."""
        if self.k_exc > self.n_exc - 1 or self.k - self.k_exc > self.n - self.n_exc - 1:
            return f"K = {self.k} needs more than N = {self.n} units (no autapses, no multapses)"
        return None


# Regime parameters at K = 100 and K = 1000, tuned with ``peers/run_scale_floor.py``'s reference
# loop at N = 10^4 (2 s runs). "ai": asynchronous irregular at about 5 Hz (inhibition-dominated,
# g > K_E / K_I = 4, fluctuation-driven: CV of the ISIs about 0.8, Fano factor below 1).
# "critical": weak drive and recurrent coupling strong enough that the network sits just below
# the onset of self-sustained activity (about 5 Hz with large population fluctuations: lag-1
# autocorrelation of the population count 0.8-0.97, CV > 1). "active": the AI network driven
# hard, about 10 % of the units active per step (the case of the JAX engine's timing). Other K
# use the K = 100 values with J scaled by sqrt(100 / K) (Brunel 2000, section 3).
REGIMES = {
    ("ai", 100): {"j": 0.05, "g": 8.0, "j_ext": 0.3, "p_ext": 0.1},
    ("ai", 1000): {"j": 0.016, "g": 6.0, "j_ext": 0.3, "p_ext": 0.15},
    ("critical", 100): {"j": 0.11, "g": 5.0, "j_ext": 0.5, "p_ext": 0.02},
    ("critical", 1000): {"j": 0.06, "g": 5.0, "j_ext": 0.5, "p_ext": 0.02},
    ("active", 100): {"j": 0.05, "g": 8.0, "j_ext": 1.1, "p_ext": 0.4},
}


def regime_case(regime: str, n: int, k: int, n_steps: int = 10_000, seed: int = 1) -> ScaleCase:
    """The :class:`ScaleCase` of a named regime at size (n, k)."""
    if (regime, k) in REGIMES:
        p = dict(REGIMES[regime, k])
    elif (regime, 100) in REGIMES:
        p = dict(REGIMES[regime, 100])
        p["j"] = p["j"] * float(np.sqrt(100.0 / k))
    else:
        raise ValueError(f"unknown regime {regime!r}")
    return ScaleCase(n=n, k=k, n_steps=n_steps, seed=seed, regime=regime, **p)


def _draw_distinct(rng: np.random.Generator, n_from: int, k: int, skip: int) -> np.ndarray:
    """``k`` distinct ids from ``range(n_from)`` without ``skip`` (-1: none), ascending."""
    if skip < 0:
        return np.sort(rng.choice(n_from, size=k, replace=False))
    ids = rng.choice(n_from - 1, size=k, replace=False)
    ids[ids >= skip] += 1
    return np.sort(ids)


def build_synapses(case: ScaleCase) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed in-degree E/I synapses as CSR by presynaptic unit: (values f32, indices i32,
    indptr i64); row i holds the synapses of unit i in ascending post order."""
    reason = case.check()
    if reason:
        raise ValueError(reason)
    rng = np.random.default_rng(case.seed)
    n, n_e, k_e = case.n, case.n_exc, case.k_exc
    k_i, n_i = case.k - k_e, case.n - n_e
    pre = np.empty((n, case.k), np.int32)  # pre[j]: the presynaptic units of j
    for j in range(n):
        pre[j, :k_e] = _draw_distinct(rng, n_e, k_e, j if j < n_e else -1)
        pre[j, k_e:] = n_e + _draw_distinct(rng, n_i, k_i, j - n_e if j >= n_e else -1)
    pre = pre.ravel()
    # stable sort by pre keeps the posts of each row ascending (they were generated in j order)
    order = np.argsort(pre, kind="stable")
    indices = (order // case.k).astype(np.int32)
    del order
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    del pre
    values = np.empty(indices.size, np.float32)
    j_exc, j_inh = np.float32(case.j), np.float32(-case.g * case.j)
    values[: indptr[n_e]] = j_exc
    values[indptr[n_e] :] = j_inh
    return values, indices, indptr


def draw_input(case: ScaleCase) -> tuple[np.ndarray, np.ndarray]:
    """Input spikes (step, unit), int32, sorted by step then unit; none at step 0 (so that a
    simulator that delivers spikes one step late can emit step t's input at step t-1)."""
    rng = np.random.default_rng(case.seed + 1)
    ts, us = [], []
    chunk = max(1, 20_000_000 // case.n)
    for t0 in range(1, case.n_steps, chunk):
        t1 = min(case.n_steps, t0 + chunk)
        t, u = np.nonzero(rng.random((t1 - t0, case.n), dtype=np.float32) < case.p_ext)
        ts.append((t + t0).astype(np.int32))
        us.append(u.astype(np.int32))
    return np.concatenate(ts), np.concatenate(us)


def write_case(case: ScaleCase, path: str) -> dict:
    """Build the network and input of ``case`` and save them to ``path`` (.npz)."""
    values, indices, indptr = build_synapses(case)
    in_t, in_u = draw_input(case)
    np.savez(
        path,
        values=values,
        indices=indices,
        indptr=indptr,
        in_t=in_t,
        in_u=in_u,
        j_ext=np.float32(case.j_ext),
        case_json=json.dumps(asdict(case)),
    )
    return {"nnz": int(values.size), "n_input_spikes": int(in_t.size)}


def read_case(path: str) -> tuple[ScaleCase, dict[str, np.ndarray]]:
    """The parameters and the arrays of a case file."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != "case_json"}
        case = ScaleCase(**json.loads(str(f["case_json"])))
    return case, arrays


def first_steps(case: ScaleCase, arrays: dict, max_steps: int | None) -> tuple[ScaleCase, dict]:
    """The same network run for only its first ``max_steps`` steps (the input spikes of those
    steps), or the case as it is when ``max_steps`` is None or not shorter."""
    if not max_steps or max_steps >= case.n_steps:
        return case, arrays
    keep = arrays["in_t"] < max_steps
    arrays = {**arrays, "in_t": arrays["in_t"][keep], "in_u": arrays["in_u"][keep]}
    return replace(case, n_steps=max_steps), arrays


def pre_of(indptr: np.ndarray) -> np.ndarray:
    """The presynaptic unit of every synapse (int32), expanded from ``indptr``."""
    n = indptr.size - 1
    return np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))


def input_chunk(in_t: np.ndarray, in_u: np.ndarray, t0: int, t1: int, n: int) -> np.ndarray:
    """Dense float64 input ``x[t0:t1]`` (t1 - t0, n) of 0/1 from the sparse input spikes."""
    a, b = np.searchsorted(in_t, [t0, t1])
    x = np.zeros((t1 - t0, n))
    x[in_t[a:b] - t0, in_u[a:b]] = 1.0
    return x


def synaptic_events(times: np.ndarray, units: np.ndarray, indptr: np.ndarray, n_steps: int):
    """Recurrent synaptic events delivered: the out-degrees of the units that spiked before the
    last step (a spike at the last step is delivered after the run)."""
    out_deg = np.diff(indptr)
    return int(out_deg[np.asarray(units)[np.asarray(times) < n_steps - 1]].sum())


def raster_stats(
    times: np.ndarray,
    units: np.ndarray,
    n: int,
    n_steps: int,
    dt: float,
    bin_steps: int = 100,
    n_sample: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Mean rate (Hz), mean CV of the inter-spike intervals (units with >= 3 spikes) and mean
    Fano factor of spike counts in ``bin_steps`` bins, over a fixed sample of ``n_sample`` units
    (the same sample for every simulator), plus the population Fano factor of the summed count
    (synchrony) with the standard errors across units."""
    times, units = np.asarray(times, np.int64), np.asarray(units, np.int64)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, n_sample), replace=False))
    keep = np.isin(units, sample)
    t_s, u_s = times[keep], np.searchsorted(sample, units[keep])
    n_bins = n_steps // bin_steps
    counts = np.zeros((sample.size, n_bins))
    ok = t_s < n_bins * bin_steps
    np.add.at(counts, (u_s[ok], t_s[ok] // bin_steps), 1.0)
    mean_c = counts.mean(axis=1)
    fano = counts.var(axis=1)[mean_c > 0] / mean_c[mean_c > 0]
    order = np.lexsort((t_s, u_s))
    t_o, u_o = t_s[order], u_s[order]
    cvs = []
    for seg in np.split(t_o, np.flatnonzero(np.diff(u_o)) + 1):
        d = np.diff(seg)
        if d.size >= 2:
            cvs.append(d.std() / d.mean())
    pop = np.bincount(times // bin_steps, minlength=n_bins)[:n_bins].astype(float)
    rate = times.size / (n * n_steps * dt * 1e-3)
    cvs = np.asarray(cvs)
    return {
        "rate_hz": float(rate),
        "cv_isi": float(cvs.mean()) if cvs.size else float("nan"),
        "cv_isi_se": float(cvs.std() / np.sqrt(cvs.size)) if cvs.size > 1 else float("nan"),
        "fano": float(fano.mean()) if fano.size else float("nan"),
        "fano_se": float(fano.std() / np.sqrt(fano.size)) if fano.size > 1 else float("nan"),
        "pop_fano": float(pop.var() / pop.mean()) if pop.mean() > 0 else float("nan"),
    }

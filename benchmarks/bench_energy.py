"""Energy-model benchmarks: MPF fits (JAX vs a plain NumPy/SciPy implementation of the same
objective), exact log Z at n = 24, Gibbs sampling throughput (Numba vs vectorised NumPy).

    .venv/bin/python benchmarks/bench_energy.py [--repeats 3] [--samples 100000] [--maxiter 100]
        [--maxiter-large 20] [--sizes 64,256]

``--sizes``: the unit counts of the MPF fits and of the Gibbs sampling rows.

Every implementation runs on one thread (BLAS and XLA), so the ratios compare the code, not
the thread pools.

Times are CPU seconds of the benchmark process (medians over repeats). Both MPF
implementations minimise the same objective (``infodyn.energy.objectives`` and
``infodyn.energy.reference``) with the same L-BFGS-B settings from the same start, for the same
number of iterations; the table gives medians over repeats of the wall time per objective
evaluation and of the whole fit, and the ratio. hdnet (the field's reference package) is not
installable from the registry, so the NumPy version stands in for it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# One thread for every implementation: a like-for-like comparison that is not at the mercy of
# BLAS thread oversubscription on a shared machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

from infodyn.energy import IsingModel, exact_log_partition  # noqa: E402
from infodyn.energy.fit import fit, unique_patterns  # noqa: E402
from infodyn.energy.objectives import pack  # noqa: E402
from infodyn.energy.reference import value_and_grad  # noqa: E402


def data(n: int, M: int, seed: int = 0) -> np.ndarray:
    """Correlated sparse binary words: a dichotomised Gaussian with a rank-4 covariance."""
    rng = np.random.default_rng(seed)
    L = rng.normal(0, 0.6, (n, 4))
    z = rng.normal(size=(M, 4)) @ L.T + rng.normal(size=(M, n))
    return (z > 1.0 + 0.3 * rng.random(n)).astype(np.uint8)


def median_time(f, repeats: int) -> tuple[float, object]:
    """Median CPU seconds of the process over ``repeats`` calls (every implementation runs on
    one thread, so CPU time is the compute time and is robust to a busy shared machine); the
    median wall seconds are appended to WALL for the record."""
    times, walls, out = [], [], None
    for _ in range(repeats):
        t0, w0 = time.process_time(), time.perf_counter()
        out = f()
        times.append(time.process_time() - t0)
        walls.append(time.perf_counter() - w0)
    WALL.append(statistics.median(walls))
    return statistics.median(times), out


WALL: list[float] = []


def numpy_mpf_fit(X: np.ndarray, maxiter: int) -> tuple[int, int]:
    Xu, w = unique_patterns(X)
    ind = IsingModel.independent(X)
    p0 = pack(ind.J, ind.theta)
    evals = [0]

    def fun(p):
        evals[0] += 1
        return value_and_grad(p, Xu, w, "mpf")

    res = minimize(
        fun,
        p0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": maxiter, "ftol": 1e-10, "gtol": 1e-8, "maxcor": 20},
    )
    return int(res.nit), evals[0]


def bench_mpf(n: int, M: int, maxiter: int, repeats: int) -> list[str]:
    X = data(n, M)
    rows = []
    for precision in ("float64", "float32"):
        fit(X, method="mpf", maxiter=1, precision=precision)  # compile for this shape
        t, m = median_time(
            lambda p=precision: fit(X, method="mpf", maxiter=maxiter, precision=p), repeats
        )
        info = m.fit_info
        rows.append((f"JAX {precision}", t, info["n_evaluations"], info["n_iterations"]))
    t, (nit, nev) = median_time(lambda: numpy_mpf_fit(X, maxiter), repeats)
    rows.append(("NumPy/SciPy float64", t, nev, nit))
    ref = rows[-1][1] / rows[-1][2]
    out = []
    for name, t, nev, nit in rows:
        out.append(
            f"| MPF fit n={n}, M={M:,} | {name} | {nit} | {t:.2f} s | "
            f"{1000 * t / nev:.1f} ms | {ref / (t / nev):.2f}x |"
        )
    return out


def bench_log_z(n: int, repeats: int) -> list[str]:
    rng = np.random.default_rng(1)
    J = np.triu(rng.normal(0, 0.3, (n, n)), 1)
    J = J + J.T
    theta = rng.normal(0.5, 0.5, n)
    t_ours, lz = median_time(lambda: exact_log_partition(J, theta), repeats)

    def naive():
        acc = []
        bits = np.arange(n)
        for start in range(0, 2**n, 1 << 18):
            s = ((np.arange(start, start + (1 << 18))[:, None] >> bits) & 1).astype(np.float64)
            acc.append(logsumexp(0.5 * np.einsum("ki,ij,kj->k", s, J, s) - s @ theta))
        return logsumexp(acc)

    t_naive, lz2 = median_time(naive, 1)
    assert abs(lz - lz2) < 1e-8, (lz, lz2)
    return [
        f"| exact log Z, n={n} | infodyn (block split + GEMM) | - | {t_ours:.2f} s | - | "
        f"{t_naive / t_ours:.1f}x |",
        f"| exact log Z, n={n} | NumPy enumerate + logsumexp | - | {t_naive:.2f} s | - | 1.00x |",
    ]


def numpy_gibbs(J, theta, chains, sweeps, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((chains, J.shape[0])) < 0.5).astype(np.float64)
    for _ in range(sweeps):
        for i in range(J.shape[0]):
            h = X @ J[:, i] - theta[i]
            X[:, i] = rng.random(chains) < 1.0 / (1.0 + np.exp(-h))
    return X


def bench_gibbs(n: int, repeats: int) -> list[str]:
    rng = np.random.default_rng(2)
    J = np.triu(rng.normal(0, 1.0 / np.sqrt(n), (n, n)), 1)
    m = IsingModel(J + J.T, rng.normal(0.5, 0.5, n))
    chains, sweeps = 64, 200
    m.sample(64, seed=0, chains=64, burn_in=1, thin=1)  # compile
    t_ours, _ = median_time(
        lambda: m.sample(chains * sweeps, seed=0, chains=chains, burn_in=0, thin=1), repeats
    )
    t_np, _ = median_time(lambda: numpy_gibbs(m.J, m.theta, chains, sweeps), repeats)
    upd = chains * sweeps * n
    return [
        f"| Gibbs n={n}, 64 chains x 200 sweeps | infodyn (Numba) | - | {t_ours:.3f} s | "
        f"{upd / t_ours / 1e6:.1f} M updates/s | {t_np / t_ours:.1f}x |",
        f"| Gibbs n={n}, 64 chains x 200 sweeps | NumPy (vectorised over chains) | - | "
        f"{t_np:.3f} s | {upd / t_np / 1e6:.1f} M updates/s | 1.00x |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--maxiter", type=int, default=100, help="L-BFGS iterations, n <= 64")
    ap.add_argument("--maxiter-large", type=int, default=20, help="L-BFGS iterations, n > 64")
    ap.add_argument("--sizes", default="64,256", help="units of the MPF and Gibbs rows")
    args = ap.parse_args()
    jax.config.update("jax_enable_x64", False)
    print(f"jax {jax.__version__}, {os.cpu_count()} CPUs, devices {jax.devices()}")
    print(
        "| task | implementation | L-BFGS iterations | CPU s (median) | per evaluation | speed-up |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for n in (int(s) for s in args.sizes.split(",")):
        reps, iters = (args.repeats, args.maxiter) if n <= 64 else (1, args.maxiter_large)
        for row in bench_mpf(n, args.samples, iters, reps):
            print(row, flush=True)
    for row in bench_log_z(24, args.repeats):
        print(row, flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        for row in bench_gibbs(n, args.repeats):
            print(row, flush=True)
    print(
        f"total wall {sum(WALL):.0f} s for the timed calls (medians), machine load "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()

"""Information estimators: infodyn against dit and hoi's 'binning' method on the same data.

Cases (issue 5): O-information and total correlation of 12 binary units over 10^5 samples; MI
between two 64-unit binary words over 10^5 samples; PID (Williams-Beer and BROJA) of 3 binary
variables from 10^5 samples (plus MI of two 8-unit words, the widest case dit 2.3 can hold:
it stores a dense table, and 128 binary variables exceed numpy's 64 dimensions). Every value
is compared across packages (they must agree) and the median of repeated timings is reported
with the ratio to each peer.

dit needs a ``Distribution`` before any measure: it is built from the samples (rows counted
by ``np.unique``, then ``dit.Distribution``) and reported both ways (build + measure, and the
measure alone on the built distribution, which favours dit). hoi is timed after a warm-up
call (JIT compilation not counted). infodyn always starts from the samples.
Run: ``.venv/bin/python benchmarks/bench_information.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numpy as np  # noqa: E402


def _time(fn, repeats: int, warmup: int = 1) -> tuple[float, object]:
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def population(n_samples: int, n_units: int, seed: int = 0) -> np.ndarray:
    """Binary units driven by two shared latent sources plus XOR-coupled units (synergy)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, 2))
    w = rng.normal(size=(2, n_units))
    x = (latent @ w + rng.normal(size=(n_samples, n_units)) * 1.5 > 1.0).astype(np.int64)
    x[:, -1] = x[:, 0] ^ x[:, 1]
    x[:, -2] = x[:, 2] ^ x[:, 3] ^ (rng.random(n_samples) < 0.1)
    return x


def dit_distribution(x: np.ndarray):
    """A ``dit.Distribution`` of the sample rows (counted with NumPy, then dit's constructor).

    dit's own ``inference.distribution_from_data`` was slower still, and ``PID_WB`` on its result
    returned all-zero atoms in our hands (dit 2.3), so this faster route is the one timed.
    """
    import dit

    rows, counts = np.unique(x, axis=0, return_counts=True)
    outcomes = [tuple(int(v) for v in r) for r in rows]
    return dit.Distribution(outcomes, counts / counts.sum())


def dit_timed(x: np.ndarray, measure) -> tuple[float, float, object]:
    """(seconds to build the Distribution from samples, seconds for the measure, value)."""
    t0 = time.perf_counter()
    d = dit_distribution(x)
    t_build = time.perf_counter() - t0
    t_measure, value = _time(lambda: measure(d), 1, warmup=0)
    return t_build, t_measure, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rep = 3 if args.quick else 7
    warnings.simplefilter("ignore")

    import dit
    import jax.numpy as jnp
    from dit.pid import PID_BROJA, PID_WB

    try:  # the bench extra (pip install -e '.[bench]'); without it, dit and infodyn alone
        import hoi
        from hoi.core import get_mi
        from hoi.metrics import TC, Oinfo
    except ImportError:
        hoi = None
        print("hoi is not installed (pip install -e '.[bench]'): its columns are '-'\n")

    import infodyn.information as info

    rows = []

    # ------------------------------------------------ O-information and TC, 12 units
    x = population(100_000, 12)
    cols = [[i] for i in range(12)]
    t_o, ours_o = _time(lambda: info.o_information(x), rep)
    t_tc, ours_tc = _time(lambda: info.total_correlation(x), rep)
    dit_o = dit_timed(x, lambda d: dit.multivariate.o_information(d, cols))
    dit_tc = dit_timed(x, lambda d: dit.multivariate.total_correlation(d, cols))

    def hoi_o():
        return float(
            np.asarray(
                Oinfo(x, verbose=False).fit(minsize=12, maxsize=12, method="binning")
            ).ravel()[0]
        )

    def hoi_tc():
        return float(
            np.asarray(TC(x, verbose=False).fit(minsize=12, maxsize=12, method="binning")).ravel()[
                0
            ]
        )

    t_hoi_o, hoi_o_val = _time(hoi_o, max(rep // 2, 2)) if hoi else (None, None)
    t_hoi_tc, hoi_tc_val = _time(hoi_tc, max(rep // 2, 2)) if hoi else (None, None)
    rows.append(
        ("O-information, 12 binary units, 1e5 samples", t_o, dit_o, t_hoi_o, ours_o, hoi_o_val)
    )
    rows.append(
        (
            "total correlation, 12 binary units, 1e5 samples",
            t_tc,
            dit_tc,
            t_hoi_tc,
            ours_tc,
            hoi_tc_val,
        )
    )

    # ------------------------------------------------ MI between binary words
    rng = np.random.default_rng(1)
    mi_bin = get_mi("binning") if hoi else None
    for units in (8, 64):
        a = (rng.random((100_000, units)) < 0.05).astype(np.int64)
        b = a ^ (rng.random(a.shape) < 0.02)
        t_mi, ours_mi = _time(lambda a=a, b=b: info.mutual_information(a, b), rep)
        ja, jb = jnp.asarray(a.T), jnp.asarray(b.T)
        t_hoi_mi, hoi_mi = (
            _time(lambda ja=ja, jb=jb: float(mi_bin(ja, jb)), max(rep // 2, 2))
            if hoi
            else (None, None)
        )
        if 2 * units <= 64:
            dit_mi = dit_timed(
                np.hstack([a, b]),
                lambda d, u=units: dit.shannon.mutual_information(
                    d, list(range(u)), list(range(u, 2 * u))
                ),
            )
        else:  # dit 2.3 stores a dense table: 128 binary variables exceed numpy's 64 dims
            dit_mi = None
        rows.append(
            (f"MI of two {units}-unit words, 1e5 samples", t_mi, dit_mi, t_hoi_mi, ours_mi, hoi_mi)
        )

    # ------------------------------------------------ PID of 3 binary variables
    s = rng.integers(0, 2, (100_000, 2))
    y = (s[:, 0] & s[:, 1]) ^ (rng.random(100_000) < 0.1)
    keys = (((0,), (1,)), ((0,),), ((1,),), ((0, 1),))
    for measure, peer in (("wb", PID_WB), ("broja", PID_BROJA)):
        t_p, ours_p = _time(lambda m=measure: info.pid(s[:, 0], s[:, 1], y, measure=m), rep)
        dit_p = dit_timed(
            np.column_stack([s, y]),
            lambda d, p=peer: [p(d, [[0], [1]], [2]).get_pi(k) for k in keys],
        )
        rows.append(
            (
                f"PID ({measure}) of 3 binary variables, 1e5 samples",
                t_p,
                dit_p,
                None,
                list(ours_p),
                None,
            )
        )

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(shared and loaded while measured); python {platform.python_version()}, "
        f"dit {dit.__version__}, hoi {hoi.__version__ if hoi else 'not installed'}"
    )
    print()
    print(
        "| case | infodyn (ms) | dit: build from samples + measure (ms) | dit: measure only "
        "(ms) | hoi binning (ms) | dit total / infodyn | dit measure / infodyn | "
        "hoi / infodyn | values (infodyn / dit / hoi, bits) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    ok = True

    def fmt(val):
        if val is None:
            return "-"
        if isinstance(val, list):
            return "(" + ", ".join(f"{float(u):.4f}" for u in val) + ")"
        return f"{float(val):.5f}"

    for name, t, dt, th, v, vh in rows:
        vd = None if dt is None else dt[2]
        # dit's BROJA optimiser stops at slightly different points from run to run
        tol = 1e-2 if "broja" in name else 2e-3
        agree = (vd is None or np.allclose(np.ravel(v), np.ravel(vd), atol=tol)) and (
            vh is None or abs(float(vh) - float(v)) < 2e-3
        )
        ok &= agree
        if dt is None:
            dit_cols = "n/a | n/a"
            dit_ratios = "n/a | n/a"
        else:
            dit_cols = f"{(dt[0] + dt[1]) * 1e3:.0f} | {dt[1] * 1e3:.0f}"
            dit_ratios = f"{(dt[0] + dt[1]) / t:.0f}x | {dt[1] / t:.1f}x"
        hoi_cols = "-" if th is None else f"{th * 1e3:.0f}"
        hoi_ratio = "-" if th is None else f"{th / t:.0f}x"
        print(
            f"| {name} | {t * 1e3:.2f} | {dit_cols} | {hoi_cols} | {dit_ratios} | "
            f"{hoi_ratio} | {fmt(v)} / {fmt(vd)} / {fmt(vh)}{'' if agree else ' MISMATCH'} |"
        )
    print()
    print("all values agree (|diff| < 2e-3 bits; BROJA vs dit < 1e-2)" if ok else "VALUES DISAGREE")


if __name__ == "__main__":
    main()

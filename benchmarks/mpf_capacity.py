"""MPF storage near capacity: infodyn's fit vs an independent NumPy MPF, n = 64, M = 64..110.

For each M, M random patterns (P = 1/2, ``random_patterns(M, 64, seed)``) are stored by
``infodyn.energy.store`` (JAX objective, padded rows, L-BFGS-B) and by minimising
``energy/reference.py``'s NumPy MPF objective (hand-derived gradient, no padding) with the same
SciPy L-BFGS-B settings from the same start (the independent model, pseudocount 0.5). The table
gives the number stored as strict fixed points, the final objective and the optimiser's message.

    python benchmarks/mpf_capacity.py [--seed 0] [--m-min 64] [--m-max 110] [--out FILE]
        [--no-reference]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from infodyn.energy.codes import random_patterns, store
from infodyn.energy.fit import unique_patterns
from infodyn.energy.model import IsingModel
from infodyn.energy.objectives import pack, unpack_numpy
from infodyn.energy.reference import value_and_grad

N = 64


def numpy_mpf(P: np.ndarray, maxiter: int = 2000) -> tuple[IsingModel, float, str]:
    """The NumPy reference MPF fit with fit()'s L-BFGS-B settings."""
    Xu, w = unique_patterns(P)
    init = IsingModel.independent(P, pseudocount=0.5)
    with threadpool_limits(limits=1, user_api="blas"):
        res = minimize(
            value_and_grad,
            pack(init.J, init.theta),
            args=(Xu, w, "mpf"),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": maxiter, "ftol": 1e-10, "gtol": 1e-8, "maxcor": 20},
        )
    J, theta = unpack_numpy(res.x, P.shape[1])
    return IsingModel(J, theta), float(res.fun), str(res.message)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--m-min", type=int, default=64)
    ap.add_argument("--m-max", type=int, default=110)
    ap.add_argument("--out", default=None, help="also write the table to this file")
    ap.add_argument("--no-reference", action="store_true", help="skip the NumPy MPF")
    args = ap.parse_args()
    lines = [
        f"n = {N}, seed {args.seed}, M = {args.m_min}..{args.m_max}; stored = strict fixed points",
        "",
        "| M | infodyn stored | infodyn objective | infodyn stop | NumPy MPF stored "
        "| NumPy objective | NumPy stop |",
        "|---:|---:|---:|---|---:|---:|---|",
    ]
    print("\n".join(lines), flush=True)
    t0 = time.perf_counter()
    for M in range(args.m_min, args.m_max + 1):
        P = random_patterns(M, N, seed=args.seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = store(P)
        warned = any("abnormally" in str(c.message) for c in caught)
        row = (
            f"| {M} | {int(model.is_fixed_point(P).sum())} | {model.fit_info['objective']:.4g} "
            f"| {model.fit_info['message'][:28]}{' (warned)' if warned else ''} "
        )
        if args.no_reference:
            row += "| - | - | - |"
        else:
            ref, ref_obj, ref_msg = numpy_mpf(P)
            row += f"| {int(ref.is_fixed_point(P).sum())} | {ref_obj:.4g} | {ref_msg[:28]} |"
        lines.append(row)
        print(row, flush=True)
    lines += ["", f"total wall {time.perf_counter() - t0:.0f} s"]
    print(lines[-1])
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Are the replica-exchange heat capacity's jackknife errors the spread they claim? (stop 57)

A ring of ferromagnetic couplings (J = 1) plus symmetric Gaussian couplings (sd ``--disorder``)
over ``--units`` units, no fields, 12 temperatures from 0.5 to 3. The reference C(T)/n is exact
(enumeration) up to 20 units, else one long run (``--reference-sweeps``). For ``--seeds``
independent runs of the default length (4,000 sweeps after 1,000 of burn-in, 20 jackknife
blocks) it prints, per temperature, the sd of C over the seeds divided by the mean jackknife
error (1 when the errors are right) and the share of runs whose C lies within 1.96 errors of
the reference (0.935 for 19 degrees of freedom, t). Run::

    PYTHONPATH=src .venv/bin/python benchmarks/thermo_error_calibration.py --units 16
    PYTHONPATH=src .venv/bin/python benchmarks/thermo_error_calibration.py --units 48 --disorder 0.4
"""

from __future__ import annotations

import argparse

import numpy as np

from infodyn import energy as E


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=16)
    ap.add_argument("--disorder", type=float, default=0.15)
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--reference-sweeps", type=int, default=200_000)
    args = ap.parse_args()
    n = args.units
    rng = np.random.default_rng(0)
    J = args.disorder * rng.normal(size=(n, n))
    ring = np.arange(n)
    J[ring, (ring + 1) % n] += 1.0
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0.0)
    model = E.IsingModel(J, np.zeros(n))
    T = np.geomspace(0.5, 3.0, 12)
    if n <= 20:
        ref = E.heat_capacity(model, T, method="exact").c
    else:
        ref = E.heat_capacity(
            model, T, method="mcmc", seed=10**6, n_sweeps=args.reference_sweeps, burn_in=2000
        ).c
    runs = [E.heat_capacity(model, T, method="mcmc", seed=s) for s in range(args.seeds)]
    c = np.array([r.c for r in runs])
    err = np.array([r.c_err for r in runs])
    print("| T | " + " | ".join(f"{t:.2f}" for t in T) + " |")
    print("|---" * (T.size + 1) + "|")
    print("| sd / error | " + " | ".join(f"{v:.2f}" for v in c.std(0, ddof=1) / err.mean(0)) + " |")
    cover = np.mean(np.abs(c - ref) < 1.96 * err, axis=0)
    print("| covered | " + " | ".join(f"{v:.2f}" for v in cover) + " |")


if __name__ == "__main__":
    main()

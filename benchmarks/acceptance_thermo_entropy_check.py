"""Issue 17: the check of one S(1)/N value of the first run's record (branching network m = 1.0,
pairwise PL fit, N = 40: 0.197 bits/unit by thermodynamic integration, against 0.094 at N = 20
and 0.050 at N = 80). Refits that model exactly as the run did (same words, seed, settings) and
compares three estimates of S(1)/N:

- thermodynamic integration as in the run (replica exchange, 31 inverse temperatures, 1500 sweeps);
- the same integral on a finer grid with longer chains (121 betas, 6000 sweeps);
- without the integral: S = <E>_1 + log Z (nats), with log Z by AIS (3000 betas, 100 chains) and
  <E>_1 from the model's samples (chains started at data words);

and where the replica-exchange equilibrium lies (log Z by integrating <E> from beta = 0, the mean
count of active units of chains started at random states and at data words).

    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo_entropy_check.py
"""

from __future__ import annotations

import json
import time

import numpy as np
from acceptance_thermo import OUT, _dataset, _split
from harness import no_options

import infodyn as idn
from infodyn.energy.thermo import tempering_moments

LN2 = np.log(2.0)


def main() -> None:
    E = idn.energy
    t0 = time.perf_counter()
    X, _ = _dataset("m=1.0", 30000, 0)
    train, test = _split(X[:, :40], 0)
    keep = (train.mean(0) > 0) & (train.mean(0) < 1)
    train = train[:, keep]
    n = train.shape[1]
    model = E.fit(train, method="pl", model="pairwise", l2=1e-3, maxiter=200, seed=0)
    out: dict = {"data": "branching m=1.0, N=40, pairwise PL (the run's --fast settings)", "n": n}
    out["recorded_ti_bits_per_unit"] = json.loads(
        (OUT / "acceptance_thermo_branching_m=1.0.json").read_text()
    )["subsets"]["40"]["pairwise"]["entropy_bits_per_unit"]
    for label, nb, sw in (("ti_as_run", 31, (1500, 400)), ("ti_fine", 121, (6000, 1500))):
        s = E.entropy(model, 1.0, method="mcmc", n_betas=nb, seed=0, n_sweeps=sw[0], burn_in=sw[1])
        out[label] = {
            "n_betas": nb,
            "n_sweeps": sw[0],
            "s_bits_per_unit": float(s.s_bits[0]),
            "err": float(s.s_err_bits[0]),
        }
    a = E.ais_log_partition(model.J, model.theta, n_chains=100, n_betas=3000, seed=0)
    starts = train[np.random.default_rng(0).choice(len(train), 64)]
    S = model.sample(30000, seed=0, burn_in=1000, thin=3, chains=64, init=starts)
    e = model.energy(S)
    s_direct = (e.mean() + a.log_z) / (n * LN2)
    err = np.hypot(a.stderr, e.std() / np.sqrt(len(e) / 50)) / (n * LN2)  # ~50-sweep correlation
    out["direct"] = {
        "log_z": float(a.log_z),
        "log_z_err": float(a.stderr),
        "mean_energy": float(e.mean()),
        "s_bits_per_unit": float(s_direct),
        "err": float(err),
    }
    # where the replica-exchange equilibrium sits: log Z by integrating <E> from beta = 0 on 121
    # betas, <E>_1 there, and chains started at uniform random states
    grid = np.linspace(0.0, 1.0, 121)
    mom = tempering_moments(model, grid, 6000, 1500, 20, 0)
    U = model.sample(20000, seed=1, burn_in=2000, thin=3, chains=64)
    out["replica_exchange"] = {
        "log_z_by_integrating_mean_energy": float(n * LN2 - np.trapezoid(mom["mean"], grid)),
        "mean_energy_beta_1": float(mom["mean"][-1]),
        "min_swap_acceptance": float(mom["acceptance"].min()),
        "uniform_start_chains_mean_active": float(U.sum(1).mean()),
        "data_mean_active": float(train.sum(1).mean()),
        "data_start_chains_mean_active": float(S.sum(1).mean()),
    }
    out["seconds"] = time.perf_counter() - t0
    (OUT / "acceptance_thermo_entropy_check.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    no_options(__doc__)
    main()

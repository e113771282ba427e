"""Issue 17, the larger network: the nested-N thermodynamics of ``acceptance_thermo.py`` on 120
random units of a 10^4-unit sparse network of issue 13 (benchmarks/acceptance_scale.py).

Trained: the spikes of the issue-13 network trained to m_MR >= 0.98, if another run left them
(``--spikes FILE``: an infodyn spike file of its measured fresh trials, 1-ms steps).
Untrained (default): the issue-13 network before training
with the recurrent scale raised to ``--rec-scale`` 2.76, which the issue-13 sweep found near
critical (non-leaky integrate-and-fire, Dale's law, in-degree 100, weak Poisson drive h = 0.005
Hz: 0.54 Hz, m_MR 0.979), simulated on the event engine, ``--trials`` fresh trials of
``--trial-steps`` ms from the uniform state (first ``--discard`` ms dropped).

m_MR on 1-ms bins of the whole population (as acceptance_scale.py). Words: 120 random units,
binarised counts in bins of ``--bin`` ms (default: the bin at which the mean activity per unit
and bin is 2.7 %, as in the trained LIF networks' 3-ms words, about 9 Hz x 3 ms), the last 20 %
held out; then ``acceptance_thermo.analyse`` for N = 10, 20, 40, 80, 120 (PL, pairwise and
K-pairwise, the K-pairwise fit from the pairwise one, up to 3000 iterations). The result is
acceptance_thermo_network_sparse_<kind>.json, in the format of the network runs, so that
``acceptance_thermo.py summary`` reports it.

    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo_sparse.py --fast
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import acceptance_scale as sc
import numpy as np
from acceptance_thermo import NS, TEMPS, _dump, _split, analyse

import infodyn as idn

N_REC = 120


def _untrained(a) -> tuple[list, int, dict]:
    cfg = SimpleNamespace(
        n=10_000,
        k=100,
        h=0.005,
        kick=0.02,
        drive_channels=200,
        init_channels=16,
        tau_m=1e9,
        n_ref=0,
        rec_scale=a.rec_scale,
        inh_factor=1.0,
        steps=1000,
        seed=a.seed,
    )
    net, task, params = sc.build(cfg)
    t0 = time.time()
    trials = sc.record_trials(net, task, params, a.trials, a.trial_steps, 1000 + a.seed)
    info = {"kind": "untrained", "rec_scale": a.rec_scale, "sim_seconds": time.time() - t0}
    return trials, net.n_rec, info


def _load(path: str) -> tuple[list, int, int, dict]:
    """Trials (times, units), units and steps per trial of an infodyn spike file (issue 13's
    ``--save-spikes``: the measured fresh trials of the trained network, 1-ms steps)."""
    st = idn.data.load_spikes(path)
    tr = st.trials if st.trials is not None else np.zeros(st.times.size, int)
    trials = [(st.times[tr == i], st.units[tr == i]) for i in range(st.n_trials)]
    meta = {k: v for k, v in st.metadata.items() if isinstance(v, (int, float, str))}
    return trials, st.n_units, st.n_steps, {**meta, "kind": "trained", "file": path}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--spikes", default=None, help="npz of the trained network's spikes")
    ap.add_argument("--rec-scale", type=float, default=2.76)
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--trial-steps", type=int, default=20_000)
    ap.add_argument("--discard", type=int, default=500)
    ap.add_argument("--bin", type=int, default=0, help="ms per word (0: 2.7 %% activity)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--kp-maxiter", type=int, default=3000)
    a = ap.parse_args()
    if a.spikes:
        trials, n_units, steps, info = _load(a.spikes)
    else:
        trials, n_units, info = _untrained(a)
        steps = a.trial_steps
    full = sc.counts(trials, steps, discard=a.discard)
    rate = float(full.sum() / (full.size * n_units) * 1000.0)
    br = idn.criticality.branching_ratio(full.astype(float), dt=1.0, n_boot=100, seed=0)
    rec = np.random.default_rng(a.seed).choice(n_units, N_REC, replace=False)
    b = a.bin or max(1, int(round(0.027 / (rate / 1000.0))))
    words = []
    for t, u in trials:
        keep = t >= a.discard
        pos = np.full(n_units, -1)
        pos[rec] = np.arange(N_REC)
        k = keep & (pos[u] >= 0)
        nb = (steps - a.discard) // b
        X = np.zeros((nb, N_REC), np.uint8)
        tb = (t[k] - a.discard) // b
        ok = tb < nb
        X[tb[ok], pos[u[k]][ok]] = 1
        words.append(X)
    X = np.concatenate(words)
    dyn = {
        **info,
        "n_units": n_units,
        "rate_hz": rate,
        "m_mr": float(br.m),
        "m_mr_ci95": [float(c) for c in br.m_ci],
        "tau_ms": float(br.tau),
        "bin_ms_mr": 1.0,
        "word_bin_ms": b,
        "n_words": int(X.shape[0]),
        "activity_per_bin": float(X.mean()),
        "trials": len(trials),
        "trial_steps": steps,
        "discard": a.discard,
    }
    print(dyn, flush=True)
    label = f"sparse 10^4 {info['kind']}" + (" (issue 13)" if info["kind"] == "trained" else "")
    out: dict = {"label": label, "T": int(X.shape[0]), "seed": a.seed}
    out |= {"temperatures": TEMPS.tolist(), "fit_method": "pl", "dynamics": dyn, "subsets": {}}
    name = f"network_sparse_{info['kind']}"
    order = np.random.default_rng(a.seed).permutation(N_REC)
    X = X[:, order]
    for N in NS:
        t0 = time.perf_counter()
        out["subsets"][str(N)] = analyse(
            *_split(X[:, :N], a.seed),
            a.seed,
            a.fast,
            "pl",
            maxiter={"pairwise": 500, "k_pairwise": a.kp_maxiter},
        )
        print(f"N={N} done in {time.perf_counter() - t0:.0f}s", flush=True)
        _dump(name, out)


if __name__ == "__main__":
    main()

"""LIF networks trained with the deck's losses for the thermodynamics experiment (issue 17).

Each network: ``N_REC`` LIF units (tau_m 20 ms, n_ref 2 steps, dt 1 ms, dense random W_rec),
driven by ``N_IN`` Poisson channels at ``in_rate`` Hz. e-prop (Adam) trains ``w_rec`` with the
deck's per-unit target-rate loss (r0 = 10 Hz) and the global-rate-variance loss, as in
benchmarks/acceptance_learning.py (``critical``). A branching process driven by ``h`` and held
at rate ``r0`` by homeostasis has ``m = 1 - h/r0`` (Zierenberg, Wilting & Priesemann 2018, PRX 8,
031018), so the input rate sets the branching ratio the training approaches: ``in_rate`` is
chosen from the measured input-evoked rate per Hz of input, and the variance target is that
driven process's stationary variance ``r*/(1 - m^2)`` at the loss's 1-step resolution (Hz^2).

The trained weights are cached in ``benchmarks/results/acceptance_thermo_lif/<label>.npz`` (with
the settings in a JSON next to them), so reruns skip training. Spike words: fresh trials on the
event engine, the first ``DISCARD`` steps of each dropped, counts in bins of n_ref + 1 = 3 steps
(as for the MR estimate), binarised (a unit is 1 in a bin when it spiked in it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from acceptance_learning import critical_network

import infodyn as idn
from infodyn.criticality import population_activity
from infodyn.criticality.branching import branching_ratio
from infodyn.learning import PopulationRateVariance, UnitRateTarget
from infodyn.learning.tasks import RateTask
from infodyn.learning.trainer import Trainer, TrainOptions

CACHE = Path(__file__).resolve().parent / "results" / "acceptance_thermo_lif"
N_REC, N_IN, R0 = 200, 50, 10.0
BIN = 3  # steps (n_ref + 1)
DISCARD = 200  # steps from rest dropped from every measurement trial
# label -> the predicted m = 1 - h/r0 that picks the input rate (the MR estimate in 3 ms bins
# comes out higher: the membrane's 20 ms memory adds to the branching autocorrelation)
TARGETS = {f"lif_mpred={m}": m for m in (-0.8, 0.0, 0.5, 0.8, 0.9, 0.95)}


def network(n_rec: int = N_REC) -> idn.network.LIF:
    """The network of acceptance_learning.py ``critical`` (same parameters on purpose), at
    ``n_rec`` units."""
    return critical_network(n_rec, N_IN)


def simulate_counts(net, params, in_rate: float, n_trials: int, n_steps: int, seed: int):
    """Spikes (trials, steps, units) of fresh trials from rest (first DISCARD steps dropped)."""
    rng = np.random.default_rng(seed)
    task = RateTask(n_in=N_IN, n_steps=n_steps + DISCARD, rate_hz=in_rate)
    p = {k: np.asarray(v) for k, v in params.items()}
    out = []
    for _ in range(n_trials):
        x = task.batch(rng, 1)[0][0]
        z = np.asarray(net.simulate(p, x, engine="event").z, dtype=np.uint8)
        out.append(z[DISCARD:])
    return np.stack(out)


def measure(net, z: np.ndarray) -> dict:
    """Rate and MR branching ratio (bins of BIN steps; bootstrap interval over trials)."""
    pa = population_activity(z.astype(np.float64), bin_ms=BIN * net.dt, dt=net.dt)
    r = branching_ratio(pa.counts, method="mr", dt=BIN * net.dt, n_boot=100, seed=0)
    return {
        "rate_hz": float(z.mean() * 1000.0 / net.dt),
        "events_per_bin": float(np.mean(pa.counts)),
        "m_mr": float(r.m),
        "m_mr_ci95": [float(c) for c in r.m_ci],
        "tau_ms": float(r.tau),
        "n_trials": int(z.shape[0]),
        "trial_steps": int(z.shape[1]),
    }


def input_gain(net, params, seed: int = 7) -> float:
    """Input-evoked rate per unit (Hz) per Hz of input rate, measured with W_rec = 0 at 1 Hz."""
    no_rec = {**params, "w_rec": np.zeros_like(np.asarray(params["w_rec"]))}
    z = simulate_counts(net, no_rec, 1.0, 4, 2000, seed)
    return float(z.mean() * 1000.0 / net.dt)


def train(label: str, m_target: float, iterations: int = 1500, seed: int = 0, log=print) -> dict:
    """Train one network (or load it from the cache); returns its settings and params."""
    CACHE.mkdir(parents=True, exist_ok=True)
    f_npz, f_json = CACHE / f"{label}.npz", CACHE / f"{label}.json"
    net = network()
    if f_npz.exists() and f_json.exists():
        info = json.loads(f_json.read_text())
        params = dict(np.load(f_npz))
        return {"net": net, "params": params, "info": info}
    params = net.init(seed=seed)
    gain = input_gain(net, params)
    h = R0 * (1.0 - m_target)  # Hz per unit the input alone must evoke
    in_rate = h / gain
    r_step = R0 * net.n_rec * net.dt / 1000.0
    s_target = r_step / (1.0 - m_target**2) * (1000.0 / (net.dt * net.n_rec)) ** 2
    loss = UnitRateTarget(r0_hz=R0, weight=1e-3) + PopulationRateVariance(
        weight=1e-7, s_target=s_target
    )
    task = RateTask(n_in=N_IN, n_steps=1000, rate_hz=in_rate)
    t0 = time.time()
    hist = []
    p = params
    for lr, its, s in ((1e-2, iterations, seed), (1e-3, iterations // 4, seed + 1)):
        opts = TrainOptions(
            method="eprop", optimizer="adam", lr=lr, batch_size=8, seed=s, train=("w_rec",)
        )
        tr = Trainer(net, task, loss, opts, params=p)
        while tr.state.iteration < its:
            tr.step()
            if tr.state.iteration % 250 == 0:
                last = tr.state.history[-50:]
                rate = float(np.mean([r["mean_rate_hz"] for r in last]))
                log(f"{label} lr {lr:g} it {tr.state.iteration}: rate {rate:.2f} Hz")
        hist += [float(r["mean_rate_hz"]) for r in tr.state.history]
        p = {k: np.asarray(v) for k, v in tr.state.params.items()}
    info = {
        "label": label,
        "m_target": m_target,
        "n_rec": net.n_rec,
        "n_in": N_IN,
        "r0_hz": R0,
        "input_gain_hz_per_hz": gain,
        "h_hz": h,
        "in_rate_hz": in_rate,
        "s_target_hz2": s_target,
        "loss": f"UnitRateTarget(r0 {R0:g} Hz, weight 1e-3) + PopulationRateVariance(weight 1e-7,"
        f" s_target {s_target:.4g} Hz^2)",
        "optimizer": f"e-prop, Adam lr 1e-2 x {iterations} then 1e-3 x {iterations // 4}, batch 8,"
        " T = 1000 steps, w_rec only",
        "iterations": len(hist),
        "train_minutes": (time.time() - t0) / 60,
        "rate_history_every_10": hist[::10],
    }
    np.savez_compressed(f_npz, **{k: np.asarray(v) for k, v in p.items()})
    f_json.write_text(json.dumps(info, indent=1))
    return {"net": net, "params": p, "info": info}


def words(label: str, T: int, seed: int, n_record: int = 120) -> tuple[np.ndarray, dict]:
    """Binarised words (T, n_record) of ``n_record`` random units of a trained network, and its
    rate and m_MR measured on the same fresh trials (all units)."""
    d = train(label, TARGETS[label])
    net, info = d["net"], d["info"]
    trial_steps = 3000
    n_trials = int(np.ceil(T * BIN / trial_steps))
    z = simulate_counts(net, d["params"], info["in_rate_hz"], n_trials, trial_steps, 1000 + seed)
    meas = measure(net, z)
    rec = np.random.default_rng(seed).choice(net.n_rec, n_record, replace=False)
    nb = trial_steps // BIN
    c = z[:, : nb * BIN, rec].reshape(n_trials, nb, BIN, n_record).sum(2)
    X = (c.reshape(-1, n_record)[:T] > 0).astype(np.uint8)
    return X, {**{k: v for k, v in info.items() if k != "rate_history_every_10"}, **meas}

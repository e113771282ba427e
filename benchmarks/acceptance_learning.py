"""Acceptance runs of issue 3 (not in CI): published tasks and the low-rate critical regime.

- ``pattern``: pattern generation (sum of four sines), LIF + e-prop; target: the loss falls at
  least 10x from its start.
- ``evidence``: evidence accumulation, 50 LIF + 50 ALIF + e-prop, and a 100-LIF control; target:
  <= 10 % error within 2000 iterations (published: < 7 %), LIF-only near chance (50 %).
- ``critical``: a LIF network with weak Poisson input h (Hz per unit, the rate the input alone
  evokes with W_rec = 0) trained by e-prop with the per-unit rate loss (target r0) and the
  population-rate variance loss; target: the branching ratio of the population activity moves
  toward ``1 - h/r0`` (driven branching process at a fixed rate, Zierenberg et al. 2018).

Each run writes ``benchmarks/results/acceptance_learning_<name>.json`` and a figure
``benchmarks/results/acceptance_learning_<name>.png``; ``--summary`` rewrites
``benchmarks/results/acceptance_learning.md`` from the JSON files present.

Run (from the repository root), for example::

    .venv/bin/python benchmarks/acceptance_learning.py pattern --iterations 300
    .venv/bin/python benchmarks/acceptance_learning.py evidence --iterations 2000 --batch 64
    .venv/bin/python benchmarks/acceptance_learning.py critical --iterations 200
    .venv/bin/python benchmarks/acceptance_learning.py --summary
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/acceptance_learning.py"


def _save(name: str, result: dict, fig) -> None:
    from infodyn.data.atomic import write_json

    OUT.mkdir(parents=True, exist_ok=True)
    result["machine"] = f"{platform.machine()}, shared 2-core machine under load"
    write_json(OUT / f"acceptance_learning_{name}.json", result)
    fig.savefig(OUT / f"acceptance_learning_{name}.png", dpi=100, bbox_inches="tight")


def _deadline_fit(trainer, iterations: int, max_minutes: float):
    """Train up to ``iterations`` or until ``max_minutes`` pass; returns (history, stopped)."""
    t0 = time.time()
    while trainer.state.iteration < iterations:
        trainer.step()
        if (time.time() - t0) / 60.0 > max_minutes:
            return trainer.state.history, True
    return trainer.state.history, False


def run_pattern(iterations: int, max_minutes: float, seed: int) -> None:
    import infodyn as idn
    from infodyn.learning import FiringRateRegularizer, MeanSquaredError
    from infodyn.learning.tasks import PatternGeneration
    from infodyn.learning.trainer import Trainer, TrainOptions
    from infodyn.plotting import pyplot

    net = idn.network.LIF(n_in=100, n_rec=100, n_out=1, tau_m=30.0, tau_out=30.0, v_th=0.03,
                          input_scaling="one_minus_alpha")
    task = PatternGeneration(seed=seed)
    loss = MeanSquaredError() + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0)
    tr = Trainer(net, task, loss, TrainOptions(method="eprop", optimizer="adam", lr=3e-3,
                                               seed=seed))
    t0 = time.time()
    hist, stopped = _deadline_fit(tr, iterations, max_minutes)
    first, last = hist[0]["loss_mse"], float(np.mean([r["loss_mse"] for r in hist[-10:]]))
    x, target = task.batch(np.random.default_rng(0), 1)
    trace = net.simulate({k: np.asarray(v) for k, v in tr.state.params.items()}, x[0],
                         engine="jax")
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3))
    ax[0].semilogy([r["loss_mse"] for r in hist])
    ax[0].set_xlabel("iteration")
    ax[0].set_ylabel("MSE")
    ax[1].plot(target[0, :, 0], "k--", label="target")
    ax[1].plot(trace.y[:, 0], label="e-prop output")
    ax[1].set_xlabel("time (ms)")
    ax[1].legend()
    result = {
        "task": "pattern generation, 100 LIF, e-prop (symmetric), Adam lr 3e-3",
        "iterations": len(hist), "stopped_by_time_limit": stopped,
        "initial_mse": first, "final_mse_last10": last, "reduction": first / last,
        "target": ">= 10x reduction", "passed": first / last >= 10.0,
        "final_rate_hz": hist[-1]["mean_rate_hz"], "minutes": (time.time() - t0) / 60,
    }
    _save("pattern", result, fig)
    print(json.dumps(result, indent=1))


def run_evidence(iterations: int, max_minutes: float, seed: int, batch: int) -> None:
    import infodyn as idn
    from infodyn.learning import FiringRateRegularizer, SoftmaxCrossEntropy
    from infodyn.learning.tasks import EvidenceAccumulation
    from infodyn.learning.trainer import Trainer, TrainOptions
    from infodyn.plotting import pyplot

    task = EvidenceAccumulation()
    loss = SoftmaxCrossEntropy() + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0)
    common = dict(n_in=40, n_rec=100, n_out=2, tau_m=20.0, tau_out=20.0, v_th=0.03, n_ref=5,
                  input_scaling="one_minus_alpha")
    nets = {
        "alif": idn.network.ALIF(**common, n_alif=50, tau_a=2000.0, beta_a=0.0025),
        "lif": idn.network.LIF(**common),
    }
    result, curves = {"task": "evidence accumulation, e-prop, Adam lr 5e-3", "batch": batch}, {}
    for name, net in nets.items():
        t0 = time.time()
        tr = Trainer(net, task, loss, TrainOptions(method="eprop", optimizer="adam", lr=5e-3,
                                                   batch_size=batch, clip_norm=10.0, seed=seed))
        share = 0.75 if name == "alif" else 0.25  # the ALIF run is the one that must learn
        hist, stopped = _deadline_fit(tr, iterations, max_minutes * share)
        err = [r["error"] for r in hist]
        curves[name] = err
        result[name] = {
            "iterations": len(hist), "stopped_by_time_limit": stopped,
            "error_last10": float(np.mean(err[-10:])), "best_error": float(np.min(err)),
            "final_rate_hz": hist[-1]["mean_rate_hz"], "minutes": (time.time() - t0) / 60,
        }
        print(name, result[name], flush=True)
    result["target"] = "ALIF <= 10 % error within 2000 iterations; LIF near 50 %"
    result["passed"] = result["alif"]["error_last10"] <= 0.10
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, err in curves.items():
        ax.plot(err, label=name)
    ax.axhline(0.1, color="k", ls=":")
    ax.set_xlabel("iteration")
    ax.set_ylabel("error")
    ax.legend()
    _save("evidence", result, fig)


def run_critical(iterations: int, max_minutes: float, seed: int) -> None:
    import infodyn as idn
    from infodyn.learning import PopulationRateVariance, UnitRateTarget
    from infodyn.learning.tasks import RateTask
    from infodyn.learning.trainer import Trainer, TrainOptions, branching_estimate
    from infodyn.plotting import pyplot

    n, n_in, r0, in_rate = 100, 50, 10.0, 0.2
    net = idn.network.LIF(n_in=n_in, n_rec=n, n_out=0, tau_m=20.0, v_th=0.03, in_scale=6.0,
                          rec_scale=0.5, surrogate="fast_sigmoid", n_ref=2)
    task = RateTask(n_in=n_in, n_steps=1000, rate_hz=in_rate)
    params = net.init(seed=seed)

    def measure(p, steps=20000):
        x = task.batch(np.random.default_rng(123), 1)[0][0]
        x = np.concatenate([x] * (steps // task.n_steps))
        tr = net.simulate({k: np.asarray(v) for k, v in p.items()}, x, engine="event")
        act = tr.z.sum(axis=1)[None].astype(float)
        return float(tr.z.mean() * 1000.0 / net.dt), branching_estimate(act), act[0]

    no_rec = {**params, "w_rec": np.zeros_like(params["w_rec"])}
    h_hz, _, _ = measure(no_rec)
    r_init, m_init, act_init = measure(params)
    loss = UnitRateTarget(r0_hz=r0, weight=1e-3) + PopulationRateVariance(weight=1e-6,
                                                                          s_target=0.0)
    tr = Trainer(net, task, loss, TrainOptions(method="eprop", optimizer="adam", lr=1e-3,
                                               batch_size=4, seed=seed, train=("w_rec",)),
                 params=params)
    t0 = time.time()
    hist, stopped = _deadline_fit(tr, iterations, max_minutes)
    r_fin, m_fin, act_fin = measure(tr.state.params)
    m_pred = 1.0 - h_hz / r0
    result = {
        "setup": f"{n} LIF, {n_in} Poisson inputs at {in_rate} Hz, r0 = {r0} Hz, e-prop on "
                 "W_rec with unit-rate + rate-variance losses, Adam lr 1e-3, batch 4, T = 1000",
        "input_evoked_rate_h_hz": h_hz, "predicted_m": m_pred,
        "initial": {"rate_hz": r_init, "m": m_init},
        "final": {"rate_hz": r_fin, "m": m_fin},
        "iterations": len(hist), "stopped_by_time_limit": stopped,
        "moved_toward_prediction": abs(m_fin - m_pred) < abs(m_init - m_pred),
        "minutes": (time.time() - t0) / 60,
    }
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3))
    ax[0].plot([r["mean_rate_hz"] for r in hist], label="rate (Hz)")
    ax[0].plot([100 * r["branching"] for r in hist], label="100 x m (training batches)")
    ax[0].axhline(r0, color="k", ls=":")
    ax[0].axhline(100 * m_pred, color="r", ls=":")
    ax[0].legend(fontsize=7)
    ax[0].set_xlabel("iteration")
    ax[1].plot(act_init[:2000], lw=0.6, label=f"initial m={m_init:.3f}")
    ax[1].plot(act_fin[:2000], lw=0.6, label=f"trained m={m_fin:.3f}")
    ax[1].set_xlabel("time (ms)")
    ax[1].set_ylabel("population spikes")
    ax[1].legend(fontsize=7)
    _save("critical", result, fig)
    print(json.dumps(result, indent=1))


def _verdicts() -> list[str]:
    """One line per run: the issue's target and what the recorded run reached."""
    rows = ["| run | target | recorded | verdict |", "| --- | --- | --- | --- |"]

    def load(name):
        f = OUT / f"acceptance_learning_{name}.json"
        return json.loads(f.read_text()) if f.exists() else None

    r = load("pattern")
    if r:
        rows.append(f"| pattern | loss falls >= 10x | {r['reduction']:.1f}x in {r['iterations']} "
                    f"iterations | {'met' if r['passed'] else 'not met'} |")
    r = load("evidence")
    if r:
        a, lif = r["alif"], r["lif"]
        rows.append(
            f"| evidence | ALIF <= 10 % error in 2000 it.; LIF near 50 % | ALIF "
            f"{100 * a['error_last10']:.0f} % after {a['iterations']} it. (batch {r['batch']}, "
            f"time limit); LIF {100 * lif['error_last10']:.0f} % after {lif['iterations']} it. | "
            f"{'met' if r['passed'] else 'not met within the time limit'} |")
    r = load("critical")
    if r:
        rows.append(
            f"| critical | m -> 1 - h/r0 = {r['predicted_m']:.3f} | m {r['initial']['m']:.3f} -> "
            f"{r['final']['m']:.3f}, rate {r['initial']['rate_hz']:.2f} -> "
            f"{r['final']['rate_hz']:.2f} Hz (r0 = 10) in {r['iterations']} it. | "
            f"{'moved toward, not reached' if r['moved_toward_prediction'] else 'not met'} |")
    return rows


def summary() -> None:
    lines = ["# Acceptance runs: learning (issue 3)", "",
             "Produced by `benchmarks/acceptance_learning.py` on a shared 2-core machine under "
             "heavy load; runs were cut by a wall-clock limit where noted.", ""]
    lines += _verdicts() + [""] + [
        "Notes. Evidence accumulation: one ALIF iteration (batch 16, T = 2250, per-synapse "
        "ALIF and readout-filtered traces) took 1.5-7 s here depending on the machine's load, "
        "so the published set-up (batch 64, 2000 iterations) did not fit. A first run (batch "
        "16, 15 min per network) reached 121 ALIF iterations at 48 % error; the recorded one "
        "gave ALIF 22.5 min (923 iterations): the error stayed near chance on average (the "
        "best single batch of 16 was at 6 %), so with these hyperparameters (beta_a = 0.0025, "
        "Adam 5e-3, batch 16) the network did not learn the task in the time available; the "
        "adaptation strength and batch size are the first things to revisit. Low-rate critical: "
        "earlier runs of the same script with Adam lr 1e-4 (400 it.) and 3e-4 (1000 it.) gave "
        "m = 0.25 (rate 1.75 Hz) and m = 0.48 (rate 3.16 Hz); the rate loss raises the rate "
        "slowly because silent units get little pseudo-derivative, and m rose with the rate "
        "but stayed well below 1 - h/r0 in every run.", ""]
    for name in ("pattern", "evidence", "critical"):
        f = OUT / f"acceptance_learning_{name}.json"
        if not f.exists():
            lines += [f"## {name}", "", "not run", ""]
            continue
        res = json.loads(f.read_text())
        lines += [f"## {name}", "", f"Command: `{COMMAND} {name} ...` (see the JSON for settings)",
                  "", "```json", json.dumps(res, indent=1), "```", "",
                  f"![{name}](acceptance_learning_{name}.png)", ""]
    (OUT / "acceptance_learning.md").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", nargs="?", choices=["pattern", "evidence", "critical"])
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--max-minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.run == "pattern":
        run_pattern(args.iterations, args.max_minutes, args.seed)
    elif args.run == "evidence":
        run_evidence(args.iterations, args.max_minutes, args.seed, args.batch)
    elif args.run == "critical":
        run_critical(args.iterations, args.max_minutes, args.seed)
    if args.summary or args.run:
        summary()


if __name__ == "__main__":
    main()

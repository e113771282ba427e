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
``benchmarks/results/acceptance_learning_<name>.png`` and rewrites
``benchmarks/results/acceptance_learning.md`` from the JSON files present (``--summary`` only
rewrites the ``.md``). ``--out DIR`` writes all of these into DIR instead: use one for trial runs
(a short run into the default folder replaces the record).

Run (from the repository root), for example::

    .venv/bin/python benchmarks/acceptance_learning.py pattern --iterations 300
    .venv/bin/python benchmarks/acceptance_learning.py evidence --iterations 2000 --batch 64
    .venv/bin/python benchmarks/acceptance_learning.py critical --iterations 200
    .venv/bin/python benchmarks/acceptance_learning.py --summary
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from harness import machine

OUT = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/acceptance_learning.py"


def _save(name: str, result: dict, fig) -> None:
    from infodyn.atomic import write_json

    OUT.mkdir(parents=True, exist_ok=True)
    result["machine"] = machine()
    result["command"] = " ".join([COMMAND, *sys.argv[1:]])
    write_json(OUT / f"acceptance_learning_{name}.json", result)
    fig.savefig(OUT / f"acceptance_learning_{name}.png", dpi=100, bbox_inches="tight")


def _deadline_fit(trainer, iterations: int, max_minutes: float):
    """Train up to ``iterations`` or until ``max_minutes`` pass; returns (history, stopped)."""
    t0 = time.time()
    while trainer.state.iteration < iterations:
        trainer.step()
        if trainer.state.iteration % 50 == 0:  # progress: the last 50 iterations' means
            last = trainer.state.history[-50:]
            means = {
                k: float(np.mean([r[k] for r in last]))
                for k in ("loss", "mean_rate_hz", "error")
                if k in last[0]
            }
            print(
                f"  it. {trainer.state.iteration}: {means} ({time.time() - t0:.0f} s)", flush=True
            )
        if (time.time() - t0) / 60.0 > max_minutes:
            return trainer.state.history, True
    return trainer.state.history, False


def run_pattern(iterations: int, max_minutes: float, seed: int, n_seeds: int = 3) -> None:
    import infodyn as idn
    from infodyn.learning import FiringRateRegularizer, MeanSquaredError
    from infodyn.learning.tasks import PatternGeneration
    from infodyn.learning.trainer import Trainer, TrainOptions
    from infodyn.plotting import pyplot

    net = idn.network.LIF(
        n_in=100,
        n_rec=100,
        n_out=1,
        tau_m=30.0,
        tau_out=30.0,
        v_th=0.03,
        input_scaling="one_minus_alpha",
    )
    loss = MeanSquaredError() + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0)
    # the published learning rate of w_rec in this model's units (see run_evidence)
    options = dict(method="eprop", optimizer="adam", lr=3e-3, lr_scale={"w_rec": 1.0 - net.alpha})
    t0 = time.time()
    seeds = {}
    for s in range(seed, seed + n_seeds):  # other targets (phases, amplitudes) and inputs
        task = PatternGeneration(seed=s)
        tr = Trainer(net, task, loss, TrainOptions(**options, seed=s))
        hist_s, stopped_s = _deadline_fit(tr, iterations, max_minutes / n_seeds)
        mse = [r["loss_mse"] for r in hist_s]
        seeds[s] = {
            "initial_mse": mse[0],
            "final_mse_last10": float(np.mean(mse[-10:])),
            "reduction": mse[0] / float(np.mean(mse[-10:])),
            "iterations": len(hist_s),
            "stopped_by_time_limit": stopped_s,
        }
        if s == seed:  # the first seed is plotted
            hist, stopped, first_task, first_tr = hist_s, stopped_s, task, tr
    task, tr = first_task, first_tr
    first, last = hist[0]["loss_mse"], float(np.mean([r["loss_mse"] for r in hist[-10:]]))
    x, target = task.batch(np.random.default_rng(0), 1)
    trace = net.simulate({k: np.asarray(v) for k, v in tr.state.params.items()}, x[0], engine="jax")
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3))
    ax[0].semilogy([r["loss_mse"] for r in hist])
    ax[0].set_xlabel("iteration")
    ax[0].set_ylabel("MSE")
    ax[1].plot(target[0, :, 0], "k--", label="target")
    ax[1].plot(trace.y[:, 0], label="e-prop output")
    ax[1].set_xlabel("time (ms)")
    ax[1].legend()
    worst = min(r["reduction"] for r in seeds.values())
    result = {
        "task": "pattern generation, 100 LIF, e-prop (symmetric), Adam lr 3e-3, lr scale on "
        f"w_rec {1.0 - net.alpha:.4f} (1 - alpha)",
        "iterations": len(hist),
        "stopped_by_time_limit": stopped,  # these: the first seed
        "initial_mse": first,
        "final_mse_last10": last,
        "reduction": first / last,
        "seeds": seeds,
        "worst_reduction": worst,
        "minutes_limit_per_seed": max_minutes / n_seeds,
        "target": ">= 10x reduction (every seed)",
        "passed": worst >= 10.0,
        "final_rate_hz": hist[-1]["mean_rate_hz"],
        "minutes": (time.time() - t0) / 60,
    }
    _save("pattern", result, fig)
    print(json.dumps(result, indent=1))


def published_beta_a(
    v_th: float = 0.03, tau_m: float = 20.0, tau_a: float = 2000.0, dt: float = 1.0
) -> float:
    """The published code's adaptation strength in this model's units.

    Bellec et al.'s evidence-accumulation code uses thr = 0.6, unscaled input and
    ``beta = 1.7 (1 - rho) / (1 - alpha)`` with the same ``a <- rho a + z``; our
    ``input_scaling="one_minus_alpha"`` with v_th = 0.03 is that model with v scaled by
    (1 - alpha) (0.6 (1 - alpha) = 0.029), so beta scales by v_th / 0.6: 8.7e-4 (each spike
    raises the threshold by 2.9 % of v_th; at 10 Hz for 2 s by 58 %).
    """
    import math

    rho, alpha = math.exp(-dt / tau_a), math.exp(-dt / tau_m)
    return 1.7 * (1.0 - rho) / (1.0 - alpha) * v_th / 0.6


def run_evidence(
    iterations: int,
    max_minutes: float,
    seed: int,
    batch: int,
    p_group: float = 0.3,
    beta_a: float = 8.7e-4,
    readout_scaling: str = "one_minus_kappa",
    rate_reg: float = 2e-6,
    method: str = "eprop",
    rec_lr_scale: float = 0.0488,
    clip_norm: float | None = None,
) -> None:
    """Evidence accumulation, ALIF then the LIF-only control (``method="eprop"``), or the ALIF
    network alone with another gradient method as a diagnostic (saved as ``evidence_<method>``:
    does the model learn the task with exact surrogate gradients?).

    Defaults: the published code's settings in this model's units: beta_a = 8.7e-4
    (:func:`published_beta_a`), a (1 - kappa) readout, the regulariser 2e-6, Adam 5e-3 with the
    learning rate of ``w_rec`` scaled by 1 - alpha = 0.0488 (our w_rec is in v units, the
    published one in units of v / (1 - alpha)), no clipping. With one learning rate for every
    weight the recurrent steps were 20x too large and training stalled (notes in the results).
    """
    import infodyn as idn
    from infodyn.learning import FiringRateRegularizer, SoftmaxCrossEntropy
    from infodyn.learning.tasks import EvidenceAccumulation
    from infodyn.learning.trainer import Trainer, TrainOptions
    from infodyn.plotting import pyplot

    task = EvidenceAccumulation(p_group=p_group)
    # the published code's regulariser, sum_j (f_j[kHz] - 0.01)^2, is c/2 sum_j (f_j[Hz] - 10)^2
    # with c = 2e-6
    loss = SoftmaxCrossEntropy() + FiringRateRegularizer(weight=rate_reg, f_target_hz=10.0)
    common = dict(
        n_in=40,
        n_rec=100,
        n_out=2,
        tau_m=20.0,
        tau_out=20.0,
        v_th=0.03,
        n_ref=5,
        input_scaling="one_minus_alpha",
        readout_scaling=readout_scaling,
    )
    nets = {
        "alif": idn.network.ALIF(**common, n_alif=50, tau_a=2000.0, beta_a=beta_a),
        "lif": idn.network.LIF(**common),
    }
    if method != "eprop":
        nets.pop("lif")
    result, curves = (
        {
            "task": f"evidence accumulation (p_group {p_group}), {method}, Adam lr 5e-3, "
            f"beta_a {beta_a:.3g}, rate regulariser {rate_reg:g}, readout "
            f"scaling {readout_scaling!r}, lr scale on w_rec {rec_lr_scale:g}"
            f", clip {clip_norm}",
            "batch": batch,
        },
        {},
    )
    for name, net in nets.items():
        t0 = time.time()
        scale = {} if rec_lr_scale == 1.0 else {"w_rec": rec_lr_scale}
        if readout_scaling == "none" and rec_lr_scale != 1.0:
            scale["w_out"] = rec_lr_scale  # an unscaled readout's weights are in v units too
        tr = Trainer(
            net,
            task,
            loss,
            TrainOptions(
                method=method,
                optimizer="adam",
                lr=5e-3,
                lr_scale=scale,
                batch_size=batch,
                clip_norm=clip_norm,
                seed=seed,
            ),
        )
        share = 0.75 if name == "alif" and len(nets) > 1 else 1.0 if name == "alif" else 0.25
        hist, stopped = _deadline_fit(tr, iterations, max_minutes * share)
        err = [r["error"] for r in hist]
        curves[name] = err
        result[name] = {
            "iterations": len(hist),
            "stopped_by_time_limit": stopped,
            "error_last10": float(np.mean(err[-10:])),
            "best_error": float(np.min(err)),
            "final_rate_hz": hist[-1]["mean_rate_hz"],
            "minutes": (time.time() - t0) / 60,
        }
        print(name, result[name], flush=True)
    result["target"] = "ALIF <= 10 % error within 2000 iterations; LIF near 50 %"
    result["passed"] = result["alif"]["error_last10"] <= 0.10
    result["method"] = method
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, err in curves.items():
        ax.plot(err, label=name)
    ax.axhline(0.1, color="k", ls=":")
    ax.set_xlabel("iteration")
    ax.set_ylabel("error")
    ax.legend()
    _save("evidence" if method == "eprop" else f"evidence_{method}", result, fig)


def _critical_measure(
    net, task, params, bin_steps: int, n_trials: int = 20, n_steps: int = 2000, seed: int = 123
) -> dict:
    """Rate (Hz per unit) and branching ratio of the population activity on fresh inputs.

    ``n_trials`` independent Poisson inputs of ``n_steps`` steps (the training condition: each
    trial starts from rest); population counts in bins of ``bin_steps`` steps (n_ref + 1, so the
    refractory oscillation at lag 1 step does not bias the slope, as in the experiments
    pipeline); ``m`` by the criticality module's MR estimator (trial-separated, bootstrap CI over
    trials) and the naive lag-1 slope. ``events_per_bin`` is the population's mean count per bin.
    """
    from infodyn.criticality import population_activity
    from infodyn.criticality.branching import branching_ratio

    rng = np.random.default_rng(seed)
    p = {k: np.asarray(v) for k, v in params.items()}
    counts, rates = [], []
    for _ in range(n_trials):
        x = np.concatenate([task.batch(rng, 1)[0][0] for _ in range(n_steps // task.n_steps)])
        z = np.asarray(net.simulate(p, x, engine="event").z, dtype=np.float64)
        pa = population_activity(z[None], bin_ms=bin_steps * net.dt, dt=net.dt)
        counts.append(pa.counts[0])
        rates.append(z.mean() * 1000.0 / net.dt)
    act = np.asarray(counts)
    out = {
        "rate_hz": float(np.mean(rates)),
        "rate_hz_ci95": [float(np.percentile(rates, 2.5)), float(np.percentile(rates, 97.5))],
        "events_per_bin": float(act.mean()),
        "bin_ms": bin_steps * net.dt,
    }
    for method in ("mr", "naive"):
        try:
            r = branching_ratio(act, method=method, dt=bin_steps * net.dt, n_boot=100, seed=0)
            out[f"m_{method}"] = float(r.m)
            out[f"m_{method}_ci95"] = [float(c) for c in r.m_ci]
            out[f"tau_ms_{method}"] = float(r.tau)
        except Exception as e:  # noqa: BLE001 - record why the estimator refused
            out[f"m_{method}"], out[f"m_{method}_error"] = float("nan"), str(e)
    out["m"] = out["m_mr"]
    return out, act[0]


def critical_network(n_rec: int, n_in: int):
    """The LIF network of the ``critical`` run (also used, at other sizes, by
    acceptance_thermo_lif.py): 20 ms membranes, threshold 0.03, refractory 2 steps."""
    import infodyn as idn

    return idn.network.LIF(
        n_in=n_in,
        n_rec=n_rec,
        n_out=0,
        tau_m=20.0,
        v_th=0.03,
        in_scale=6.0,
        rec_scale=0.5,
        surrogate="fast_sigmoid",
        n_ref=2,
    )


def run_critical(
    iterations: int,
    max_minutes: float,
    seed: int,
    lr: float = 1e-2,
    batch: int = 8,
    var_weight: float = 1e-7,
    fine_iterations: int = 0,
) -> None:
    """Low-rate critical regime: e-prop with the unit-rate and rate-variance losses.

    Theory (REFERENCE section 3, Zierenberg et al. 2018): a branching process driven by ``h``
    external events per bin and held by homeostasis at ``r*`` events per bin has ``m = 1 -
    h/r*``. Both are counted in the same units here: ``h`` is the population's events per bin
    with W_rec = 0 (input-driven), ``r*`` its events per bin at the target rate r0 (Hz per unit)
    = r0 * n * bin / 1000; their ratio equals h_hz / r0. The variance target is the stationary
    variance of that driven process at the 1-step resolution of the loss, ``Var A = r*/(1-m^2)``
    (Poisson offspring and immigration), in the loss's units (Hz^2 of the population rate).
    Adam at ``lr`` then ``fine_iterations`` at lr/10 (smaller weight steps near the critical
    point, where the rate is very sensitive to W_rec).
    """
    from infodyn.learning import PopulationRateVariance, UnitRateTarget
    from infodyn.learning.tasks import RateTask
    from infodyn.learning.trainer import Trainer, TrainOptions
    from infodyn.plotting import pyplot

    n, n_in, r0, in_rate = 100, 50, 10.0, 0.2
    net = critical_network(n, n_in)
    task = RateTask(n_in=n_in, n_steps=1000, rate_hz=in_rate)
    params = net.init(seed=seed)
    bin_steps = net.n_ref + 1

    no_rec = {**params, "w_rec": np.zeros_like(params["w_rec"])}
    drive, _ = _critical_measure(net, task, no_rec, bin_steps)
    h_bin = drive["events_per_bin"]  # input-driven events per bin
    r_bin = r0 * n * bin_steps * net.dt / 1000.0  # target events per bin
    m_pred = 1.0 - h_bin / r_bin
    # driven-BP variance of the population rate at 1-step resolution, in Hz^2
    r_step = r0 * n * net.dt / 1000.0
    s_target = r_step / (1.0 - m_pred**2) * (1000.0 / (net.dt * n)) ** 2
    init, act_init = _critical_measure(net, task, params, bin_steps)
    loss = UnitRateTarget(r0_hz=r0, weight=1e-3) + PopulationRateVariance(
        weight=var_weight, s_target=s_target
    )
    t0 = time.time()
    tr = Trainer(
        net,
        task,
        loss,
        TrainOptions(
            method="eprop", optimizer="adam", lr=lr, batch_size=batch, seed=seed, train=("w_rec",)
        ),
        params=params,
    )
    hist, stopped = _deadline_fit(tr, iterations, max_minutes)
    hist = list(hist)
    if fine_iterations and not stopped:
        tr2 = Trainer(
            net,
            task,
            loss,
            TrainOptions(
                method="eprop",
                optimizer="adam",
                lr=lr / 10,
                batch_size=batch,
                seed=seed + 1,
                train=("w_rec",),
            ),
            params=tr.state.params,
        )
        left = max_minutes - (time.time() - t0) / 60
        h2, stopped = _deadline_fit(tr2, fine_iterations, left)
        hist += list(h2)
        tr = tr2
    fin, act_fin = _critical_measure(net, task, tr.state.params, bin_steps)
    m_at_rate = 1.0 - h_bin / fin["events_per_bin"]
    result = {
        "setup": f"{n} LIF (n_ref 2), {n_in} Poisson inputs at {in_rate} Hz, r0 = {r0} Hz, "
        f"e-prop on W_rec, unit-rate (weight 1e-3) + rate-variance (weight "
        f"{var_weight:g}, s_target {s_target:.0f} Hz^2) losses, Adam lr {lr:g} "
        f"({len(hist) - min(len(hist), iterations)} it. at lr/10), batch {batch}, "
        "T = 1000; measured on 20 fresh 2000-step trials",
        "bin_ms": bin_steps * net.dt,
        "input_driven": drive,
        "h_events_per_bin": h_bin,
        "r0_events_per_bin": r_bin,
        "input_evoked_rate_h_hz": drive["rate_hz"],
        "predicted_m": m_pred,
        "predicted_m_at_final_rate": m_at_rate,
        "s_target_hz2": s_target,
        "initial": init,
        "final": fin,
        "iterations": len(hist),
        "stopped_by_time_limit": stopped,
        "moved_toward_prediction": abs(fin["m"] - m_pred) < abs(init["m"] - m_pred),
        "minutes": (time.time() - t0) / 60,
    }
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3))
    ax[0].plot([r["mean_rate_hz"] for r in hist], lw=0.6, label="rate (Hz, training batch)")
    ax[0].axhline(r0, color="k", ls=":", label="r0")
    ax[0].axhline(fin["rate_hz"], color="b", ls="--", lw=0.8, label="final rate (20 trials)")
    ax[0].set_ylim(0, 3 * r0)  # the first Adam steps overshoot to ~300 Hz for a few iterations
    ax[0].legend(fontsize=7)
    ax[0].set_xlabel("iteration")
    ax[1].plot(act_init[:700], lw=0.6, label=f"initial m_MR={init['m']:.3f}")
    ax[1].plot(act_fin[:700], lw=0.6, label=f"trained m_MR={fin['m']:.3f} (pred {m_pred:.3f})")
    ax[1].set_xlabel(f"bin ({bin_steps * net.dt:g} ms)")
    ax[1].set_ylabel("population spikes per bin")
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
        each = ", ".join(f"{v['reduction']:.0f}x" for v in r.get("seeds", {}).values())
        rows.append(
            f"| pattern | loss falls >= 10x | {r['reduction']:.1f}x in {r['iterations']} "
            f"iterations"
            + (f" (seeds: {each})" if each else "")
            + f" | {'met' if r['passed'] else 'not met'} |"
        )
    r = load("evidence")
    if r:
        a, lif = r["alif"], r["lif"]
        cut = a["stopped_by_time_limit"]
        rows.append(
            f"| evidence | ALIF <= 10 % error in 2000 it.; LIF near 50 % | ALIF "
            f"{100 * a['error_last10']:.0f} % (last 10) after {a['iterations']} it., best batch "
            f"{100 * a['best_error']:.0f} % (batch {r['batch']}{', time limit' if cut else ''}); "
            f"LIF {100 * lif['error_last10']:.0f} % after {lif['iterations']} it. | "
            f"{'met' if r['passed'] else 'not met within the time limit' if cut else 'not met'} |"
        )
    r = load("evidence_bptt")
    if r:
        a = r["alif"]
        rows.append(
            f"| evidence, BPTT (diagnostic) | does the model learn with exact surrogate gradients? "
            f"| ALIF {100 * a['error_last10']:.0f} % (last 10) after {a['iterations']} it. "
            f"(batch {r['batch']}{', time limit' if a['stopped_by_time_limit'] else ''}) | - |"
        )
    r = load("critical")
    if r:
        i, f = r["initial"], r["final"]
        ci = f.get("m_mr_ci95") or [float("nan")] * 2
        gap0, gap = abs(i["m"] - r["predicted_m"]), abs(f["m"] - r["predicted_m"])
        met = gap <= gap0 / 5 and abs(f["rate_hz"] - 10.0) <= 2.0
        verdict = (
            "met"
            if met
            else "moved toward, not reached"
            if r["moved_toward_prediction"]
            else "not met"
        )
        rows.append(
            f"| critical | m -> 1 - h/r0 = {r['predicted_m']:.3f} (|m - 1 + h/r0| shrinks >= 5x, "
            f"rate within 20 % of r0) | m_MR "
            f"({r.get('bin_ms', 1):g} ms bins) {i['m']:.3f} -> {f['m']:.3f} "
            f"[{ci[0]:.3f}, {ci[1]:.3f}], naive "
            f"{i.get('m_naive', float('nan')):.3f} -> {f.get('m_naive', float('nan')):.3f}; rate "
            f"{i['rate_hz']:.2f} -> {f['rate_hz']:.2f} Hz (r0 = 10) in {r['iterations']} it. | "
            f"{verdict} |"
        )
    return rows


def summary() -> None:
    lines = [
        "# Acceptance runs: learning (issue 3)",
        "",
        "Produced by `benchmarks/acceptance_learning.py` (each run's machine and load are in "
        "its JSON); runs were cut by a wall-clock limit where noted.",
        "",
    ]
    lines += (
        _verdicts()
        + [""]
        + [
            "Notes. Pattern generation: the run recorded on 2026-11-27 (19.5x, one learning rate "
            "for all weights) did not reproduce: the same commit gave 3.6x on 2026-12-01, and seeds "
            "0-2 gave 1x, 10x and 10x (the recurrent steps were 30x the published ones, see below; "
            "training was erratic and the outcome hung on float32 rounding). With the learning rate "
            "of w_rec scaled by 1 - alpha (published units) every seed learns (table). ",
            "Evidence accumulation: e-prop's ALIF traces are accumulated by chunks "
            "(backward per-unit scan plus batched matrix products, same numbers), kept for the "
            "adaptive units only, and the readout filter looks ahead (one extra forward pass "
            "instead of per-synapse filtered traces), so one iteration at the published batch of 64 "
            "takes ~0.55 s here (~3 s before the chunking, ~0.9 s before the last two changes; the "
            "recorded run, 2026-12-01: 18.7 min for 2000 ALIF iterations, 10.9 min for the LIF "
            "control). The recorded run uses the published code's settings translated to this "
            "model's units: cues drawn as published (a favoured side per trial, each cue against it "
            "with p_group = 0.3), beta_a = 8.7e-4 (1.7 (1 - rho)/(1 - alpha) at thr 0.6, scaled by "
            "v_th/0.6), a (1 - kappa) readout, the regulariser 2e-6, Adam 5e-3 without clipping, and "
            "the learning rate of w_rec scaled by 1 - alpha = 0.0488. That last factor was the "
            "missing piece: our w_rec is in units of v, the published one in units of v/(1 - alpha) "
            "(our input weights carry that factor, the recurrent ones do not), and Adam moves every "
            "weight by ~lr per step whatever its scale, so one learning rate for all weights made "
            "the recurrent steps 20x the published ones: rates jumped to ~100 Hz in the first "
            "iterations, BPTT's gradient exploded (norm 3e12) and e-prop stalled at 25-30 % error "
            "(runs with beta 0.0025, unscaled readout, regulariser 1e-4, clip 10: 28 % after 2000 "
            "iterations; with the published beta but one learning rate: chance after 400). With the "
            "scaled rate the error fell below 10 % within ~450 iterations (published: < 7 % after "
            "about 200-500): 4.4 % (last 10 batches) after 2000 in the recorded run, 3.3 % in the "
            "run before the last e-prop changes (same maths, other float32 rounding). ",
            "Low-rate critical: h (the input-driven events per 3 ms bin with W_rec = 0) is 0.40 "
            "and r* at 10 Hz is 3.0, so m should go to 1 - h/r* = 0.868; e-prop on W_rec with the "
            "unit-rate and variance losses (Adam 1e-2 then 1e-3) brought the rate from 1.5 to 9.9 Hz "
            "and the MR branching ratio from 0 to 0.924 [0.910, 0.936]: 94 % of the way, "
            "overshooting by 0.056 (the membrane's 20 ms memory lengthens the autocorrelation beyond "
            "the pure branching process the prediction assumes; the naive lag-1 slope, 0.51, is "
            "biased by the Poisson spiking noise, which the MR fit's b = 0.55 absorbs). Earlier "
            "runs at lower learning rates (1e-4, 3e-4, 1e-3) stopped at 1.8-4.2 Hz with m 0.25-0.48: "
            "the rate loss raises silent units slowly.",
            "",
        ]
    )
    for name in ("pattern", "evidence", "evidence_bptt", "critical"):
        f = OUT / f"acceptance_learning_{name}.json"
        if not f.exists():
            if name != "evidence_bptt":  # the diagnostic is optional
                lines += [f"## {name}", "", "not run", ""]
            continue
        res = json.loads(f.read_text())
        cmd = res.get("command", f"{COMMAND} {name} ... (see the JSON for settings)")
        lines += [
            f"## {name}",
            "",
            f"Command: `{cmd}`",
            "",
            "```json",
            json.dumps(res, indent=1),
            "```",
            "",
            f"![{name}](acceptance_learning_{name}.png)",
            "",
        ]
    (OUT / "acceptance_learning.md").write_text("\n".join(lines))


def main() -> None:
    global OUT  # --out: the folder every writer and reader of this script uses
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", nargs="?", choices=["pattern", "evidence", "critical"])
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--max-minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-2, help="critical: Adam learning rate")
    ap.add_argument("--var-weight", type=float, default=1e-7, help="critical: variance loss")
    ap.add_argument(
        "--fine-iterations", type=int, default=0, help="critical: extra iterations at lr/10"
    )
    ap.add_argument(
        "--p-group",
        type=float,
        default=0.3,
        help="evidence: probability that a cue is against the trial's favoured side",
    )
    ap.add_argument(
        "--beta-a",
        type=float,
        default=8.7e-4,
        help="evidence: ALIF adaptation strength (published: 8.7e-4)",
    )
    ap.add_argument(
        "--readout-scaling",
        default="one_minus_kappa",
        help="evidence: 'none' or 'one_minus_kappa' (published)",
    )
    ap.add_argument(
        "--rate-reg",
        type=float,
        default=2e-6,
        help="evidence: firing-rate regulariser weight (published: 2e-6)",
    )
    ap.add_argument(
        "--method",
        default="eprop",
        choices=("eprop", "bptt", "bptt_stopgrad"),
        help="evidence: gradient method (not eprop: ALIF only, a diagnostic)",
    )
    ap.add_argument(
        "--rec-lr-scale",
        type=float,
        default=0.0488,
        help="evidence: learning-rate factor of w_rec (published units: 1 - alpha)",
    )
    ap.add_argument("--clip-norm", type=float, default=0.0, help="evidence: 0 = no clipping")
    ap.add_argument("--summary", action="store_true", help="only rewrite the markdown record")
    ap.add_argument("--out", type=Path, default=OUT, help="folder of the result files")
    args = ap.parse_args()
    if not (args.run or args.summary):
        ap.error("give a run (pattern, evidence or critical) or --summary")
    OUT = args.out
    warnings.simplefilter("ignore")
    if args.run == "pattern":
        run_pattern(args.iterations, args.max_minutes, args.seed)
    elif args.run == "evidence":
        run_evidence(
            args.iterations,
            args.max_minutes,
            args.seed,
            args.batch,
            p_group=args.p_group,
            beta_a=args.beta_a,
            readout_scaling=args.readout_scaling,
            rate_reg=args.rate_reg,
            method=args.method,
            rec_lr_scale=args.rec_lr_scale,
            clip_norm=args.clip_norm or None,
        )
    elif args.run == "critical":
        run_critical(
            args.iterations,
            args.max_minutes,
            args.seed,
            lr=args.lr,
            batch=args.batch,
            var_weight=args.var_weight,
            fine_iterations=args.fine_iterations,
        )
    if args.summary or args.run:
        summary()


if __name__ == "__main__":
    main()

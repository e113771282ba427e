"""Acceptance experiment of issue 13 (not in CI): a 10^4-unit sparse E/I network trained by
e-prop toward the deck's low-rate critical state, measured before and after on fresh trials.

Setup. LIF units (tau_m 20 ms, n_ref 2 steps, dt 1 ms) with Dale's law, fixed in-degree K
(``k_in``, 80 % excitatory inputs; Brunel 2000), sparse recurrent weights (``SparseWeights``,
float32), driven by weak Poisson input (``n_in`` channels at ``in_rate`` Hz through dense input
weights). ``h`` is the rate the input alone evokes (measured with W_rec = 0). e-prop trains
``w_rec`` only, with the deck's per-unit target-rate loss (target ``r0``) and global-rate-variance
loss. A driven branching process held at rate ``r0`` by homeostasis has ``m = 1 - h/r0``
(Zierenberg, Wilting & Priesemann 2018, Phys. Rev. X 8, 031018, eq. 3), the prediction the
training should approach. The variance target is that process's stationary variance of the
population rate at the loss's 1-step resolution, ``Var A = r*/(1 - m^2)`` (Poisson offspring and
immigration), in Hz^2.

Measures (before and after training, ``--trials`` fresh trials of ``--trial-steps`` steps from
rest on the event engine, the first ``--discard`` steps dropped):

- rate, MR branching ratio ``m`` with its bootstrap interval (Wilting & Priesemann 2018, Nat.
  Commun. 9, 2325; ``idn.criticality.branching_ratio``) in bins of n_ref + 1 steps;
- avalanches: population counts of a random subsample of ``--subsample`` units ("electrodes",
  as in experiments) in bins of their mean inter-event interval (Beggs & Plenz 2003,
  J. Neurosci. 23, 11167), and of the whole population at one step; size and duration power
  laws (Clauset, Shalizi & Newman 2009, SIAM Rev. 51, 661) with xmin, decades spanned and
  likelihood-ratio verdicts against exponential and lognormal; the crackling relation
  ``<S>(D) ~ D^((alpha_D - 1)/(alpha_S - 1))`` (Sethna, Dahmen & Myers 2001, Nature 410, 242).

The run checkpoints every iteration into ``--run-dir``; ``--resume`` continues it, ``--measure``
only measures the latest checkpoint and writes the record. Results:
``benchmarks/results/acceptance_scale.json``, ``.md`` and ``acceptance_scale_*.png``.

Run (from the repository root)::

    .venv/bin/python benchmarks/acceptance_scale.py --max-minutes 40
    .venv/bin/python benchmarks/acceptance_scale.py --resume --max-minutes 30   # continue
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/acceptance_scale.py"


def build(a):
    """The network, its task (Poisson input) and the initial weights (sparse, float32)."""
    import infodyn as idn
    from infodyn.learning.tasks import RateTask

    net = idn.network.LIF(
        n_in=a.n_in,
        n_rec=a.n,
        n_out=0,
        connectivity="ei",
        k_in=a.k,
        tau_m=20.0,
        v_th=0.03,
        in_scale=a.in_scale,
        rec_scale=a.rec_scale,
        inh_factor=a.inh_factor,
        surrogate="fast_sigmoid",
        n_ref=2,
    )
    task = RateTask(n_in=a.n_in, n_steps=a.steps, rate_hz=a.in_rate)
    return net, task, net.init(seed=a.seed, precision="float32")


def record_trials(net, task, params, n_trials, n_steps, seed):
    """Spike times and units of ``n_trials`` fresh trials (event engine, from rest)."""
    rng = np.random.default_rng(seed)
    p = {k: (v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)) for k, v in params.items()}
    trials = []
    for _ in range(n_trials):
        x = np.concatenate([task.batch(rng, 1)[0][0] for _ in range(-(-n_steps // task.n_steps))])
        z = net.simulate(p, x[:n_steps], engine="event", record=False).z
        t, u = np.nonzero(np.asarray(z))
        trials.append((t.astype(np.int32), u.astype(np.int32)))
    return trials


def counts(trials, n_steps, units=None, discard=0, bin_steps=1):
    """Population counts (n_trials, n_bins) of ``units`` (all if None) in bins of steps."""
    out = []
    for t, u in trials:
        keep = t >= discard if units is None else (t >= discard) & units[u]
        c = np.bincount(t[keep] - discard, minlength=n_steps - discard)
        n_bins = c.size // bin_steps
        out.append(c[: n_bins * bin_steps].reshape(n_bins, bin_steps).sum(1))
    return np.asarray(out)


def _powerlaw(values):
    from infodyn.criticality import fit_power_law

    values = np.asarray(values)
    if values.size < 100:
        return {"n": int(values.size), "error": "fewer than 100 avalanches"}
    fit = fit_power_law(values, discrete=True, min_tail=50)
    d = fit.to_dict()
    d["decades"] = float(np.log10(values.max() / fit.xmin))
    d["max"] = float(values.max())
    return d


def avalanche_stats(act, bin_ms):
    """Avalanches of the counts ``act`` (trials, bins): size and duration fits, crackling."""
    from infodyn.criticality import avalanches, crackling_relation

    av = avalanches(act)
    out = {
        "n_avalanches": av.n,
        "bin_ms": bin_ms,
        "events_per_bin": float(act.mean()),
        "silent_fraction": float(np.mean(act == 0)),
    }
    if av.n < 100:
        out["error"] = f"only {av.n} avalanches (the activity is rarely silent at this bin)"
        return out, av
    out["size"], out["duration"] = _powerlaw(av.sizes), _powerlaw(av.durations)
    try:
        cr = crackling_relation(
            av, out["size"]["alpha"], out["duration"]["alpha"], d_min=int(out["duration"]["xmin"])
        )
        out["crackling"] = cr.to_dict()
    except Exception as e:  # noqa: BLE001 - record why the relation could not be checked
        out["crackling"] = {"error": str(e)}
    return out, av


def measure(net, task, params, a, seed=123):
    """Rate, MR branching ratio and avalanche statistics on fresh trials."""
    from infodyn.criticality.branching import branching_ratio

    t0 = time.time()
    trials = record_trials(net, task, params, a.trials, a.trial_steps, seed)
    bin_steps = net.n_ref + 1
    full = counts(trials, a.trial_steps, discard=a.discard)
    n_kept = a.trial_steps - a.discard
    out = {"rate_hz": float(full.sum() / (full.shape[0] * n_kept * net.n_rec) * 1000 / net.dt)}
    act = counts(trials, a.trial_steps, discard=a.discard, bin_steps=bin_steps)
    out["events_per_bin"] = float(act.mean())
    out["bin_ms"] = bin_steps * net.dt
    for method in ("mr", "naive"):
        try:
            r = branching_ratio(act, method=method, dt=bin_steps * net.dt, n_boot=100, seed=0)
            out[f"m_{method}"], out[f"m_{method}_ci95"] = float(r.m), [float(c) for c in r.m_ci]
            out[f"tau_ms_{method}"] = float(r.tau)
        except Exception as e:  # noqa: BLE001 - record why the estimator refused
            out[f"m_{method}"], out[f"m_{method}_error"] = float("nan"), str(e)
    rng = np.random.default_rng(seed + 1)
    sub = np.zeros(net.n_rec, bool)
    sub[rng.choice(net.n_rec, a.subsample, replace=False)] = True
    step_sub = counts(trials, a.trial_steps, units=sub, discard=a.discard)
    iei = step_sub.size / max(1, step_sub.sum())  # mean inter-event interval (steps)
    b = max(1, int(round(iei)))
    out["avalanches_subsampled"], av_sub = avalanche_stats(
        counts(trials, a.trial_steps, units=sub, discard=a.discard, bin_steps=b), b * net.dt
    )
    out["avalanches_subsampled"]["n_units"] = a.subsample
    out["avalanches_full"], av_full = avalanche_stats(full, net.dt)
    out["seconds"] = time.time() - t0
    return out, {"trials": trials, "act": act, "av_sub": av_sub, "av_full": av_full}


def input_drive(net, task, params, a):
    """``h``: the rate (Hz per unit) the input alone evokes (W_rec = 0)."""
    w = params["w_rec"]
    no_rec = {**params, "w_rec": w.with_values(np.zeros(w.nnz, np.float32))}
    trials = record_trials(net, task, no_rec, 2, a.trial_steps, 7)
    full = counts(trials, a.trial_steps, discard=a.discard)
    return float(full.sum() / (full.size * net.n_rec) * 1000 / net.dt)


def train(net, task, params, a, loss, run: Path, minutes: float):
    """e-prop with online windows; one checkpoint per iteration. Adam at ``--lr`` until the
    training rate first exceeds ``r0 / 2``, then at ``--fine-lr`` (smaller weight steps near the
    critical point, where the rate is very sensitive to W_rec; the switch is kept in
    ``schedule.json`` so a resumed run continues at the same rate). Returns the trainer and
    whether the time limit stopped it."""
    from infodyn.data.atomic import write_json
    from infodyn.learning.trainer import Trainer, TrainOptions

    sched_file = run / "schedule.json"
    sched = json.loads(sched_file.read_text()) if sched_file.exists() else {"fine_from": None}

    def trainer(lr):
        opts = TrainOptions(
            method="eprop",
            optimizer="adam",
            lr=lr,
            batch_size=1,
            seed=a.seed,
            train=("w_rec",),
            online_window=a.window,
            checkpoint_every=1,
            clip_norm=a.clip_norm,
            precision="float32",
        )
        tr = Trainer(net, task, loss, opts, params=params)
        if (run / "checkpoint.npz").exists() and (a.resume or lr != a.lr):
            tr.load_checkpoint(run / "checkpoint.npz")
        return tr

    tr = trainer(a.lr if sched["fine_from"] is None else a.fine_lr)
    if a.reset_optimizer:  # a fresh Adam state (moments) from the current weights
        from infodyn.learning.synapse_ops import trainable_arrays

        tr.state.opt_state = tr.optimizer.init(trainable_arrays(tr.state.params))
        sched.setdefault("optimizer_reset_at", []).append(tr.state.iteration)
        sched.setdefault("clip_norm_from", {})[str(tr.state.iteration)] = a.clip_norm
        write_json(sched_file, sched)
    t0 = time.time()
    while tr.state.iteration < a.iterations and (time.time() - t0) / 60 < minutes:
        rec = tr.step()
        tr.save_checkpoint(run / "checkpoint.npz")
        print(
            f"  it. {rec['iteration']}: rate {rec['mean_rate_hz']:.2f} Hz, loss "
            f"{rec['loss']:.4g}, naive m {rec['branching']:.3f} ({rec['seconds']:.0f} s)",
            flush=True,
        )
        if sched["fine_from"] is None and rec["mean_rate_hz"] > a.r0 / 2:
            sched["fine_from"] = rec["iteration"]
            write_json(sched_file, sched)
            print(f"  lr -> {a.fine_lr:g} from iteration {rec['iteration']}", flush=True)
            tr = trainer(a.fine_lr)
    return tr, tr.state.iteration < a.iterations, sched


def figures(before, after, hist, r0, prefix):
    from infodyn.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(2, 2, figsize=(11, 7))
    for name, raw in (("before", before), ("after", after)):
        if raw is None:
            continue
        t, u = raw["trials"][0]
        sel = (t < 1000) & (u < 2000)
        if name == "after":
            ax[0, 0].plot(t[sel], u[sel], ",k")
            ax[0, 0].set_title("raster after training (first 2000 units, 1 s)")
            ax[0, 0].set_xlabel("step (ms)")
        ax[0, 1].plot(raw["act"][0][:1000], lw=0.6, label=name)
    ax[0, 1].set_xlabel("bin (3 ms)")
    ax[0, 1].set_ylabel("population spikes per bin")
    ax[0, 1].legend(fontsize=7)
    for name, raw, res in (("before", before, "b"), ("after", after, "r")):
        if raw is None or raw["av_sub"].n == 0:
            continue
        for col, key in ((0, "sizes"), (1, "durations")):
            v = getattr(raw["av_sub"], key)
            vals, cnt = np.unique(v, return_counts=True)
            ax[1, col].loglog(vals, cnt / cnt.sum(), ".", color=res, ms=3, label=name)
            fit = raw["fits"][key]
            if "alpha" in fit and fit["alpha"]:
                xs = vals[vals >= fit["xmin"]]
                frac = np.mean(v >= fit["xmin"])
                ax[1, col].loglog(
                    xs,
                    frac
                    * (xs / fit["xmin"]) ** -fit["alpha"]
                    * (cnt[vals >= fit["xmin"]][0] / cnt.sum() / frac),
                    "-",
                    color=res,
                    lw=0.8,
                    label=f"{name}: alpha {fit['alpha']:.2f}, xmin {fit['xmin']:.0f}",
                )
            ax[1, col].set_xlabel(key[:-1] + (" (bins)" if col else " (spikes)"))
            ax[1, col].legend(fontsize=7)
    ax[1, 0].plot([], [])
    fig.tight_layout()
    fig.savefig(f"{prefix}_activity.png", dpi=100)
    fig2, ax2 = plt.subplots(1, 2, figsize=(10, 3))
    ax2[0].plot([r["mean_rate_hz"] for r in hist], lw=0.8)
    ax2[0].axhline(r0, color="k", ls=":", label="r0")
    ax2[0].set_xlabel("iteration")
    ax2[0].set_ylabel("rate (Hz, training sequence)")
    ax2[1].plot([r["branching"] for r in hist], lw=0.8)
    ax2[1].set_xlabel("iteration")
    ax2[1].set_ylabel("m (naive, 1-step bins, training sequence)")
    fig2.tight_layout()
    fig2.savefig(f"{prefix}_training.png", dpi=100)


def _fmt(x, f=".3f"):
    return "-" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, f)


def _aval_rows(name, res):
    """Markdown rows of one avalanche analysis (sizes, durations, crackling)."""
    av = res.get(name, {})
    if "size" not in av:
        return [f"| {name} | {av.get('error', 'not measured')} | | | | |"]
    rows = []
    for key in ("size", "duration"):
        f = av[key]
        comp = f.get("comparisons", {})
        rows.append(
            f"| {name}: {key} (n = {av['n_avalanches']}, bin {av['bin_ms']:g} ms) | "
            f"{_fmt(f.get('alpha'))} +- {_fmt(f.get('sigma'))} | {_fmt(f.get('xmin'), '.0f')} | "
            f"{_fmt(f.get('decades'), '.2f')} | "
            f"{comp.get('exponential', {}).get('favored', '-')} "
            f"(R {_fmt(comp.get('exponential', {}).get('R'), '.1f')}) | "
            f"{comp.get('lognormal', {}).get('favored', '-')} "
            f"(R {_fmt(comp.get('lognormal', {}).get('R'), '.1f')}) |"
        )
    cr = av.get("crackling", {})
    rows.append(
        f"| {name}: crackling | gamma predicted {_fmt(cr.get('gamma_predicted'))}, fitted "
        f"{_fmt(cr.get('gamma_fitted'))} +- {_fmt(cr.get('gamma_fitted_stderr'))} | | | | |"
    )
    return rows


def summary(notes: str = "") -> None:
    """Write ``acceptance_scale.md`` from ``acceptance_scale.json``."""
    r = json.loads((OUT / "acceptance_scale.json").read_text())
    a = r["setup"]
    lines = [
        "# Acceptance experiment (issue 13): a trained 10^4-unit sparse network near criticality",
        "",
        f"Command (last call): `{r['command']}`",
        "",
        f"Setup: {a['n']} LIF units, E/I with Dale's law, fixed in-degree K = {a['k']} "
        f"(nnz = {a['nnz']}), SparseWeights float32; {a['n_in']} Poisson inputs at "
        f"{a['in_rate']} Hz (in_scale {a['in_scale']}); input-evoked rate h = {r['h_hz']:.4f} Hz; "
        f"target r0 = {a['r0']} Hz, so m -> 1 - h/r0 = {r['predicted_m']:.4f}. Loss: {a['loss']}. "
        f"e-prop on w_rec, Adam lr {a['lr']:g} (then {a.get('fine_lr', 0):g} from iteration "
        f"{r.get('fine_lr_from_iteration')}), sequences of {a['steps']} steps with an update "
        f"every {a['window']} steps; {r['iterations']} iterations"
        f"{' (stopped by the time limit)' if r['stopped_by_time_limit'] else ''}. Measured on "
        f"{a['trials']} fresh trials of {a['trial_steps']} steps (first {a['discard']} dropped), "
        "event engine.",
        "",
        "| measure | before | after |",
        "| --- | --- | --- |",
    ]
    b, f = r["before"], r["after"]
    lines.append(f"| rate (Hz) | {_fmt(b['rate_hz'])} | {_fmt(f['rate_hz'])} |")
    for m in ("mr", "naive"):
        cb, cf = b.get(f"m_{m}_ci95", [None, None]), f.get(f"m_{m}_ci95", [None, None])
        lines.append(
            f"| m_{m.upper()} ({b['bin_ms']:g} ms bins) [95 % CI] | {_fmt(b.get(f'm_{m}'), '.4f')} "
            f"[{_fmt(cb[0], '.4f')}, {_fmt(cb[1], '.4f')}] | {_fmt(f.get(f'm_{m}'), '.4f')} "
            f"[{_fmt(cf[0], '.4f')}, {_fmt(cf[1], '.4f')}] |"
        )
    lines += [
        "",
        "Avalanches (power law fits, Clauset et al. 2009; LR verdicts vs exponential "
        "and lognormal, p < 0.1):",
        "",
    ]
    for label, res in (("before", b), ("after", f)):
        lines += [
            f"{label}:",
            "",
            "| analysis | alpha | xmin | decades | vs exponential | vs lognormal |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += _aval_rows("avalanches_subsampled", res) + _aval_rows("avalanches_full", res)
        lines.append("")
    t = r["targets_met"]
    lines += [
        "Targets (after training): "
        + ", ".join(f"{k}: {'met' if v else 'not met'}" for k, v in t.items()),
        "",
        "Figures: `acceptance_scale_activity.png` (raster, population activity, avalanche "
        "distributions with fits), `acceptance_scale_training.png` (rate and naive m during "
        "training).",
        "",
    ]
    if notes:
        lines += [notes, ""]
    (OUT / "acceptance_scale.md").write_text("\n".join(lines))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--n-in", type=int, default=1000)
    ap.add_argument("--in-rate", type=float, default=6.5)
    ap.add_argument("--in-scale", type=float, default=1.0)
    ap.add_argument("--rec-scale", type=float, default=20.0)
    ap.add_argument("--inh-factor", type=float, default=4.0)
    ap.add_argument("--r0", type=float, default=5.0)
    ap.add_argument("--steps", type=int, default=1000, help="training sequence length")
    ap.add_argument("--window", type=int, default=200, help="e-prop update every W steps")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--fine-lr", type=float, default=2e-5)
    ap.add_argument("--clip-norm", type=float, default=None)
    ap.add_argument(
        "--reset-optimizer",
        action="store_true",
        help="with --resume: start Adam's moments afresh from the checkpoint",
    )
    ap.add_argument("--var-weight", type=float, default=1e-7)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--max-minutes", type=float, default=40.0)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--trial-steps", type=int, default=3000)
    ap.add_argument("--discard", type=int, default=500)
    ap.add_argument("--subsample", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run-dir", default="runs/acceptance_scale")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--measure", action="store_true", help="only measure the latest checkpoint")
    ap.add_argument("--summary", action="store_true", help="only rewrite the markdown record")
    a = ap.parse_args(argv)
    if a.summary:
        notes = OUT / "acceptance_scale_notes.md"
        summary(notes.read_text() if notes.exists() else "")
        return
    warnings.simplefilter("ignore")
    from infodyn.data.atomic import write_json
    from infodyn.learning import PopulationRateVariance, UnitRateTarget

    run = Path(a.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    net, task, params = build(a)
    print(
        f"network: {net.n_rec} units, nnz {params['w_rec'].nnz}, built in "
        f"{time.time() - t_start:.0f} s",
        flush=True,
    )
    pre_file = run / "before.json"
    if pre_file.exists():
        pre = json.loads(pre_file.read_text())
        before_raw = None
    else:
        h = input_drive(net, task, params, a)
        before, before_raw = measure(net, task, params, a)
        pre = {"h_hz": h, "before": before}
        write_json(pre_file, pre)
        print(
            f"h = {h:.4f} Hz; before: rate {before['rate_hz']:.3f} Hz, m_MR {before['m_mr']:.4f}",
            flush=True,
        )
    h = pre["h_hz"]
    m_pred = 1.0 - h / a.r0
    r_step = a.r0 * net.n_rec * net.dt / 1000.0
    s_target = r_step / (1.0 - m_pred**2) * (1000.0 / (net.dt * net.n_rec)) ** 2
    loss = UnitRateTarget(r0_hz=a.r0, weight=1e-3) + PopulationRateVariance(
        weight=a.var_weight, s_target=s_target
    )
    if a.measure:
        from infodyn.learning.trainer import Trainer, TrainOptions

        tr = Trainer(
            net,
            task,
            loss,
            TrainOptions(train=("w_rec",), precision="float32", online_window=a.window),
            params=params,
        )
        tr.load_checkpoint(run / "checkpoint.npz")
        stopped = tr.state.iteration < a.iterations
        sched_file = run / "schedule.json"
        sched = json.loads(sched_file.read_text()) if sched_file.exists() else {}
    else:
        tr, stopped, sched = train(net, task, params, a, loss, run, a.max_minutes)
    hist = tr.state.history
    after, after_raw = measure(net, task, tr.state.params, a)
    for raw, res in ((before_raw, pre["before"]), (after_raw, after)):
        if raw is not None:
            sub = res["avalanches_subsampled"]
            raw["fits"] = {"sizes": sub.get("size", {}), "durations": sub.get("duration", {})}
    prefix = str(OUT / "acceptance_scale")
    figures(before_raw, after_raw, hist, a.r0, prefix)
    sub = after["avalanches_subsampled"]
    size = sub.get("size", {})
    verdict = {
        "m_mr_ge_0.98": bool(after.get("m_mr", 0) >= 0.98),
        "size_exponent_1.5pm0.1": bool(size.get("alpha") and abs(size["alpha"] - 1.5) <= 0.1),
        "size_decades_ge_2": bool(size.get("decades", 0) >= 2),
        "power_law_over_exponential": size.get("comparisons", {})
        .get("exponential", {})
        .get("favored")
        == "power_law",
    }
    result = {
        "setup": vars(a)
        | {
            "nnz": params["w_rec"].nnz,
            "loss": "UnitRateTarget(r0, weight 1e-3)"
            f" + PopulationRateVariance(weight {a.var_weight:g}, s_target "
            f"{s_target:.3g} Hz^2)",
        },
        "h_hz": h,
        "predicted_m": m_pred,
        "s_target_hz2": s_target,
        "before": pre["before"],
        "after": after,
        "iterations": tr.state.iteration,
        "stopped_by_time_limit": stopped,
        "fine_lr_from_iteration": sched.get("fine_from"),
        "schedule": sched,
        "history": [
            {k: r[k] for k in ("iteration", "loss", "mean_rate_hz", "branching", "seconds")}
            for r in hist
        ],
        "targets_met": verdict,
        "minutes_this_call": (time.time() - t_start) / 60,
        "machine": f"{platform.machine()}, shared 2-core machine under heavy load",
        "command": " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])]),
    }
    write_json(OUT / "acceptance_scale.json", result)
    print(
        json.dumps(
            {k: result[k] for k in ("h_hz", "predicted_m", "iterations", "targets_met")}, indent=1
        )
    )


if __name__ == "__main__":
    main()

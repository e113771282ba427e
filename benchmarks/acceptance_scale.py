"""Acceptance experiment of issue 13 (not in CI): a 10^4-unit sparse E/I network trained by
e-prop toward the deck's low-rate critical state, measured before and after on fresh trials.

Setup. Integrate-and-fire units in the non-leaky limit of infodyn's LIF (``tau_m`` = 1e9 ms,
so ``alpha`` = 1 in float32; subtractive reset; dt 1 ms) with Dale's law and fixed in-degree K
(``k_in``, 80 % excitatory inputs; Brunel 2000), sparse recurrent weights (``SparseWeights``,
float32), started in the uniform state between reset and threshold and driven by a weak Poisson
drive of ``h`` threshold units per unit and second (:class:`DrivenIntegratorTask`). Why this
regime: a non-leaky unit with subtractive reset keeps every bit of charge it receives, and with
its potential uniform on [0, v_th) an input of w makes it fire with probability w / v_th, however
many inputs coincide, so the network is a driven branching process whose branching ratio is the
mean summed input weight per unit over v_th (Eurich, Herrmann & Ernst 2002, Phys. Rev. E 66,
066137; Levina, Herrmann & Geisel 2007, Nat. Phys. 3, 857) and its rate is ``h / (1 - m)``: the
transition to ``m = 1`` is continuous. In the previous run of this script (tau_m 20 ms, units far
below threshold under weak drive) the response to recurrent input was strongly convex, raising
W_rec switched the network from a quiet into a self-sustained ignited state, and no low-rate
critical state existed to train toward (see the record's history section). ``h`` is the rate the
drive alone evokes (measured with W_rec = 0). e-prop trains ``w_rec`` only, with the deck's
per-unit target-rate loss (target ``r0``) and global-rate-variance loss. A driven branching
process held at rate ``r0`` by homeostasis has ``m = 1 - h/r0`` (Zierenberg, Wilting &
Priesemann 2018, Phys. Rev. X 8, 031018, eq. 3), the prediction the training should approach.
The variance target is that process's stationary variance of the population rate at the loss's
1-step resolution, ``Var A = r*/(1 - m^2)`` (Poisson offspring and immigration), in Hz^2.

Measures (before and after training, ``--trials`` fresh trials of ``--trial-steps`` steps from
rest on the event engine, the first ``--discard`` steps dropped):

- rate, MR branching ratio ``m`` with its bootstrap interval (Wilting & Priesemann 2018, Nat.
  Commun. 9, 2325; ``idn.criticality.branching_ratio``) in bins of n_ref + 1 steps;
- avalanches of the whole population in 1-step bins (the primary analysis, on which the targets
  are judged: under this weak drive the population is silent between avalanches), and of a
  random subsample of ``--subsample`` units ("electrodes", as in experiments) in bins of their
  mean inter-event interval (Beggs & Plenz 2003, J. Neurosci. 23, 11167); size and duration power
  laws (Clauset, Shalizi & Newman 2009, SIAM Rev. 51, 661) with xmin, decades spanned and
  likelihood-ratio verdicts against exponential and lognormal; the crackling relation
  ``<S>(D) ~ D^((alpha_D - 1)/(alpha_S - 1))`` (Sethna, Dahmen & Myers 2001, Nature 410, 242).

The run checkpoints every iteration into ``--run-dir``; ``--resume`` continues it, ``--measure``
only measures the latest checkpoint and writes the record. Results:
``benchmarks/results/acceptance_scale.json``, ``.md`` and ``acceptance_scale_*.png``.

Run (from the repository root; the command of the recorded run is in the record)::

    .venv/bin/python benchmarks/acceptance_scale.py --lr 2e-4 --fine-lr 1e-5 --max-minutes 45
    .venv/bin/python benchmarks/acceptance_scale.py --resume --max-minutes 30   # continue
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/acceptance_scale.py"


@dataclass
class DrivenIntegratorTask:
    """Input of the acceptance network: a uniform initial state and a weak Poisson drive.

    Channels ``0 .. init_channels-1`` are *initial-state* channels: one of them, drawn per
    trial, fires at step 0 and its weights (``U(0, v_th)`` per unit) place every membrane
    potential uniformly between reset and threshold, the stationary state of a non-leaky
    integrate-and-fire network (Eurich, Herrmann & Ernst 2002, Phys. Rev. E 66, 066137);
    from rest the first spike of a unit would need ``1/h`` seconds of drive. The remaining
    ``drive_channels`` are Poisson sources at ``rate_hz``, each projecting with weight
    ``kick * v_th`` onto its own block of units, so that the drive adds ``h`` threshold's worth
    of charge per unit and second. ``batch`` is the interface of
    :class:`infodyn.learning.Trainer`; ``sample`` draws one trial of any length.
    """

    init_channels: int
    drive_channels: int
    rate_hz: float
    n_steps: int
    n_out: int = 0
    dt: float = 1.0

    @property
    def n_in(self) -> int:
        return self.init_channels + self.drive_channels

    def sample(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        x = np.zeros((n_steps, self.n_in))
        x[0, rng.integers(self.init_channels)] = 1.0
        p = self.rate_hz * self.dt / 1000.0
        x[:, self.init_channels :] = rng.random((n_steps, self.drive_channels)) < p
        return x

    def batch(self, rng: np.random.Generator, batch_size: int):
        return np.stack([self.sample(rng, self.n_steps) for _ in range(batch_size)]), None

    def metrics(self, y: np.ndarray, target: Any) -> dict[str, Any]:
        return {}


def build(a):
    """The network, its task (initial state + Poisson drive) and the initial weights."""
    import infodyn as idn

    task = DrivenIntegratorTask(a.init_channels, a.drive_channels, a.h / a.kick, a.steps)
    net = idn.network.LIF(
        n_in=task.n_in,
        n_rec=a.n,
        n_out=0,
        connectivity="ei",
        k_in=a.k,
        tau_m=a.tau_m,
        v_th=1.0,
        rec_scale=a.rec_scale,
        inh_factor=a.inh_factor,
        surrogate="fast_sigmoid",
        n_ref=a.n_ref,
    )
    params = net.init(seed=a.seed, precision="float32")
    rng = np.random.default_rng(a.seed + 1)
    w_in = np.zeros((task.n_in, a.n), np.float32)
    w_in[: a.init_channels] = rng.random((a.init_channels, a.n)) * np.float32(0.999)
    block = rng.integers(0, a.drive_channels, a.n)
    w_in[a.init_channels + block, np.arange(a.n)] = a.kick
    params["w_in"] = w_in
    return net, task, params


def record_trials(net, task, params, n_trials, n_steps, seed):
    """Spike times and units of ``n_trials`` fresh trials (event engine)."""
    rng = np.random.default_rng(seed)
    p = {k: (v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)) for k, v in params.items()}
    trials = []
    for _ in range(n_trials):
        z = net.simulate(p, task.sample(rng, n_steps), engine="event", record=False).z
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
    hz = 1000 / (n_kept * net.n_rec * net.dt)
    out = {"rate_hz": float(full.sum() * hz / full.shape[0])}
    out["trial_rates_hz"] = [float(c.sum() * hz) for c in full]
    act = counts(trials, a.trial_steps, discard=a.discard, bin_steps=bin_steps)
    out["events_per_bin"] = float(act.mean())
    out["bin_ms"] = bin_steps * net.dt
    for method, key, bc in (("mr", "mr", False), ("mr", "mr_bc", True), ("naive", "naive", False)):
        try:
            r = branching_ratio(
                act, method=method, dt=bin_steps * net.dt, n_boot=100, seed=0, bias_correction=bc
            )
            out[f"m_{key}"], out[f"m_{key}_ci95"] = float(r.m), [float(c) for c in r.m_ci]
            out[f"tau_ms_{key}"] = float(r.tau)
        except Exception as e:  # noqa: BLE001 - record why the estimator refused
            out[f"m_{key}"], out[f"m_{key}_error"] = float("nan"), str(e)
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
    from infodyn.atomic import write_json
    from infodyn.experiments.hooks import branching_hook
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
        tr = Trainer(net, task, loss, opts, params=params, hooks=(branching_hook(),))
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
    ax[0, 1].set_xlabel("bin (n_ref + 1 steps)")
    ax[0, 1].set_ylabel("population spikes per bin")
    ax[0, 1].legend(fontsize=7)
    for name, raw, res in (("before", before, "b"), ("after", after, "r")):
        if raw is None or raw["av_full"].n == 0:
            continue
        for col, key in ((0, "sizes"), (1, "durations")):
            v = np.asarray(getattr(raw["av_full"], key), dtype=np.float64)
            edges = np.unique(np.floor(np.logspace(0, np.log10(v.max() + 1), 25)))
            dens, _ = np.histogram(v, bins=edges)
            dens = dens / (v.size * np.diff(edges))  # log-binned probability density
            mid = np.sqrt(edges[:-1] * np.maximum(edges[1:] - 1, edges[:-1]))
            ax[1, col].loglog(mid[dens > 0], dens[dens > 0], "o", color=res, ms=3, label=name)
            fit = raw["fits"][key]
            if fit.get("alpha"):
                a_, x0 = fit["alpha"], fit["xmin"]
                xs = np.logspace(np.log10(x0), np.log10(v.max()), 50)
                frac = np.mean(v >= x0)  # p(x) = frac (alpha - 1) / xmin (x / xmin)^-alpha
                ax[1, col].loglog(
                    xs,
                    frac * (a_ - 1) / x0 * (xs / x0) ** -a_,
                    "-",
                    color=res,
                    lw=0.8,
                    label=f"{name}: alpha {a_:.2f}, xmin {x0:.0f}",
                )
            ax[1, col].set_xlabel(key[:-1] + (" (bins)" if col else " (spikes)"))
            ax[1, col].set_ylabel("probability density (log bins)")
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
        f"Setup: {a['n']} non-leaky integrate-and-fire units (LIF with tau_m = {a['tau_m']:g} ms, "
        f"v_th 1, subtractive reset, n_ref {a['n_ref']}), E/I with Dale's law (inh_factor "
        f"{a['inh_factor']:g}), fixed in-degree K = {a['k']} (nnz = {a['nnz']}), SparseWeights "
        f"float32; uniform initial state (one of {a['init_channels']} initial-state channels "
        f"fires at step 0) and Poisson drive h = {a['h']:g} Hz per unit ({a['drive_channels']} "
        f"channels, kick {a['kick']:g} v_th; measured with W_rec = 0: {r['h_hz']:.4f} Hz); "
        f"target r0 = {a['r0']} Hz, so m -> 1 - h/r0 = {r['predicted_m']:.4f}. Loss: {a['loss']}. "
        "e-prop on w_rec with Adam (learning rates and sequence lengths of each call: see "
        f"'How this run was made'), an update every {a['window']} steps; "
        f"{r['iterations']} iterations. Measured on "
        f"{a['trials']} fresh trials of {a['trial_steps']} steps (first {a['discard']} dropped), "
        "event engine.",
        "",
        "| measure | before | after |",
        "| --- | --- | --- |",
    ]
    b, f = r["before"], r["after"]
    lines.append(f"| rate (Hz) | {_fmt(b['rate_hz'])} | {_fmt(f['rate_hz'])} |")
    for m in ("mr", "mr_bc", "naive"):
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
    ap.add_argument("--h", type=float, default=0.005, help="drive, Hz per unit (threshold units)")
    ap.add_argument("--kick", type=float, default=0.02, help="drive weight (x v_th)")
    ap.add_argument("--drive-channels", type=int, default=200)
    ap.add_argument("--init-channels", type=int, default=16)
    ap.add_argument("--tau-m", type=float, default=1e9, help="ms; 1e9 = non-leaky in float32")
    ap.add_argument("--n-ref", type=int, default=0)
    ap.add_argument("--rec-scale", type=float, default=2.5)
    ap.add_argument("--inh-factor", type=float, default=1.0)
    ap.add_argument("--r0", type=float, default=2.0)
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
    from infodyn.atomic import write_json
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
    if before_raw is None:  # a resumed run: the same trials again (fixed seeds), for the figures
        _, before_raw = measure(net, task, params, a)
    for raw, res in ((before_raw, pre["before"]), (after_raw, after)):
        if raw is not None:
            full = res["avalanches_full"]
            raw["fits"] = {"sizes": full.get("size", {}), "durations": full.get("duration", {})}
    prefix = str(OUT / "acceptance_scale")
    figures(before_raw, after_raw, hist, a.r0, prefix)
    size = after["avalanches_full"].get("size", {})
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

"""Acceptance experiment of issue 13 (not in CI): a 10^4-unit sparse E/I network trained by
e-prop toward the deck's low-rate critical state, measured before and after on fresh trials.

Setup. Integrate-and-fire units in the non-leaky limit of infodyn's LIF (``tau_m`` = 1e9 ms,
so ``alpha`` = 1 in float32; subtractive reset; dt 1 ms) with Dale's law and fixed in-degree K
(``k_in``, 80 % excitatory inputs; Brunel 2000), sparse recurrent weights (``SparseWeights``,
float32), started in the uniform state between reset and threshold (or, with
``--init-stationary``, in potentials the untrained network reaches on its own: under strong
inhibition they spread below reset and the uniform start fires a population burst) and driven
by a weak Poisson
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
only measures the latest checkpoint and writes the record, ``--prototype`` only measures the
untrained network (one JSON line: sweeps of ``--rec-scale``, ``--h``, ``--inh-factor``), and
``--save-spikes F.h5`` also writes the measured trials as an infodyn spike file. Results:
``benchmarks/results/<record>.json``, ``.md`` and ``<record>_*.png`` (``--record``, default
``acceptance_scale``; ``--out`` another folder: use one for trial runs); ``--summary`` only
rewrites ``<record>.md`` from its JSON and ``<record>_notes.md``. A ``.md`` this script did not
write (the older records, edited by hand) is kept unless ``--force``. Helpers in
``acceptance_scale_tools.py``.

Run (from the repository root; the command of the recorded run is in the record)::

    .venv/bin/python benchmarks/acceptance_scale.py --lr 2e-4 --fine-lr 1e-5 --max-minutes 45
    .venv/bin/python benchmarks/acceptance_scale.py --resume --max-minutes 30   # continue
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import acceptance_scale_tools as tools
from acceptance_scale_tools import aval_rows, fmt
from harness import machine

OUT = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/acceptance_scale.py"


#: the metrics of each training iteration kept in the record
HISTORY_KEYS = ("iteration", "loss", "mean_rate_hz", "branching", "branching_mr", "seconds")


def training_hooks() -> tuple:
    """The trainer's hooks, in training and in ``--measure`` (their states load with the
    checkpoint): the branching ratio of every training sequence, naive and multistep regression."""
    from infodyn.experiments.hooks import branching_hook

    return (branching_hook("naive"), branching_hook("mr"))


def train(net, task, params, a, loss, run: Path, minutes: float):
    """e-prop with online windows; one checkpoint per iteration. Adam at ``--lr`` until the
    training rate first exceeds ``r0 / 2``, then at ``--fine-lr`` (smaller weight steps near the
    critical point, where the rate is very sensitive to W_rec; the switch is kept in
    ``schedule.json`` so a resumed run continues at the same rate). Returns the trainer and
    whether the time limit stopped it."""
    from infodyn.atomic import write_json
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
        tr = Trainer(net, task, loss, opts, params=params, hooks=training_hooks())
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
            f"{rec['loss']:.4g}, naive m {rec['branching']:.3f}, MR m {rec['branching_mr']:.4f} "
            f"({rec['seconds']:.0f} s)",
            flush=True,
        )
        if sched["fine_from"] is None and rec["mean_rate_hz"] > a.r0 / 2:
            sched["fine_from"] = rec["iteration"]
            write_json(sched_file, sched)
            print(f"  lr -> {a.fine_lr:g} from iteration {rec['iteration']}", flush=True)
            tr = trainer(a.fine_lr)
    return tr, tr.state.iteration < a.iterations, sched


#: the first line of every ``<record>.md`` this script writes: one without it (a record written
#: by hand, or by an older version of this script from other keys) is not overwritten
MARK = "<!-- written by benchmarks/acceptance_scale.py from {record}.json (+ {record}_notes.md) -->"


def hand_written(record: str, out: Path) -> str | None:
    """Why ``<record>.md`` in ``out`` may not be replaced (it exists without :data:`MARK`), or
    None."""
    md = out / f"{record}.md"
    if md.exists() and md.read_text().split("\n", 1)[0] != MARK.format(record=record):
        return (
            f"{md} was not written by this script (its first line is not this script's mark): "
            "kept; rerun with --force to replace it, or give another --record"
        )
    return None


def summary(record: str, notes: str = "", out: Path = OUT, force: bool = False) -> None:
    """Write ``<record>.md`` from ``<record>.json`` in ``out`` (``record``: e.g.
    ``acceptance_scale``); an existing ``.md`` without :data:`MARK` is kept unless ``force``."""
    md = out / f"{record}.md"
    if not force and (why := hand_written(record, out)):
        raise SystemExit(why)
    mark = MARK.format(record=record)
    r = json.loads((out / f"{record}.json").read_text())
    a = r["setup"]
    init = (
        f"initial states: the potentials of the untrained network after {a['init_stationary']} "
        "steps"
        if a.get("init_stationary")
        else "uniform initial state"
    )
    lines = [
        mark,
        f"# Acceptance experiment (issue 13): a trained {a['n']:,}-unit sparse network near "
        "criticality",
        "",
        f"Command (last call): `{r['command']}`",
        "",
        f"Setup: {a['n']} non-leaky integrate-and-fire units (LIF with tau_m = {a['tau_m']:g} ms, "
        f"v_th 1, subtractive reset, n_ref {a['n_ref']}), E/I with Dale's law (inh_factor "
        f"{a['inh_factor']:g}), fixed in-degree K = {a['k']} (nnz = {a['nnz']}), SparseWeights "
        f"float32; {init} (one of {a['init_channels']} initial-state channels "
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
    lines.append(f"| rate (Hz) | {fmt(b['rate_hz'])} | {fmt(f['rate_hz'])} |")
    for m in ("mr", "mr_bc", "naive"):
        cb, cf = b.get(f"m_{m}_ci95", [None, None]), f.get(f"m_{m}_ci95", [None, None])
        lines.append(
            f"| m_{m.upper()} ({b['bin_ms']:g} ms bins) [95 % CI] | {fmt(b.get(f'm_{m}'), '.4f')} "
            f"[{fmt(cb[0], '.4f')}, {fmt(cb[1], '.4f')}] | {fmt(f.get(f'm_{m}'), '.4f')} "
            f"[{fmt(cf[0], '.4f')}, {fmt(cf[1], '.4f')}] |"
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
        lines += aval_rows("avalanches_subsampled", res) + aval_rows("avalanches_full", res)
        lines.append("")
    t = r["targets_met"]
    lines += [
        "Targets (after training): "
        + ", ".join(f"{k}: {'met' if v else 'not met'}" for k, v in t.items()),
        "",
        f"Figures: `{record}_activity.png` (rasters before and after training, population "
        "activity, per-trial rates, avalanche distributions with fits), "
        f"`{record}_training.png` (rate, naive and MR m of each training sequence).",
        "",
    ]
    if notes:
        lines += [notes, ""]
    md.write_text("\n".join(lines))


def parser() -> argparse.ArgumentParser:
    """The command line of this script (also read by ``profile_eprop_scale.py``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--h", type=float, default=0.005, help="drive, Hz per unit (threshold units)")
    ap.add_argument("--kick", type=float, default=0.02, help="drive weight (x v_th)")
    ap.add_argument("--drive-channels", type=int, default=200)
    ap.add_argument("--init-channels", type=int, default=16)
    ap.add_argument(
        "--init-stationary",
        type=int,
        default=0,
        help="initial states: potentials after this many steps of the untrained network "
        "(0: uniform on [0, v_th))",
    )
    ap.add_argument("--tau-m", type=float, default=1e9, help="ms; 1e9 = non-leaky in float32")
    ap.add_argument("--n-ref", type=int, default=0)
    ap.add_argument(
        "--sparse-input",
        action="store_true",
        help="w_in as SparseWeights (its stored entries only: the forward passes and e-prop "
        "then skip the dense (n_in, N) product of every step; needed at 10^5 units)",
    )
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
    ap.add_argument("--force", action="store_true", help="replace a .md not written by this script")
    ap.add_argument("--prototype", action="store_true", help="only measure the untrained network")
    ap.add_argument("--record", default="acceptance_scale", help="name of the result files")
    ap.add_argument("--out", default=str(OUT), help="folder of the result files")
    ap.add_argument("--save-spikes", default=None, help="write the measured trials (.h5)")
    return ap


def main(argv=None) -> None:
    ap = parser()
    a = ap.parse_args(argv)
    if not 0 <= a.discard < a.trial_steps:
        ap.error(f"--discard {a.discard} must be >= 0 and below --trial-steps {a.trial_steps}")
    out = Path(a.out)
    notes = out / f"{a.record}_notes.md"
    if a.summary:
        summary(a.record, notes.read_text() if notes.exists() else "", out, a.force)
        return
    if not (a.prototype or a.force) and (why := hand_written(a.record, out)):
        ap.error(why)  # before the run: its JSON would replace the record's, its .md kept
    warnings.simplefilter("ignore")
    from infodyn.atomic import write_json
    from infodyn.learning import PopulationRateVariance, UnitRateTarget

    run = Path(a.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    net, task, params = tools.build(a)
    print(
        f"network: {net.n_rec} units, nnz {params['w_rec'].nnz}, built in "
        f"{time.time() - t_start:.0f} s",
        flush=True,
    )
    if a.prototype:  # the untrained network only (sweeps of rec_scale, drive, inhibition)
        proto, _ = tools.measure(net, task, params, a)
        print(json.dumps(tools.brief(proto, a)), flush=True)
        return
    pre_file = run / "before.json"
    if pre_file.exists():
        pre = json.loads(pre_file.read_text())
        before_raw = None
    else:
        h = tools.input_drive(net, task, params, a)
        before, before_raw = tools.measure(net, task, params, a)
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
            hooks=training_hooks(),
        )
        tr.load_checkpoint(run / "checkpoint.npz")
        stopped = tr.state.iteration < a.iterations
        sched_file = run / "schedule.json"
        sched = json.loads(sched_file.read_text()) if sched_file.exists() else {}
    else:
        tr, stopped, sched = train(net, task, params, a, loss, run, a.max_minutes)
    hist = tr.state.history
    after, after_raw = tools.measure(net, task, tr.state.params, a)
    if before_raw is None:  # a resumed run: the same trials again (fixed seeds), for the figures
        _, before_raw = tools.measure(net, task, params, a)
    for raw, res in ((before_raw, pre["before"]), (after_raw, after)):
        if raw is not None:
            full = res["avalanches_full"]
            raw["fits"] = {"sizes": full.get("size", {}), "durations": full.get("duration", {})}
    prefix = str(out / a.record)
    tools.figures(before_raw, after_raw, hist, a.r0, prefix)
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
        "history": [{k: r[k] for k in HISTORY_KEYS if k in r} for r in hist],
        "targets_met": verdict,
        "minutes_this_call": (time.time() - t_start) / 60,
        "machine": machine(),
        "command": " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])]),
    }
    write_json(out / f"{a.record}.json", result)
    summary(a.record, notes.read_text() if notes.exists() else "", out, force=True)  # checked
    if a.save_spikes:
        meta = {k: result[k] for k in ("setup", "h_hz", "iterations")} | {
            "rate_hz": after["rate_hz"],
            "m_mr": after.get("m_mr"),
            "discard_steps_in_analysis": a.discard,
        }
        tools.save_measured_spikes(
            Path(a.save_spikes), after_raw["trials"], net.n_rec, a.trial_steps, meta
        )
    print(
        json.dumps(
            {k: result[k] for k in ("h_hz", "predicted_m", "iterations", "targets_met")}, indent=1
        )
    )


if __name__ == "__main__":
    main()

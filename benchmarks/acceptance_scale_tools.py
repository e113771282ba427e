"""Helpers of ``acceptance_scale.py`` (issue 13's acceptance experiment): the driven
integrator task, the network, fresh-trial measurements (rate, MR branching ratio, avalanches of
the whole population and of a subsample), the figures, the markdown rows and the spike file of
the measured trials. See ``acceptance_scale.py`` for the setup and the references.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


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
    if a.init_stationary:
        params["w_in"][: a.init_channels] = stationary_states(
            net, task, params, a.init_channels, a.init_stationary, a.seed + 2
        )
    if a.sparse_input:  # only the stored entries (16 dense rows, one kick per unit), e-prop too
        params["w_in"] = idn.network.SparseWeights.from_dense(params["w_in"])
    return net, task, params


def final_potentials(net, params, x: np.ndarray, t: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Membrane potentials after a trial of a non-leaky network (alpha = 1, subtractive reset,
    one-step delay), from its input ``x`` and spikes ``(t, u)`` by charge balance:
    ``v_T = sum_t x_t W_in + sum_{spikes before T-1} W_rec[pre] - v_th * (own spikes)``."""
    import scipy.sparse as sp

    def csr(w):
        if not hasattr(w, "indptr"):
            return sp.csr_matrix(np.asarray(w))
        return sp.csr_matrix(
            (np.asarray(w.values), np.asarray(w.indices), np.asarray(w.indptr)), w.shape
        )

    sent = np.bincount(u[t < x.shape[0] - 1], minlength=net.n_rec).astype(np.float64)
    own = np.bincount(u, minlength=net.n_rec)
    drive = csr(params["w_in"]).T @ x.sum(0)
    return drive + csr(params["w_rec"]).T @ sent - net.v_th * own


def stationary_states(net, task, params, n_states: int, n_steps: int, seed: int) -> np.ndarray:
    """``n_states`` initial potentials (n_states, N) taken from the network's own activity: each
    the potentials after ``n_steps`` steps of a trial started in the uniform state. With strong
    inhibition the stationary potentials spread below reset (a non-leaky unit has no floor), and
    a start in the uniform state on [0, v_th) fires a population burst in the first ~500 steps."""
    rng = np.random.default_rng(seed)
    p = {k: (v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)) for k, v in params.items()}
    out = np.empty((n_states, net.n_rec), np.float32)
    for c in range(n_states):
        x = task.sample(rng, n_steps)
        x[0, : task.init_channels] = 0.0
        x[0, c] = 1.0
        t, u = _spikes(net, p, x)
        out[c] = np.minimum(final_potentials(net, p, x, t, u), 0.999 * net.v_th)
    return out


def record_trials(net, task, params, n_trials, n_steps, seed):
    """Spike times and units of ``n_trials`` fresh trials (event engine)."""
    rng = np.random.default_rng(seed)
    p = {k: (v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)) for k, v in params.items()}
    trials = []
    for _ in range(n_trials):
        t, u = _spikes(net, p, task.sample(rng, n_steps))
        trials.append((t.astype(np.int32), u.astype(np.int32)))
    return trials


def _spikes(net, params, x):
    """The event engine's spikes (times, units), sorted by time then unit, without a dense
    (T, N) array (:func:`infodyn.network.simulate_spikes`)."""
    from infodyn.network import simulate_spikes

    train = simulate_spikes(net, params, x)
    return np.asarray(train.times), np.asarray(train.units)


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
    if 2 * b <= n_kept:
        out["avalanches_subsampled"], av_sub = avalanche_stats(
            counts(trials, a.trial_steps, units=sub, discard=a.discard, bin_steps=b), b * net.dt
        )
    else:  # a near-silent subsample: its bin would be longer than half of each trial
        out["avalanches_subsampled"], av_sub = (
            {
                "error": f"the subsample's mean inter-event interval ({iei:.0f} steps) leaves "
                f"fewer than two bins in the {n_kept} analysed steps of a trial",
                "bin_ms": b * net.dt,
            },
            None,
        )
    out["avalanches_subsampled"]["n_units"] = a.subsample
    out["avalanches_full"], av_full = avalanche_stats(full, net.dt)
    out["seconds"] = time.time() - t0
    raw = {"trials": trials, "act": act, "av_sub": av_sub, "av_full": av_full}
    extra = {"trial_rates_hz": out["trial_rates_hz"], "discard": a.discard, "bin_steps": bin_steps}
    return out, raw | extra


def input_drive(net, task, params, a):
    """``h``: the rate (Hz per unit) the input alone evokes (W_rec = 0), from the uniform state
    on [0, v_th) (the stationary state of uncoupled non-leaky units)."""
    w = params["w_rec"]
    no_rec = {**params, "w_rec": w.with_values(np.zeros(w.nnz, np.float32))}
    rng = np.random.default_rng(a.seed + 1)
    w_in = params["w_in"]
    sparse = hasattr(w_in, "to_dense")
    dense = np.array(w_in.to_dense() if sparse else w_in)
    dense[: a.init_channels] = rng.random((a.init_channels, a.n)) * np.float32(0.999)
    no_rec["w_in"] = type(w_in).from_dense(dense) if sparse else dense
    trials = record_trials(net, task, no_rec, 2, a.trial_steps, 7)
    full = counts(trials, a.trial_steps, discard=a.discard)
    return float(full.sum() / (full.size * net.n_rec) * 1000 / net.dt)


def figures(before, after, hist, r0, prefix):
    """``<prefix>_activity.png``: rasters before and after training (the first trial's first
    2000 units in its first analysed second, after the dropped steps), its population
    activity, per-trial rates, avalanche size and duration densities with their power-law fits;
    ``<prefix>_training.png``: rate, naive and MR m of each training sequence (``hist``, the
    trainer's metrics)."""
    from infodyn.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(2, 3, figsize=(15, 7))
    colours = {"before": "b", "after": "r"}
    for col, (name, raw) in enumerate((("before", before), ("after", after))):
        ax[0, col].set_title(f"raster {name} training (first 2000 units, 1 s)")
        ax[0, col].set_xlabel("step (ms) of the first trial")
        ax[0, col].set_ylabel("unit")
        if raw is None:
            continue
        t, u = raw["trials"][0]
        start = raw["discard"]  # the window of the population activity beside it
        span = min(1000, raw["act"].shape[1] * raw["bin_steps"])  # (shorter trials: all)
        sel = (t >= start) & (t < start + span) & (u < 2000)
        ax[0, col].plot(t[sel], u[sel], ".", ms=1.5, mew=0, color=colours[name])
        ax[0, col].set_xlim(start, start + span)
        ax[0, col].set_ylim(0, 2000)
        n_bins = span // raw["bin_steps"]
        steps = start + raw["bin_steps"] * np.arange(n_bins)
        ax[0, 2].plot(steps, raw["act"][0][:n_bins], lw=0.6, color=colours[name], label=name)
        rates = raw.get("trial_rates_hz", [])
        ax[1, 2].plot(np.arange(1, len(rates) + 1), rates, "o-", color=colours[name], label=name)
    ax[0, 2].set_xlabel("step (ms) of the first trial (bins of n_ref + 1 steps)")
    ax[0, 2].set_ylabel("population spikes per bin")
    ax[0, 2].legend(fontsize=7)
    ax[1, 2].axhline(r0, color="k", ls=":", lw=0.8, label="r0")
    ax[1, 2].set_xlabel("measured trial")
    ax[1, 2].set_ylabel("rate (Hz)")
    ax[1, 2].legend(fontsize=7)
    for name, raw in (("before", before), ("after", after)):
        if raw is None or raw["av_full"].n == 0:
            continue
        for col, key in ((0, "sizes"), (1, "durations")):
            v = np.asarray(getattr(raw["av_full"], key), dtype=np.float64)
            edges = np.unique(np.floor(np.logspace(0, np.log10(v.max() + 1), 25)))
            dens, _ = np.histogram(v, bins=edges)
            dens = dens / (v.size * np.diff(edges))  # log-binned probability density
            mid = np.sqrt(edges[:-1] * np.maximum(edges[1:] - 1, edges[:-1]))
            colour = colours[name]
            ax[1, col].loglog(mid[dens > 0], dens[dens > 0], "o", color=colour, ms=3, label=name)
            fit = raw["fits"][key]
            if fit.get("alpha"):
                a_, x0 = fit["alpha"], fit["xmin"]
                xs = np.logspace(np.log10(x0), np.log10(v.max()), 50)
                frac = np.mean(v >= x0)  # p(x) = frac (alpha - 1) / xmin (x / xmin)^-alpha
                ax[1, col].loglog(
                    xs,
                    frac * (a_ - 1) / x0 * (xs / x0) ** -a_,
                    "-",
                    color=colour,
                    lw=0.8,
                    label=f"{name}: alpha {a_:.2f}, xmin {x0:.0f}",
                )
            ax[1, col].set_xlabel(key[:-1] + (" (bins)" if col else " (spikes)"))
            ax[1, col].set_ylabel("probability density (log bins)")
            ax[1, col].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{prefix}_activity.png", dpi=100)
    fig2, ax2 = plt.subplots(1, 3, figsize=(15, 3.4))
    it = [r["iteration"] for r in hist]
    ax2[0].plot(it, [r["mean_rate_hz"] for r in hist], lw=0.8)
    ax2[0].axhline(r0, color="k", ls=":", label="r0")
    ax2[0].set_ylabel("rate (Hz)")
    ax2[0].legend(fontsize=7)
    for axis, key, label in ((ax2[1], "branching", "naive m"), (ax2[2], "branching_mr", "MR m")):
        axis.plot(it, [r.get(key, np.nan) for r in hist], lw=0.8)
        axis.set_ylabel(f"{label} (1-ms bins)")
    for axis in ax2:
        axis.set_xlabel("iteration (one training sequence each)")
    fig2.tight_layout()
    fig2.savefig(f"{prefix}_training.png", dpi=100)


def fmt(x, f=".3f"):
    return "-" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, f)


def aval_rows(name, res):
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
            f"{fmt(f.get('alpha'))} +- {fmt(f.get('sigma'))} | {fmt(f.get('xmin'), '.0f')} | "
            f"{fmt(f.get('decades'), '.2f')} | "
            f"{comp.get('exponential', {}).get('favored', '-')} "
            f"(R {fmt(comp.get('exponential', {}).get('R'), '.1f')}) | "
            f"{comp.get('lognormal', {}).get('favored', '-')} "
            f"(R {fmt(comp.get('lognormal', {}).get('R'), '.1f')}) |"
        )
    cr = av.get("crackling", {})
    rows.append(
        f"| {name}: crackling | gamma predicted {fmt(cr.get('gamma_predicted'))}, fitted "
        f"{fmt(cr.get('gamma_fitted'))} +- {fmt(cr.get('gamma_fitted_stderr'))} | | | | |"
    )
    return rows


def save_measured_spikes(path: Path, trials, n_units: int, n_steps: int, meta: dict) -> Path:
    """The spikes of the measured fresh trials as an infodyn spike file (HDF5, ``.h5``;
    :func:`infodyn.data.spike_files.save_spikes`), ``meta`` in its metadata."""
    from infodyn.data.spike_files import save_spikes
    from infodyn.data.spikes import SpikeTrain

    times = np.concatenate([t for t, _ in trials]).astype(np.int64)
    units = np.concatenate([u for _, u in trials]).astype(np.int32)
    tr = np.concatenate([np.full(t.size, i, np.int32) for i, (t, _) in enumerate(trials)])
    st = SpikeTrain(
        times, units, n_units, n_steps, dt=1.0, trials=tr, n_trials=len(trials), metadata=meta
    )
    return save_spikes(path, st)


def brief(res: dict, a) -> dict:
    """One line of a prototype sweep: setup, rate, m_MR and the whole-population size fit."""
    full = res["avalanches_full"]
    s = full.get("size", {})
    comp = s.get("comparisons", {})
    return {
        "rec_scale": a.rec_scale,
        "inh_factor": a.inh_factor,
        "h": a.h,
        "rate_hz": round(res["rate_hz"], 3),
        "m_mr": round(res.get("m_mr", float("nan")), 4),
        "silent": round(full["silent_fraction"], 2),
        "n_avalanches": full["n_avalanches"],
        "alpha": s.get("alpha"),
        "sigma": s.get("sigma"),
        "xmin": s.get("xmin"),
        "decades": s.get("decades"),
        "vs_exp": comp.get("exponential", {}).get("favored"),
        "vs_lognormal": comp.get("lognormal", {}).get("favored"),
        "alpha_duration": full.get("duration", {}).get("alpha"),
    }

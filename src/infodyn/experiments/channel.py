"""The channel experiment: how much a trained spiking network says about its stimulus, as a
function of where training put its branching parameter (issue 6; deck "Channel coding").

Pipeline, per input strength ``g`` (the sweep axis), seed and training condition:

1. A frozen stimulus set: K rate patterns ``lambda_s(t, i)`` (filtered-noise rates, the deck's
   stimulus); a trial draws fresh Poisson spikes from one pattern, so trials of one stimulus
   differ by noise only.
2. The input weights are scaled by ``g`` and kept fixed; the recurrent weights (and the readout)
   are trained with e-prop toward a fixed mean rate ``r0``. Weaker input must be compensated by
   recurrence, which moves the branching parameter m toward 1 (low-rate criticality, Zierenberg,
   Wilting & Priesemann 2018). Conditions: ``untrained``, ``rate`` (rate target only) and
   ``info`` (the same rate target plus an information objective of
   :mod:`infodyn.learning.info_objectives`).
3. Measures on held-out trials: the mean rate, m and tau from the multistep-regression estimator
   (:func:`infodyn.criticality.branching_ratio`), I(stimulus; response) and the total
   correlation with the discrete estimators of :mod:`infodyn.information` (plug-in, shuffle
   corrected; :func:`response_information`), and the Gaussian TC of all units.

:func:`run_channel` runs the sweep into a run directory (``results.json``, ``table.csv``,
``figures/info_vs_branching.png``, ``figures/before_after.png``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from infodyn.data.atomic import write_csv
from infodyn.errors import InputError, require
from infodyn.experiments.config import Section

# --------------------------------------------------------------------------- stimuli


@dataclass(frozen=True)
class StimulusSet:
    """K frozen rate patterns (K, T, n_in) in Hz; trials are fresh Poisson draws."""

    rates_hz: np.ndarray
    dt: float = 1.0

    @property
    def n_stimuli(self) -> int:
        return self.rates_hz.shape[0]

    @property
    def n_steps(self) -> int:
        return self.rates_hz.shape[1]

    @classmethod
    def filtered_noise(
        cls, n_stimuli: int, n_steps: int, n_in: int, mean_rate: float = 20.0,
        contrast: float = 1.0, dt: float = 1.0, seed: int = 0,
    ) -> StimulusSet:
        """K independent filtered-noise rate patterns (:func:`filtered_noise_rates`)."""
        from infodyn.network.encoders import filtered_noise_rates

        require(n_stimuli >= 2, "need at least 2 stimuli")
        pats = [filtered_noise_rates(n_steps, n_in, dt=dt, mean_rate=mean_rate,
                                     contrast=contrast, seed=seed * 1000 + k)
                for k in range(n_stimuli)]
        return cls(np.stack(pats), dt)

    @classmethod
    def constant(
        cls, n_stimuli: int, n_steps: int, n_in: int, max_rate: float = 40.0, dt: float = 1.0,
        seed: int = 0,
    ) -> StimulusSet:
        """K constant rate patterns, each channel's rate drawn uniformly from [0, max_rate]."""
        require(n_stimuli >= 2, "need at least 2 stimuli")
        require(max_rate > 0 and max_rate * dt / 1000.0 <= 1.0,
                "max_rate must be > 0 and at most one spike per step")
        rng = np.random.default_rng(seed)
        pats = rng.uniform(0.0, max_rate, (n_stimuli, 1, n_in)) * np.ones((1, n_steps, 1))
        return cls(pats, dt)

    def trials(self, n_per_stimulus: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(x, labels)``: (K n, T, n_in) Poisson spikes and the stimulus of each trial."""
        require(n_per_stimulus >= 1, "n_per_stimulus must be >= 1")
        rng = np.random.default_rng(seed)
        labels = np.repeat(np.arange(self.n_stimuli), n_per_stimulus)
        p = np.clip(self.rates_hz[labels] * self.dt / 1000.0, 0.0, 1.0)
        return (rng.random(p.shape) < p).astype(np.float32), labels


# --------------------------------------------------------------------------- measures


def _binned_words(z: np.ndarray, start: int, bin_steps: int) -> np.ndarray:
    """(trials, n_bins, n) binary words: did each unit spike in each bin of the window."""
    w = z[:, start:]
    n_bins = w.shape[1] // bin_steps
    require(n_bins >= 1, "the response window is shorter than one bin")
    w = w[:, : n_bins * bin_steps].reshape(w.shape[0], n_bins, bin_steps, w.shape[2])
    return (w.sum(axis=2) > 0).astype(np.int64)


def response_information(
    z: np.ndarray,
    labels: np.ndarray,
    start: int = 0,
    bin_steps: int = 10,
    subset_size: int = 8,
    n_subsets: int = 20,
    n_shuffles: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """I(stimulus; response) and the total correlation of binary response words (bits).

    The response of a trial is cut into bins of ``bin_steps`` from ``start``; in each bin a
    subset of ``subset_size`` units gives a binary word (spiked or not). Samples are the
    (trial, bin) pairs; ``I(S; word)`` is the plug-in estimate minus the mean over
    ``n_shuffles`` permutations of the trial labels (the shuffle correction removes the
    plug-in's upward bias; bins of a trial move together). The estimate is averaged over
    ``n_subsets`` random subsets (all units when n <= subset_size); TC is the plug-in total
    correlation of the same words (it does not need a correction at the sample sizes used:
    the words' alphabet is at most 2^subset_size). Returns means and standard deviations
    over subsets.
    """
    from infodyn.information import mutual_information, total_correlation

    z = np.asarray(z)
    labels = np.asarray(labels).astype(np.int64)
    require(z.ndim == 3 and z.shape[0] == labels.size,
            "z must be (trials, T, n) with one label per trial")
    words = _binned_words(z, start, bin_steps)  # (trials, bins, n)
    n_tr, n_bins, n = words.shape
    rng = np.random.default_rng(seed)
    k = min(subset_size, n)
    subsets = ([np.arange(n)] if n <= subset_size
               else [rng.choice(n, size=k, replace=False) for _ in range(n_subsets)])
    lab = np.repeat(labels, n_bins)
    mi, mi_raw, tc = [], [], []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sub in subsets:
            w = words[:, :, sub].reshape(-1, k)
            raw = mutual_information(lab, w)
            shuf = [mutual_information(np.repeat(rng.permutation(labels), n_bins), w)
                    for _ in range(n_shuffles)]
            mi_raw.append(raw)
            mi.append(raw - float(np.mean(shuf)))
            tc.append(total_correlation(w))
    return {
        "mi_bits": float(np.mean(mi)), "mi_bits_sd": float(np.std(mi)),
        "mi_plugin_bits": float(np.mean(mi_raw)),
        "tc_bits": float(np.mean(tc)), "tc_bits_sd": float(np.std(tc)),
        "subset_size": k, "n_subsets": len(subsets), "bin_steps": bin_steps,
        "n_samples": int(n_tr * n_bins),
    }


def gaussian_total_correlation(z: np.ndarray, start: int = 0, bin_steps: int = 1,
                               eps: float = 1e-4) -> float:
    """TC (bits) of all units from the covariance of binned counts (the estimator the
    :class:`~infodyn.learning.info_objectives.TotalCorrelationPenalty` trains on), over the
    active units only."""
    from infodyn.learning.info_objectives import TotalCorrelationPenalty

    w = np.asarray(z, dtype=np.float64)[:, start:]
    nb = w.shape[1] // bin_steps
    w = w[:, : nb * bin_steps].reshape(w.shape[0], nb, bin_steps, w.shape[2]).sum(axis=2)
    live = w.reshape(-1, w.shape[2]).var(axis=0) > 0
    if live.sum() < 2:
        return float("nan")
    return TotalCorrelationPenalty(eps=eps).value_and_grad_cov(w[:, :, live])[0]


def network_measures(z: np.ndarray, labels: np.ndarray, dt: float, start: int,
                     info_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rate, branching (MR), information and total correlation of held-out responses."""
    import warnings

    from infodyn.criticality import branching_ratio

    z = np.asarray(z)
    act = z[:, start:].sum(axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        br = branching_ratio(act, method="mr", dt=dt, n_boot=0)
        naive = branching_ratio(act, method="naive", dt=dt, n_boot=0)
    out = {
        "rate_hz": float(z[:, start:].mean() * 1000.0 / dt),
        "m": float(br.m), "tau_ms": float(br.tau), "m_naive": float(naive.m),
        "branching_meaningful": bool(br.meaningful),
        "fraction_silent": float(np.mean(z[:, start:].sum(axis=(0, 1)) == 0)),
        "tc_gauss_bits": gaussian_total_correlation(z, start),
    }
    out.update(response_information(z, labels, start=start, **(info_options or {})))
    return out


# --------------------------------------------------------------------------- training


def make_loss(condition: str, r0_hz: float, rate_weight: float, info_weight: float,
              objective: str, labels: np.ndarray, gamma: float = 0.1):
    """The loss of a training condition: ``rate`` (per-unit rate target) or ``info`` (the same
    plus ``info_weight`` times the chosen information objective)."""
    from infodyn.learning.info_objectives import (
        InfoMaxBound,
        InformationBottleneck,
        TotalCorrelationPenalty,
    )
    from infodyn.learning.losses import UnitRateTarget, as_loss

    rate = UnitRateTarget(weight=rate_weight, r0_hz=r0_hz)
    if condition == "rate":
        return as_loss(rate)
    require(condition == "info", f"condition must be 'rate' or 'info', got {condition!r}")
    if objective == "infomax":
        term = InfoMaxBound(weight=info_weight)
    elif objective == "bottleneck":
        term = InformationBottleneck(weight=info_weight, labels=tuple(int(s) for s in labels),
                                     gamma=gamma)
    elif objective == "decorrelation":
        term = TotalCorrelationPenalty(weight=info_weight)
    else:
        raise InputError(f"objective must be 'infomax', 'bottleneck' or 'decorrelation', "
                         f"got {objective!r}")
    return as_loss([rate, term])


@dataclass
class TrainResult:
    """Trained weights, per-iteration history (loss, terms, rate) and, when the LIF
    threshold/gain adaptation ran alongside, its final state (else None)."""

    params: dict[str, np.ndarray]
    history: list[dict[str, float]]
    adaptation: dict[str, np.ndarray] | None = None

    def network(self, net: Any) -> tuple[Any, dict[str, np.ndarray], Callable[[Any], Any]]:
        """``(net, params, prepare_input)`` of the trained network, adaptation included."""
        if self.adaptation is None:
            return net, self.params, lambda x: x
        from infodyn.learning.adaptation import adapted_input, adapted_network

        net_a, params_a = adapted_network(net, self.params, self.adaptation)
        return net_a, params_a, adapted_input


def train_network(
    net: Any,
    params: dict[str, np.ndarray],
    stimuli: StimulusSet,
    loss_for: Callable[[np.ndarray], Any],
    n_iterations: int,
    trials_per_stimulus: int,
    response_start: int,
    lr: float = 5e-3,
    train: tuple[str, ...] = ("w_rec", "w_out"),
    method: str = "eprop",
    clip_norm: float = 10.0,
    seed: int = 0,
    precision: str = "float32",
    adaptation: Any = None,
    adapt_every: int = 1,
) -> TrainResult:
    """Adam on the chosen weights with ``idn.learning.evaluate`` gradients; every iteration
    draws fresh noisy trials of all stimuli. ``loss_for(labels)`` builds the loss.

    ``adaptation`` (a :class:`~infodyn.learning.adaptation.LIFAdaptationConfig`) runs the LIF
    threshold/gain homeostasis alongside: gradients are taken on the adapted network
    (:func:`~infodyn.learning.adaptation.adapted_network`; the input-weight gradient is mapped
    back to the raw weights by the chain rule, ``dE/dw_in = g * dE/dw_in_eff``), and every
    ``adapt_every`` iterations the adaptation state is updated from the spikes of that batch.
    """
    import optax

    from infodyn.learning.gradients import evaluate
    from infodyn.learning.info_objectives import window_target

    require(n_iterations >= 0, "n_iterations must be >= 0")
    require(adapt_every >= 1, "adapt_every must be >= 1")
    opt = optax.chain(optax.clip_by_global_norm(clip_norm), optax.adam(lr))
    dtype = np.float64 if precision == "float64" else np.float32
    p = {k: np.asarray(v, dtype=dtype) for k, v in params.items()}
    trainable = {k: p[k] for k in train}
    state = opt.init(trainable)
    ad_state = None
    if adaptation is not None:
        from infodyn.learning.adaptation import (
            adapted_input,
            adapted_network,
            init_lif_adaptation,
            lif_adaptation_update,
        )

        ad_state = init_lif_adaptation(net.n_rec)
    history = []
    for it in range(n_iterations):
        x, labels = stimuli.trials(trials_per_stimulus, seed=seed * 100_003 + it)
        tgt = window_target(labels, stimuli.n_steps, net.n_out, response_start)
        if ad_state is None:
            ev = evaluate(net, p, x, tgt, loss_for(labels), method=method, precision=precision)
            grads = {k: np.asarray(ev.grads[k], dtype=dtype) for k in train}
        else:
            net_a, p_a = adapted_network(net, p, ad_state)
            x_a = adapted_input(x)
            ev = evaluate(net_a, p_a, x_a, tgt, loss_for(labels), method=method,
                          precision=precision)
            g = {k: np.asarray(v, dtype=dtype) for k, v in ev.grads.items()}
            g["w_in"] = g["w_in"][:-1] * ad_state["gain"][None, :].astype(dtype)
            grads = {k: g[k] for k in train}
            if it % adapt_every == 0:
                z = net_a.simulate(p_a, x_a, engine="jax", precision=precision).z
                ad_state = lif_adaptation_update(ad_state, z, net.dt, adaptation)
        upd, state = opt.update(grads, state, trainable)
        trainable = optax.apply_updates(trainable, upd)
        p.update({k: np.asarray(v, dtype=dtype) for k, v in trainable.items()})
        p = {k: np.asarray(v, dtype=dtype) for k, v in net.constrain(p).items()}
        trainable = {k: p[k] for k in train}
        rate = float(np.mean(ev.activity) / net.n_rec * 1000.0 / net.dt)
        history.append({"loss": ev.loss, **ev.terms, "rate_hz": rate})
    return TrainResult(p, history, ad_state)


# --------------------------------------------------------------------------- the experiment


class ChannelConfig(Section):
    """``infodyn channel`` config (TOML ``[channel]`` table; every key optional)."""

    n_in: int = Field(100, ge=1, description="input channels")
    n_rec: int = Field(100, ge=2, description="recurrent LIF units")
    n_stimuli: int = Field(4, ge=2, description="stimuli in the frozen set")
    n_steps: int = Field(300, ge=20, description="steps per trial (ms at dt = 1)")
    response_start: int = Field(50, ge=0, description="first scored step of each trial")
    stimulus: Literal["constant", "filtered_noise"] = Field(
        "constant", description="constant rate patterns or filtered-noise rate patterns")
    input_rate_hz: float = Field(20.0, gt=0, description="mean input rate")
    contrast: float = Field(1.0, ge=0, description="filtered-noise modulation depth")
    input_strengths: list[float] = Field(
        default_factory=lambda: [0.5, 1.0, 2.0, 4.0],
        description="input weight scales swept (in_scale of the network)")
    rec_scale: float = Field(0.5, ge=0, description="initial recurrent weight scale")
    tau_m: float = Field(20.0, gt=0)
    v_th: float = Field(0.03, gt=0)
    n_ref: int = Field(2, ge=0, description="refractory steps")
    r0_hz: float = Field(10.0, gt=0, description="target mean rate")
    rate_weight: float = Field(1e-2, gt=0)
    info_weight: float = Field(1.0, gt=0)
    objective: Literal["infomax", "bottleneck", "decorrelation"] = "infomax"
    gamma: float = Field(0.1, ge=0, description="bottleneck compression weight")
    conditions: list[Literal["rate", "info"]] = Field(default_factory=lambda: ["rate", "info"])
    n_iterations: int = Field(150, ge=0)
    trials_per_stimulus: int = Field(8, ge=1, description="training trials per stimulus")
    test_trials_per_stimulus: int = Field(50, ge=2)
    lr: float = Field(5e-3, gt=0)
    method: Literal["eprop", "bptt", "bptt_stopgrad"] = "eprop"
    adaptation: bool = Field(False, description="run LIF threshold/gain homeostasis alongside")
    adaptation_rule: Literal["rate", "max_entropy"] = "max_entropy"
    adapt_window_ms: float = Field(20.0, gt=0, description="count window of the adaptation")
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    bin_steps: int = Field(10, ge=1, description="bin of the response words")
    subset_size: int = Field(8, ge=1, le=20, description="units per response word")
    n_subsets: int = Field(20, ge=1)
    n_shuffles: int = Field(20, ge=1)


class ChannelFile(Section):
    channel: ChannelConfig = ChannelConfig()


def run_channel_file(cfg: ChannelFile, out: str | os.PathLike, resume: bool = False):
    """:func:`run_channel` for a whole ``infodyn channel`` config file (its ``[channel]``)."""
    return run_channel(cfg.channel, out, config_source=cfg, resume=resume)


def build_channel_network(cfg: ChannelConfig, strength: float):
    from infodyn.network import LIF

    return LIF(n_in=cfg.n_in, n_rec=cfg.n_rec, n_out=cfg.n_stimuli, tau_m=cfg.tau_m,
               tau_out=cfg.tau_m, v_th=cfg.v_th, n_ref=cfg.n_ref, in_scale=strength,
               rec_scale=cfg.rec_scale)


def run_one(cfg: ChannelConfig, strength: float, seed: int) -> list[dict[str, Any]]:
    """All conditions for one input strength and seed: one row per condition."""
    net = build_channel_network(cfg, strength)
    if cfg.stimulus == "constant":  # rates uniform on [0, 2 x mean]
        stim = StimulusSet.constant(cfg.n_stimuli, cfg.n_steps, cfg.n_in,
                                    2.0 * cfg.input_rate_hz, seed=seed)
    else:
        stim = StimulusSet.filtered_noise(cfg.n_stimuli, cfg.n_steps, cfg.n_in,
                                          cfg.input_rate_hz, cfg.contrast, seed=seed)
    params0 = net.init(seed=seed)
    x_test, lab_test = stim.trials(cfg.test_trials_per_stimulus, seed=10_000_019 + seed)
    info_opts = {"bin_steps": cfg.bin_steps, "subset_size": cfg.subset_size,
                 "n_subsets": cfg.n_subsets, "n_shuffles": cfg.n_shuffles, "seed": seed}

    def measure(result: TrainResult) -> dict[str, Any]:
        net_m, params_m, prep = result.network(net)
        tr = net_m.simulate(params_m, prep(x_test), engine="jax")
        return network_measures(tr.z, lab_test, net.dt, cfg.response_start, info_opts)

    adaptation = None
    if cfg.adaptation:
        from infodyn.learning.adaptation import LIFAdaptationConfig

        adaptation = LIFAdaptationConfig(target_rate_hz=cfg.r0_hz, window_ms=cfg.adapt_window_ms,
                                         rule=cfg.adaptation_rule)
    rows = [{"strength": strength, "seed": seed, "condition": "untrained",
             **measure(TrainResult(params0, [])), "train_seconds": 0.0}]
    for cond in cfg.conditions:
        t0 = time.perf_counter()
        result = train_network(
            net, params0, stim,
            lambda labels, cond=cond: make_loss(cond, cfg.r0_hz, cfg.rate_weight,
                                                cfg.info_weight, cfg.objective, labels,
                                                cfg.gamma),
            cfg.n_iterations, cfg.trials_per_stimulus, cfg.response_start, lr=cfg.lr,
            method=cfg.method, seed=seed, adaptation=adaptation,
        )
        row = {"strength": strength, "seed": seed, "condition": cond, **measure(result),
               "train_seconds": time.perf_counter() - t0,
               "final_loss": result.history[-1]["loss"] if result.history else float("nan")}
        rows.append(row)
    return rows


def summarize(rows: list[dict[str, Any]], keys=("mi_bits", "m", "m_naive", "tc_bits",
                                                 "tc_gauss_bits", "rate_hz")
              ) -> list[dict[str, Any]]:
    """Mean and 95 % t-interval over seeds for each (strength, condition)."""
    from scipy.stats import t as student_t

    groups: dict[tuple[float, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["strength"], r["condition"]), []).append(r)
    out = []
    order = {"untrained": 0, "rate": 1, "info": 2}
    for (g, cond), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        rec: dict[str, Any] = {"strength": g, "condition": cond, "n_seeds": len(rs)}
        for k in keys:
            v = np.array([r[k] for r in rs], dtype=float)
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if v.size else float("nan")
            half = (float(student_t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
                    if v.size > 1 else float("nan"))
            rec[k], rec[f"{k}_ci95"] = mean, half
        out.append(rec)
    return out


def channel_figures(summary: list[dict[str, Any]]):
    """(info vs branching figure, before/after figure)."""
    from infodyn.plotting import pyplot

    plt = pyplot()
    colors = {"untrained": "0.5", "rate": "tab:blue", "info": "tab:red"}
    fig1, ax = plt.subplots(1, 2, figsize=(10, 4))
    for cond in ("untrained", "rate", "info"):
        rs = [r for r in summary if r["condition"] == cond]
        if not rs:
            continue
        for a, key, lab in ((ax[0], "mi_bits", "I(stimulus; response) [bits]"),
                            (ax[1], "tc_bits", "total correlation [bits]")):
            a.errorbar([r["m_naive"] for r in rs], [r[key] for r in rs],
                       xerr=[r["m_naive_ci95"] for r in rs],
                       yerr=[r[f"{key}_ci95"] for r in rs],
                       fmt="o-", color=colors[cond], label=cond, capsize=3)
            a.set_xlabel("branching parameter m (lag-1 regression, all units observed)")
            a.set_ylabel(lab)
    ax[0].legend()
    ax[0].set_title("information vs branching (95 % CI over seeds)")
    fig1.tight_layout()
    fig2, bx = plt.subplots(1, 3, figsize=(13, 4))
    strengths = sorted({r["strength"] for r in summary})
    conds = [c for c in ("untrained", "rate", "info") if any(r["condition"] == c for r in summary)]
    width = 0.8 / max(1, len(conds))
    for i, cond in enumerate(conds):
        rs = {r["strength"]: r for r in summary if r["condition"] == cond}
        xs = np.arange(len(strengths)) + i * width
        for a, key, lab in ((bx[0], "mi_bits", "I(S;R) [bits]"), (bx[1], "rate_hz", "rate [Hz]"),
                            (bx[2], "m_naive", "branching m")):
            a.bar(xs, [rs[g][key] if g in rs else np.nan for g in strengths], width,
                  yerr=[rs[g][f"{key}_ci95"] if g in rs else np.nan for g in strengths],
                  color=colors[cond], label=cond, capsize=2)
            a.set_xticks(np.arange(len(strengths)) + 0.4 - width / 2)
            a.set_xticklabels([f"{g:g}" for g in strengths])
            a.set_xlabel("input strength")
            a.set_ylabel(lab)
    bx[0].legend()
    fig2.suptitle("before (untrained) and after training")
    fig2.tight_layout()
    return fig1, fig2


def run_channel(cfg: ChannelConfig, out: str | os.PathLike, progress: bool = False,
                config_source: Any = None, resume: bool = False) -> dict[str, Any]:
    """Run the sweep into run directory ``out``; returns the results dict.

    Each finished (strength, seed) is kept in ``out/progress.json``; after SIGINT/SIGTERM
    (:mod:`infodyn.experiments.interrupt`) the run stops there and ``resume=True`` continues.
    """
    from infodyn.experiments.interrupt import StepJournal, check, config_digest
    from infodyn.experiments.rundir import RunDir

    require(cfg.response_start + cfg.bin_steps <= cfg.n_steps,
            "response_start + bin_steps must fit in n_steps")
    require(len(cfg.input_strengths) >= 1 and all(g >= 0 for g in cfg.input_strengths),
            "input_strengths must be a non-empty list of values >= 0")
    require(len(cfg.seeds) >= 1, "give at least one seed")
    run = RunDir(out)
    journal = StepJournal(run.path, config_digest(cfg.model_dump(mode="json")), resume)
    journal.refuse_fresh_start(resume, "channel")
    run.write_config(config_source if config_source is not None else cfg, command="channel")
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for g in cfg.input_strengths:
        for s in cfg.seeds:
            step = f"strength={g!r} seed={s}"
            rows.extend(journal.get(step) or journal.put(step, run_one(cfg, g, s)))
            check(f"{len(journal.steps)} of {len(cfg.input_strengths) * len(cfg.seeds)} "
                  f"networks done and kept in {journal.path}")
            if progress:
                last = rows[-1]
                print(f"strength {g:g} seed {s}: m={last['m']:.3f} "
                      f"I={last['mi_bits']:.3f} bits rate={last['rate_hz']:.1f} Hz "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
    summary = summarize(rows)
    fig1, fig2 = channel_figures(summary)
    run.savefig(fig1, "info_vs_branching")
    run.savefig(fig2, "before_after")
    write_csv(run.file("table.csv"), rows)
    results = {"rows": rows, "summary": summary, "wall_seconds": time.perf_counter() - t0,
               "files": {"table": "table.csv",
                         "figures": ["figures/info_vs_branching.png",
                                     "figures/before_after.png"]}}
    run.write_json("results.json", results)
    journal.finish()
    return results

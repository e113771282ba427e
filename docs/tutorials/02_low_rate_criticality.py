# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Low-rate criticality: drive a network there and measure it
#
# A critical branching network passes on, on average, exactly one spike per spike: the
# branching ratio `m` is 1 and activity spreads in avalanches whose sizes follow a power law.
# Recordings see only a few units, and the naive estimate of `m` (the lag-1 regression of the
# population activity) is then biased toward 0. The multistep-regression (MR) estimator of
# Wilting & Priesemann (2018) is not. This tutorial
#
# 1. checks both estimators on a branching process of known `m`, subsampled to 2 % of its units;
# 2. trains a recurrent LIF network with e-prop toward a low per-unit rate (the target-rate loss
#    of the deck this project implements, "Training a dynamical system by using multivariate
#    information"), and measures `m`, its autocorrelation time and its avalanches before and after.
#
# Set `INFODYN_TUTORIAL_FAST=1` for a small version (`make test` runs it).

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import infodyn as idn
from infodyn.learning import UnitRateTarget
from infodyn.learning.tasks import RateTask
from infodyn.learning.trainer import Trainer, TrainOptions

FAST = os.environ.get("INFODYN_TUTORIAL_FAST") == "1"
C = idn.criticality
warnings.simplefilter("ignore", C.CriticalityWarning)  # short fast-mode runs warn a lot

# %% [markdown]
# ## 1. A branching process of known m, subsampled
#
# `simulate_branching_process(m, h, T)` draws `A[t+1] ~ Poisson(m A[t] + h)`; `subsample`
# keeps each event with that probability, as a recording of a few units would.

# %%
m_true = 0.98
act = C.simulate_branching_process(
    m=m_true,
    h=10,
    T=2_000 if FAST else 20_000,
    trials=5 if FAST else 10,
    subsample=0.02,
    seed=0,
)
mr = C.branching_ratio(act, method="mr", n_boot=0 if FAST else 100)
naive = C.branching_ratio(act, method="naive", n_boot=0)
print(f"true m = {m_true}; MR estimate {mr.m:.3f} (tau {mr.tau:.1f} steps); naive {naive.m:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(mr.k, np.abs(mr.r_k), "o", ms=3, label="slopes r_k")
ax.semilogy(mr.k, mr.fits["exp"].b * mr.m**mr.k, label=f"b m^k, m = {mr.m:.3f}")
ax.set(xlabel="lag k (steps)", ylabel="|r_k|", title="multistep regression, 2 % of units")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Train a network toward a low rate
#
# 200 LIF units with strong recurrent weights, driven by weak Poisson input, fire far above
# the target. e-prop on the per-unit rate loss `a mean_j (r_j - r0)^2` (no task, no readout)
# lowers their rates to `r0 = 5 Hz` by changing input and recurrent weights (200 iterations
# settle near 5 Hz; the fast mode's 10 overshoot, to about 3 Hz).

# %%
N_REC, N_STEPS = (60, 300) if FAST else (200, 1000)
net = idn.network.LIF(
    n_in=50, n_rec=N_REC, n_out=0, in_scale=2.0, rec_scale=1.5, n_ref=2, surrogate="fast_sigmoid"
)
task = RateTask(n_in=50, n_steps=N_STEPS, rate_hz=10.0)
trainer = Trainer(
    net,
    task,
    UnitRateTarget(r0_hz=5.0, weight=1e-3),
    TrainOptions(optimizer="adam", lr=3e-4, batch_size=4, seed=0),
)
params0 = trainer.state.params
history = trainer.fit(10 if FAST else 200)
rates = [h["mean_rate_hz"] for h in history]
print(f"mean rate: {rates[0]:.1f} Hz -> {rates[-1]:.1f} Hz")

# %% [markdown]
# ## Measure before and after
#
# 10 long trials of fresh input each; the population activity of all units, in 1-ms steps.


# %%
def measure(params, label):
    x = idn.network.poisson_spikes(
        10.0, 4 * N_STEPS, n_in=50, batch=4 if FAST else 10, frozen=False, seed=1
    )
    spikes = net.simulate(params, x, engine="jax").spike_train()
    a = C.population_activity(spikes)
    b = C.branching_ratio(a, method="mr", n_boot=0)
    av = C.avalanches(C.population_activity(spikes, bin_ms="iei"))
    print(
        f"{label}: rate {spikes.rates_hz().mean():5.1f} Hz, MR m = {b.m:.3f}, "
        f"tau = {b.tau:.1f} ms, {len(av.sizes)} avalanches"
    )
    return b, av


before = measure(params0, "before")
after = measure(trainer.state.params, "after ")

fig, ax = plt.subplots(1, 2, figsize=(11, 3.4))
ax[0].plot(rates)
ax[0].set(xlabel="iteration", ylabel="mean rate (Hz)", title="e-prop toward r0 = 5 Hz")
for (b, av), label in ((before, "before"), (after, "after")):
    sizes, counts = np.unique(av.sizes, return_counts=True)
    ax[1].loglog(sizes, counts / counts.sum(), "o", ms=3, label=f"{label} (m = {b.m:.2f})")
ax[1].set(xlabel="avalanche size", ylabel="P(size)", title="avalanche sizes")
ax[1].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Lowering the rate alone leaves the network subcritical (`m` well below 1): the rate and
# the branching ratio are separate targets. The deck adds the global-rate variance loss
# (`PopulationRateVariance`), whose push-pull learning signal shapes the fluctuations of the
# population activity; [the demo](../../demo/) trains with both and an information objective.
# A power-law fit with its comparisons against other laws (Clauset, Shalizi & Newman 2009):
#
# ```python
# fit = C.fit_power_law(after[1].sizes, discrete=True)
# fit.alpha, fit.xmin, fit.comparisons["lognormal"].favored
# ```
#
# From the command line, for any spike file or recording:
# `infodyn criticality spikes.h5 --out runs/crit`. [Criticality](../../criticality/) has the
# estimators' details.

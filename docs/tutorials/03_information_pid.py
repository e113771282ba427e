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
# # Information of spike words, and partial information decomposition
#
# How much does a population's response tell about a stimulus, and is the information carried
# redundantly, uniquely or synergistically by its units? `infodyn.information` estimates
# entropies and informations of discrete words in bits. This tutorial
#
# 1. checks the entropy estimators against a population of known entropy;
# 2. decomposes logic gates with two-source PID (Williams & Beer 2010; Bertschinger et al. 2014);
# 3. measures what a simulated network's spike words carry about its stimulus.
#
# Set `INFODYN_TUTORIAL_FAST=1` for a small version (`make test` runs it).

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import infodyn as idn

FAST = os.environ.get("INFODYN_TUTORIAL_FAST") == "1"
I = idn.information
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Estimators against a known entropy
#
# Ten independent units that spike with probability 0.2 per bin have words of entropy
# `10 H(0.2) = 7.22` bits. The plug-in estimate is low by about `(K - 1) / (2 N ln 2)` bits for
# `K` observed words and `N` samples; Miller-Madow (Miller 1955) adds that back; NSB (Nemenman,
# Shafee & Bialek 2002) integrates over Dirichlet priors and stays close with fewer samples than
# words.

# %%
# the small samples below are undersampled on purpose: that is what the estimators are for
warnings.simplefilter("ignore", I.UndersampledWarning)
n_units, p = 10, 0.2
h_true = n_units * -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
sizes = [50, 100, 300, 1000] if FAST else [30, 100, 300, 1000, 3000, 10000]
est = {name: [] for name in ("plugin", "miller_madow", "nsb")}
for n in sizes:
    X = (rng.random((n, n_units)) < p).astype(np.uint8)
    for name in est:
        est[name].append(float(I.entropy(X, estimator=name)))
fig, ax = plt.subplots(figsize=(5.5, 3.4))
for name, values in est.items():
    ax.semilogx(sizes, values, "o-", label=name)
ax.axhline(h_true, color="k", ls="--", label=f"true {h_true:.2f} bits")
ax.set(xlabel="samples N", ylabel="H (bits)", title="entropy of 10-unit words")
ax.legend()
plt.show()
print({name: round(v[-1], 3) for name, v in est.items()}, "true", round(h_true, 3))

# %% [markdown]
# ## 2. PID of logic gates
#
# `pid(x1, x2, y)` splits `I(X1, X2; Y)` into redundancy, two unique parts and synergy. With
# the four equally weighted rows of a truth table, the plug-in distribution is exact: XOR is
# pure synergy (1 bit); AND has Williams-Beer redundancy 0.311 and synergy 0.5 bits; COPY
# (`Y = (X1, X2)`) is 1 bit unique to each source under BROJA.

# %%
x1 = np.array([0, 0, 1, 1])
x2 = np.array([0, 1, 0, 1])
gates = {"XOR": x1 ^ x2, "AND": x1 & x2, "COPY": 2 * x1 + x2}
print(f"{'gate':6s}{'measure':>8s}{'red':>8s}{'unq1':>8s}{'unq2':>8s}{'syn':>8s}")
for name, y in gates.items():
    for measure in ("wb", "broja"):
        r = I.pid(x1, x2, y, measure=measure)
        print(
            f"{name:6s}{measure:>8s}{r.redundancy:8.3f}{r.unique1:8.3f}{r.unique2:8.3f}"
            f"{r.synergy:8.3f}"
        )

# %% [markdown]
# ## 3. Spike words of a network about its stimulus
#
# Two stimuli drive two halves of the 40 input channels at 40 Hz (the other half at 5 Hz).
# From each trial we keep the words of the 8 most active units in 10-ms bins and ask how much a
# word tells about which stimulus was shown. Plug-in informations are biased upward by finite
# samples; `shuffle_corrected_mi` subtracts the mean information of shuffled pairings.

# %%
n_trials, n_steps = (40, 200) if FAST else (200, 500)
net = idn.network.LIF(n_in=40, n_rec=80, n_out=1, in_scale=4.0, n_ref=2)
params = net.init(seed=0)
stim = rng.integers(0, 2, n_trials)
rates = np.where(np.arange(40)[None, :] < 20, 40.0, 5.0)  # stimulus 0: first half at 40 Hz
rates = np.where(stim[:, None] == 0, rates, rates[:, ::-1])  # (trials, n_in)
x = (rng.random((n_trials, n_steps, 40)) < rates[:, None, :] / 1000.0).astype(np.float32)
spikes = net.simulate(params, x, engine="jax").spike_train()
top = np.argsort(spikes.spike_counts())[-8:]
words = I.spike_words(spikes.select_units(top), bin_steps=10)  # (trials x bins, 8)
labels = np.repeat(stim, n_steps // 10)[:, None]
mi = I.mutual_information(words, labels)
mi_c = I.shuffle_corrected_mi(
    words,
    labels,
    n_shuffles=5 if FAST else 20,
    groups=np.repeat(np.arange(n_trials), n_steps // 10),
)
summary = I.multivariate_summary(words)
print(f"I(stimulus; word) = {mi:.3f} bits (shuffle-corrected {mi_c:.3f}) of H(S) = 1 bit")
print(
    "TC = {tc:.3f}, DTC = {dtc:.3f}, O-information = {o:.3f} bits".format(
        tc=summary["total_correlation"],
        dtc=summary["dual_total_correlation"],
        o=summary["o_information"],
    )
)

# %% [markdown]
# The O-information `TC - DTC` is positive when redundancy dominates the words and negative
# when synergy does (Rosas et al. 2019). The PID of two units' bins about the stimulus:

# %%
a, b = words[:, -1:], words[:, -2:-1]  # the two most active units
r = I.pid(a, b, labels, measure="broja")
pairwise = I.pairwise_mutual_information(words)
fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
ax[0].bar(["redundancy", "unique 1", "unique 2", "synergy"], list(r))
ax[0].set(ylabel="bits", title="BROJA PID of two units about S")
off_diagonal = np.where(np.eye(len(pairwise), dtype=bool), np.nan, pairwise)  # the diagonal
im = ax[1].imshow(off_diagonal, cmap="viridis")  # is each unit's entropy: it set the scale
ax[1].set(title="pairwise MI between units (bits)", xlabel="unit", ylabel="unit")
fig.colorbar(im, ax=ax[1])
fig.tight_layout()
plt.show()

# %% [markdown]
# From the command line: `infodyn info spikes.h5 --out runs/info --bin-ms 10`.
# [Information](../../information/) documents every estimator and measure.

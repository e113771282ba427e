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
# # An energy model of natural image patches
#
# Binarised 4x4 patches of natural images are words of 16 bits. A pairwise Ising/Hopfield
# model `E(x) = -1/2 x^T J x + theta^T x`, `p(x) = exp(-E(x)) / Z`, fitted by minimum
# probability flow (MPF; Sohl-Dickstein, Battaglino & DeWeese 2011), captures their statistics
# with 136 parameters. We fit it, test it on patches from held-out image regions, read its
# couplings and memories (the fixed points of asynchronous descent) and sample from it.
# The images ship with scikit-image and scikit-learn: nothing is downloaded.
#
# Set `INFODYN_TUTORIAL_FAST=1` for a small version (`make test` runs it).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import infodyn as idn

FAST = os.environ.get("INFODYN_TUTORIAL_FAST") == "1"
E = idn.energy
N_PATCHES = 2_000 if FAST else 20_000

# %% [markdown]
# ## Patches
#
# Each patch is binarised at its own mean (1 = brighter than the patch's average); flat patches
# are dropped. The held-out patches, a quarter as many as the training ones (a fifth of all),
# come from the right-hand quarter of every image, which no training patch touches.

# %%
split = idn.data.natural_patches(
    size=4, n=N_PATCHES, seed=0, binarize="mean", held_out=0.25, min_contrast=0.02
)
X_train, X_test = split.train, split.test
print(X_train.shape, X_test.shape, f"fraction of ones {X_train.mean():.3f}")

fig, ax = plt.subplots(1, 8, figsize=(10, 1.6))
for a, patch in zip(ax, X_train[:8], strict=True):
    a.imshow(patch.reshape(4, 4), cmap="grey", vmin=0, vmax=1)
    a.set(xticks=[], yticks=[])  # a frame: white pixels stay visible
fig.subplots_adjust(wspace=0.3)
fig.suptitle("training patches (binary)")
plt.show()

# %% [markdown]
# ## Fit and held-out likelihood
#
# With 16 units the partition function is exact (2^16 states). `heldout_report` compares the
# model's log-likelihood of held-out patches with the independent (rate-only) model's and the
# training histogram's.

# %%
model = E.fit(X_train, method="mpf")
rep = E.heldout_report(model, X_train, X_test)
print(
    f"held-out log-likelihood: pairwise {rep['model_test_bits']:.2f} bits/patch, "
    f"independent {rep['independent_test_bits']:.2f}, "
    f"gain {rep['gain_over_independent_bits']:.2f} bits"
)

# %% [markdown]
# ## Couplings, memories and samples
#
# Neighbouring pixels couple most strongly. Memories are the fixed points of asynchronous
# descent (every single flip raises the energy); samples come from Gibbs sampling.

# %%
J = np.asarray(model.J)
memories = model.fixed_points()
samples = model.sample(2_000 if FAST else 20_000, seed=0)
stats = E.compare_statistics(X_test, samples)
print(
    f"{len(memories)} memories; covariance correlation samples vs held-out data "
    f"{stats['corr_covariances']:.3f}"
)

fig, ax = plt.subplots(figsize=(4.6, 3.6))
im = ax.imshow(J, cmap="RdBu_r", vmin=-np.abs(J).max(), vmax=np.abs(J).max())
ax.set(title="couplings J", xlabel="pixel", ylabel="pixel")
fig.colorbar(im, ax=ax)
plt.show()

fig, ax = plt.subplots(2, 8, figsize=(10, 3.0))
for k in range(8):
    for row, (name, words) in enumerate((("memories", memories), ("samples", samples))):
        a = ax[row, k]
        a.set(xticks=[], yticks=[])
        if k < len(words):
            a.imshow(words[k].reshape(4, 4), cmap="grey", vmin=0, vmax=1)
        else:
            a.axis("off")
        if k == 0:
            a.set_title(name, loc="left", fontsize=10)
fig.suptitle("memories (fixed points) and Gibbs samples of the pairwise model")
plt.show()

# %% [markdown]
# The same analysis, for 4x4 and 8x8 patches and then a network driven by them, is what
# `infodyn demo` runs ([the demo](../../demo/)); [Energy](../../energy/) has the fitting methods,
# partition functions (exact and AIS) and the readings of a model as a code and a density.

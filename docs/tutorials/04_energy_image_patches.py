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
# are dropped. A quarter of the patches come from the right-hand quarter of every image, which
# no training patch touches.

# %%
split = idn.data.natural_patches(
    size=4, n=N_PATCHES, seed=0, binarize="mean", held_out=0.25, min_contrast=0.02
)
X_train, X_test = split.train, split.test
print(X_train.shape, X_test.shape, f"fraction of ones {X_train.mean():.3f}")

fig, ax = plt.subplots(1, 8, figsize=(10, 1.6))
for a, patch in zip(ax, X_train[:8], strict=True):
    a.imshow(patch.reshape(4, 4), cmap="grey", vmin=0, vmax=1)
    a.axis("off")
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

fig, ax = plt.subplots(1, 3, figsize=(12, 3.4), gridspec_kw={"width_ratios": [1.2, 1.5, 1.5]})
im = ax[0].imshow(J, cmap="RdBu_r", vmin=-np.abs(J).max(), vmax=np.abs(J).max())
ax[0].set(title="couplings J (pixel x pixel)")
fig.colorbar(im, ax=ax[0])
grid = np.ones((4, 4 * 8 + 7)) * 0.5
for k, m in enumerate(memories[:8]):
    grid[:, 5 * k : 5 * k + 4] = m.reshape(4, 4)
ax[1].imshow(grid, cmap="grey", vmin=0, vmax=1)
ax[1].set(title=f"memories (first {min(8, len(memories))})")
ax[1].axis("off")
grid = np.ones((4, 4 * 8 + 7)) * 0.5
for k, s in enumerate(samples[:8]):
    grid[:, 5 * k : 5 * k + 4] = s.reshape(4, 4)
ax[2].imshow(grid, cmap="grey", vmin=0, vmax=1)
ax[2].set(title="Gibbs samples")
ax[2].axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# The same analysis, for 4x4 and 8x8 patches and then a network driven by them, is what
# `infodyn demo` runs ([the demo](../../demo/)); [Energy](../../energy/) has the fitting methods,
# partition functions (exact and AIS) and the readings of a model as a code and a density.

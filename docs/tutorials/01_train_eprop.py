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
# # Train a network with e-prop
#
# A recurrent network of 100 leaky integrate-and-fire (LIF) units learns to draw a sum of four
# sines with its readout, from frozen Poisson input: the pattern-generation task of Bellec et
# al. (2020, Supplementary Information; Fig. S7 in the authors' code). e-prop computes the
# gradient forward in time, with one eligibility trace per synapse and a learning signal per
# unit; it never stores the history of the network.
#
# Set `INFODYN_TUTORIAL_FAST=1` to run a small version in about 15 s, most of it JAX compiling
# (`make test` does).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import infodyn as idn
from infodyn.learning import FiringRateRegularizer, MeanSquaredError
from infodyn.learning.tasks import PatternGeneration
from infodyn.learning.trainer import Trainer, TrainOptions

FAST = os.environ.get("INFODYN_TUTORIAL_FAST") == "1"
N_STEPS = 300 if FAST else 1000  # ms of one pattern (dt = 1 ms)
N_ITER = 15 if FAST else 300  # e-prop updates

# %% [markdown]
# ## The network and the task
#
# `input_scaling="one_minus_alpha"` follows the e-prop reference code: input currents carry a
# factor `1 - alpha`, `alpha = exp(-dt / tau_m)`. The target is a fixed sum of four sines.

# %%
net = idn.network.LIF(
    n_in=100,
    n_rec=100,
    n_out=1,
    tau_m=30.0,
    tau_out=30.0,
    v_th=0.03,
    input_scaling="one_minus_alpha",
)
task = PatternGeneration(n_steps=N_STEPS, rate_hz=50.0, seed=0)
print(f"input {task.x.shape} spikes, target {task.target.shape}")

# %% [markdown]
# ## The loss and the trainer
#
# Mean squared error of the readout plus the e-prop paper's firing-rate regulariser
# `c/2 sum_j (f_j - f*)^2` with `f* = 10 Hz`. Adam moves every weight by about `lr` per step,
# so the recurrent weights (in units of the membrane potential, not scaled by `1 - alpha`) get
# a learning rate scaled by `1 - alpha`.

# %%
loss = MeanSquaredError() + FiringRateRegularizer(weight=1e-4, f_target_hz=10.0)
options = TrainOptions(
    method="eprop", optimizer="adam", lr=3e-3, lr_scale={"w_rec": 1 - np.exp(-1 / 30)}, seed=0
)
trainer = Trainer(net, task, loss, options)
params0 = trainer.state.params
history = trainer.fit(N_ITER)
print(
    f"{len(history)} iterations; first loss {history[0]['loss']:.3f}, "
    f"last {history[-1]['loss']:.3f}"
)

# %% [markdown]
# ## Learning curve and the learned pattern

# %%
loss_curve = [h["loss"] for h in history]
params = trainer.state.params
trace0 = net.simulate(params0, task.x, engine="jax")
trace = net.simulate(params, task.x, engine="jax")

fig, ax = plt.subplots(1, 3, figsize=(13, 3.2))
ax[0].plot(loss_curve)
ax[0].set(xlabel="iteration", ylabel="loss", yscale="log", title="e-prop training")
t = np.arange(N_STEPS)
ax[1].plot(t, task.target[:, 0], "k", lw=2, label="target")
ax[1].plot(t, np.asarray(trace0.y)[:, 0], alpha=0.7, label="before")
ax[1].plot(t, np.asarray(trace.y)[:, 0], label="after")
ax[1].set(xlabel="time (ms)", title="readout")
ax[1].legend(fontsize=8)
z = np.asarray(trace.z)
tt, uu = np.nonzero(z)
ax[2].plot(tt, uu, "|", ms=2, color="k")
ax[2].set(
    xlabel="time (ms)", ylabel="unit", title=f"spikes after training ({z.mean() * 1000:.1f} Hz)"
)
fig.tight_layout()
plt.show()

nmse = task.metrics(np.asarray(trace.y), task.target)["nmse"]
print(f"normalised MSE after training: {nmse:.3f}")

# %% [markdown]
# With `N_ITER = 300` the readout follows the pattern closely (normalised MSE well below 1). The
# same run from the command line, with checkpoints and figures:
#
# ```bash
# infodyn train examples/train_pattern_generation.toml --out runs/pattern
# ```
#
# [Learning](../../learning/) lists the other gradients (BPTT, BPTT with stopped gradients,
# random feedback), losses and tasks.

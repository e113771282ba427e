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
# # A parameter sweep on Dask
#
# How does a network's activity depend on the strength of its recurrent weights? `run_sweep`
# runs a registered command (here `simulate`) at every point of a grid over dotted config keys,
# times several seeds, on a Dask cluster: a local one with a few worker processes, or an
# existing scheduler (`scheduler="tcp://host:8786"`, e.g. from dask-jobqueue on SLURM). Every
# point gets its own run directory and an atomic done marker, so a rerun skips finished points;
# the results gather into one table.
#
# Set `INFODYN_TUTORIAL_FAST=1` for a small version (`make test` runs it).

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from infodyn.experiments.sweep import run_sweep

FAST = os.environ.get("INFODYN_TUTORIAL_FAST") == "1"

# %% [markdown]
# ## The base config and the grid
#
# The base config is what `infodyn simulate` reads from TOML (`infodyn config init simulate`
# prints every key); the grid overrides `network.rec_scale`.

# %%
base = {
    "network": {
        "model": "lif",
        "n_in": 50,
        "n_rec": 100 if FAST else 300,
        "n_out": 1,
        "tau_m": 30.0,
        "v_th": 0.03,
        "n_ref": 2,
        "in_scale": 1.0,
    },
    "input": {"kind": "poisson", "rate_hz": 20.0, "n_steps": 500 if FAST else 5000, "seed": 1},
    "simulation": {"engine": "jax", "seed": 0},
}
grid = {"network.rec_scale": [0.5, 1.5] if FAST else [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]}

# %% [markdown]
# The local cluster's workers start by importing this script again, so everything that runs
# the sweep or uses its results sits under `if __name__ == "__main__":` (a notebook's cells
# run as `__main__` too). Without the guard `run_sweep` refuses with one line naming the call.

# %%
if __name__ == "__main__":
    out = Path(tempfile.mkdtemp(prefix="infodyn_sweep_"))
    seeds = 1 if FAST else 3
    result = run_sweep("simulate", base, grid, out, seeds=seeds, n_workers=1 if FAST else 2)
    print(
        f"{result.n_points} points, {result.n_ran} ran, {result.n_failed} failed, "
        f"{result.wall_seconds:.1f} s"
    )
    print(sorted(p.name for p in out.iterdir()))

# %% [markdown]
# ## The results table
#
# One row per point: the grid values, the seed, the status and every scalar result of the
# command (mean rate, spike count, rate percentiles, ...).

# %%
if __name__ == "__main__":
    rows = [r for r in result.rows if r["status"] == "done"]
    print(sorted(rows[0]))
    key = "network.rec_scale"
    metric = "mean_rate_hz"
    xs = sorted({r[key] for r in rows})
    means = [np.mean([r[metric] for r in rows if r[key] == x]) for x in xs]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([r[key] for r in rows], [r[metric] for r in rows], "o", alpha=0.5, label="seeds")
    ax.plot(xs, means, "-", label="mean")
    ax.set(xlabel=key, ylabel=metric, title="activity against recurrent strength")
    ax.legend()
    plt.show()

# %% [markdown]
# ## Resume
#
# Running the same sweep again skips every finished point (its `DONE.json` holds the same
# config hash), so an interrupted sweep loses nothing:

# %%
if __name__ == "__main__":
    again = run_sweep("simulate", base, grid, out, seeds=seeds, n_workers=1)
    print(f"rerun: {again.n_ran} ran, {again.n_skipped} skipped")

# %% [markdown]
# The command line does the same: `infodyn sweep examples/simulate_lif.toml --grid
# network.rec_scale=0.5,1.0,1.5 --seeds 4 --out runs/sweep [--scheduler tcp://HOST:8786]`.
# [Scale](../../scale/) has the SLURM recipe, batching small networks with `jax.vmap`, and the
# memory arithmetic of long runs.

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
# # Analyse your own recording
#
# infodyn reads the recordings you already have: Kilosort/phy output folders, NWB files, any
# file Neo reads that holds spike trains (Plexon, Blackrock, Spike2, NIX, ...), and pynapple
# `TsGroup` objects. `load_spikes` bins their spike times (seconds) into steps of `dt` ms and
# returns a `SpikeTrain`, which every analysis takes.
#
# So that this page runs anywhere, we first *make* a recording: a simulated network's spikes
# written as a Kilosort/phy folder (with NumPy, the way Kilosort writes it), as a Neo file and
# as a pynapple object. With your data, start at "Load it".
#
# Set `INFODYN_TUTORIAL_FAST=1` for a small version (`make test` runs it).

# %%
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import neo
import numpy as np
import quantities as pq

import infodyn as idn
from infodyn.data.pynapple_io import to_tsgroup

FAST = os.environ.get("INFODYN_TUTORIAL_FAST") == "1"
folder = Path(tempfile.mkdtemp(prefix="infodyn_recording_")) / "kilosort_output"
warnings.simplefilter("ignore", idn.criticality.CriticalityWarning)

# %% [markdown]
# ## A recording to analyse
#
# 120 LIF units for 20 s (4 s in fast mode). Kilosort writes spike times in samples
# (`spike_times.npy`, here at 30 kHz with sub-millisecond jitter), the cluster of each spike
# (`spike_clusters.npy`), the sampling rate in `params.py`; curation in phy labels clusters
# `good`, `mua` or `noise` (`cluster_group.tsv`). We label a third of them `mua`. A unit that
# never spiked has no cluster, as in a real sorting.

# %%
T = 4_000 if FAST else 20_000
net = idn.network.LIF(n_in=50, n_rec=120, n_out=1, in_scale=2.0, rec_scale=1.2, n_ref=2)
x = idn.network.poisson_spikes(20.0, T, n_in=50, seed=1)
sim = net.simulate(net.init(seed=0), x, engine="auto").spike_train()

rng = np.random.default_rng(0)
rate = 30_000.0
samples = np.floor((sim.times + rng.uniform(0, 0.97, sim.n_spikes)) * rate / 1000).astype(np.uint64)
cluster_ids = 100 + 3 * np.arange(sim.n_units)  # Kilosort's ids are not 0..n-1
order = np.argsort(samples, kind="stable")
folder.mkdir(parents=True)
np.save(folder / "spike_times.npy", samples[order][:, None])
np.save(folder / "spike_clusters.npy", cluster_ids[sim.units][order].astype(np.int32))
labels = np.where(np.arange(sim.n_units) % 3 == 2, "mua", "good")
(folder / "cluster_group.tsv").write_text(
    "cluster_id\tgroup\n" + "".join(f"{c}\t{g}\n" for c, g in zip(cluster_ids, labels, strict=True))
)
(folder / "params.py").write_text(
    "dat_path = 'recording.bin'\nn_channels_dat = 64\ndtype = 'int16'\nsample_rate = 30000.0\n"
)
print(sorted(p.name for p in folder.iterdir()))

# %% [markdown]
# ## Load it
#
# Only clusters labelled `good` are kept unless `groups` asks for more (`"good,mua"` or
# `"all"`). The original cluster ids stay in `metadata["unit_ids"]`.

# %%
spikes = idn.data.load_spikes(folder, dt=1.0)
everything = idn.data.load_spikes(folder, dt=1.0, groups="all")
print(
    f"good units: {spikes.n_units}, all units: {everything.n_units}, "
    f"{spikes.n_steps} steps of {spikes.dt} ms"
)
print("first cluster ids:", spikes.metadata["unit_ids"][:5])

# %% [markdown]
# ## Criticality and information
#
# The same calls as for a simulated network: population activity, the MR branching ratio,
# avalanches, and the information of spike words.

# %%
C, I = idn.criticality, idn.information
act = C.population_activity(spikes)
br = C.branching_ratio(act, method="mr", n_boot=0 if FAST else 50)
av = C.avalanches(C.population_activity(spikes, bin_ms="iei"))
words = I.spike_words(spikes.select_units(np.argsort(spikes.spike_counts())[-6:]), bin_steps=5)
summary = I.multivariate_summary(words)
print(
    f"mean rate {spikes.rates_hz().mean():.1f} Hz; MR m = {br.m:.3f}, tau = {br.tau:.1f} ms; "
    f"{len(av.sizes)} avalanches; O-information of 6 units {summary['o_information']:.3f} bits"
)

fig, ax = plt.subplots(1, 2, figsize=(11, 3.2))
t, u = spikes.times, spikes.units
keep = t < 1000
ax[0].plot(t[keep], u[keep], "|", ms=2, color="k")
ax[0].set(xlabel="time (ms)", ylabel="unit (good)", title="the first second")
sizes, counts = np.unique(av.sizes, return_counts=True)
ax[1].loglog(sizes, counts / counts.sum(), "o", ms=3)
ax[1].set(xlabel="avalanche size", ylabel="P(size)", title=f"avalanches (m = {br.m:.2f})")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Neo files and pynapple objects
#
# A file written by Neo (here its MATLAB writer; the same call reads Plexon, Blackrock, Spike2,
# NIX... files) and a pynapple `TsGroup` load the same way; each Neo `Segment` or each
# interval of the `TsGroup`'s time support is one trial.

# %%
segment = neo.Segment()
for i in range(spikes.n_units):
    segment.spiketrains.append(
        neo.SpikeTrain(
            spikes.times[spikes.units == i] * 1.0,
            units="ms",
            t_stop=spikes.n_steps * pq.ms,
            name=f"cluster {spikes.metadata['unit_ids'][i]}",
        )
    )
block = neo.Block()
block.segments.append(segment)
neo_path = folder.parent / "recording.mat"
neo.io.NeoMatlabIO(str(neo_path)).write_block(block)
from_neo = idn.data.load_spikes(neo_path, dt=1.0)

group = to_tsgroup(spikes)  # a pynapple TsGroup, times in seconds
from_nap = idn.data.load_spikes(group, dt=1.0)
for name, s in (("Neo .mat", from_neo), ("pynapple", from_nap)):
    same = np.array_equal(s.times, spikes.times) and np.array_equal(s.units, spikes.units)
    print(f"{name}: {s.n_units} units, {s.n_spikes} spikes, identical to the phy load: {same}")

# %% [markdown]
# ## From the command line
#
# Every command that takes a spike file takes these sources too, and `infodyn convert` writes
# infodyn's HDF5 format (streamed by the long-run tools); give the folder of your own
# recording (this tutorial's lies in a temporary folder, `folder` above):
#
# ```bash
# infodyn convert path/to/kilosort_output/ spikes.h5 --dt 1 --groups good
# infodyn criticality path/to/kilosort_output/ --out runs/crit
# infodyn info recording.plx --out runs/info --bin-ms 5
# ```
#
# [Spike files and recordings](../../recordings/) lists every format and how it is binned.

"""Spike files: size and write/read time of the HDF5 filters, and of infodyn's two writers.

One Bernoulli raster (``--units`` units, ``--steps`` steps, ``--rate`` spikes a unit a step) is
written with gzip at levels 1, 4 and 6, each with and without HDF5's byte shuffle, in the
layout of :mod:`infodyn.data.spike_files` (int64 times, int32 units and trials, chunks of 65,536),
then with :func:`~infodyn.data.spike_files.save_spikes` and
:class:`~infodyn.data.spike_files.SpikeWriter` (appended 1,000 steps at a time, as
``simulate_to_file`` streams). It prints the file size and the medians of ``--repeats`` write and
read times (wall clock: the machine is shared, compare the rows with each other).

Run (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_spike_files.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from infodyn.data import SpikeTrain, load_spikes, save_spikes
from infodyn.data.spike_files import SpikeWriter


def raster(n_units: int, n_steps: int, rate: float, seed: int = 0) -> SpikeTrain:
    """Independent Bernoulli spikes, drawn step by step (no dense (T, N) array)."""
    rng = np.random.default_rng(seed)
    times, units = [], []
    for t in range(n_steps):
        u = np.flatnonzero(rng.random(n_units) < rate)
        times.append(np.full(u.size, t, np.int64))
        units.append(u.astype(np.int32))
    return SpikeTrain(
        times=np.concatenate(times),
        units=np.concatenate(units),
        n_units=n_units,
        n_steps=n_steps,
        dt=1.0,
    )


def write_filtered(path: Path, train: SpikeTrain, level: int, shuffle: bool) -> None:
    chunks = (min(train.n_spikes, 65536),) if train.n_spikes else None
    opts = {"chunks": chunks, "compression": "gzip", "compression_opts": level}
    with h5py.File(path, "w") as h5:
        grp = h5.create_group("spikes")
        for name in ("times", "units", "trials"):
            grp.create_dataset(name, data=getattr(train, name), shuffle=shuffle, **opts)


def read_filtered(path: Path) -> None:
    with h5py.File(path, "r") as h5:
        for name in ("times", "units", "trials"):
            h5["spikes"][name][:]


def write_streamed(path: Path, train: SpikeTrain, block: int = 1000) -> None:
    cuts = np.searchsorted(train.times, np.arange(0, train.n_steps + block, block))
    with SpikeWriter(path, n_units=train.n_units, n_steps=train.n_steps) as w:
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            w.append(train.times[a:b], train.units[a:b])


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def same_spikes(path: Path, train: SpikeTrain) -> bool:
    back = load_spikes(path)
    return np.array_equal(back.times, train.times) and np.array_equal(back.units, train.units)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=0.018, help="spikes a unit a step")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    train = raster(args.units, args.steps, args.rate)
    print(f"{train.n_spikes:,} spikes ({args.units:,} units, {args.steps:,} steps)\n")
    print("| writer | filter | MB | write s | read s |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[tuple[str, str, Callable[[Path], object], Callable[[Path], object]]] = [
            ("h5py", f"gzip {lvl}{' + shuffle' if sh else ''}", w, read_filtered)
            for lvl in (1, 4, 6)
            for sh in (False, True)
            for w in [lambda p, lvl=lvl, sh=sh: write_filtered(p, train, lvl, sh)]
        ]
        rows += [
            ("save_spikes", "library", lambda p: save_spikes(p, train), load_spikes),
            ("SpikeWriter", "library", lambda p: write_streamed(p, train), load_spikes),
        ]
        for i, (writer, label, write, read) in enumerate(rows):
            path = Path(tmp) / f"f{i}.h5"
            t_write = median_time(lambda: write(path), args.repeats)  # noqa: B023
            t_read = median_time(lambda: read(path), args.repeats)  # noqa: B023
            mb = path.stat().st_size / 1e6
            print(f"| {writer} | {label} | {mb:.1f} | {t_write:.2f} | {t_read:.2f} |")
            if writer != "h5py" and not same_spikes(path, train):
                print(f"{writer}: the file does not read back as the raster written")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

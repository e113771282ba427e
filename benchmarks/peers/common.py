"""Shared helpers of the network-benchmark runners (stdlib + NumPy only: every venv has them).

Each runner is started by ``benchmarks/bench_network.py`` as its own process, in its own venv,
pinned to one thread. It reads the benchmark case (an ``.npz`` written by the orchestrator),
simulates it, saves the spikes it produced and prints ONE JSON line prefixed ``RESULT `` with
its timings. Times are measured both as wall clock and as process CPU time: on a shared machine
CPU time is the fairer measure of single-threaded work (scheduling delays are not counted).

The case file holds the network of :mod:`infodyn.network.model` in its discrete-time form::

    v[t] = alpha v[t-1] + W_rec^T z[t-1] + W_in^T x[t] - v_th z[t-1]
    z[t] = H(v[t] - v_th)

with ``w_in`` (n_in, n), ``w_rec`` (n, n) (``w_rec[i, j]``: synapse from i onto j, zero
diagonal), ``x`` (T, n_in) 0/1 input spikes (``x[0] = 0``), and scalars ``alpha``, ``v_th``,
``dt`` (ms), ``tau_m`` (ms).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def load_case(path: str) -> dict[str, Any]:
    """Load the benchmark case written by the orchestrator."""
    with np.load(path) as f:
        case = {k: f[k] for k in f.files}
    for key in ("alpha", "v_th", "dt", "tau_m"):
        case[key] = float(case[key])
    return case


def parser(description: str) -> argparse.ArgumentParser:
    """The command-line interface every runner shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("case", help="benchmark case .npz")
    p.add_argument("--spikes-out", required=True, help="where to save (times, units) .npz")
    p.add_argument("--repeats", type=int, default=3)
    return p


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn()``; return (result, wall seconds, process CPU seconds)."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def repeated(fn: Callable[[], Any], repeats: int) -> tuple[Any, list[float], list[float]]:
    """Run ``fn()`` ``repeats`` times (:func:`timed`); return the last result and the wall and
    CPU seconds of each run."""
    out, wall, cpu = None, [], []
    for _ in range(repeats):
        out, w, c = timed(fn)
        wall.append(w)
        cpu.append(c)
    return out, wall, cpu


def emit_raster(
    path: str, name: str, raster: np.ndarray, wall: list[float], cpu: list[float], versions: str
) -> None:
    """Save a dense (T, N) boolean ``raster`` as spikes (:func:`save_spikes`) and print the
    runner's result line (:func:`emit`) with its spike count and the peer's ``versions``."""
    times, units = np.nonzero(raster)
    save_spikes(path, times, units)
    emit(name, raster.shape[0], wall, cpu, n_spikes=int(times.size), versions=versions)


def save_spikes(path: str, times: np.ndarray, units: np.ndarray) -> None:
    """Save a sparse raster, sorted by (time, unit) so rasters can be compared directly."""
    times = np.asarray(times, np.int64)
    units = np.asarray(units, np.int64)
    order = np.lexsort((units, times))
    np.savez(path, times=times[order], units=units[order])


def current_rss_mb() -> float:
    """The resident set size of this process now (MiB), from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return 0.0


def peak_rss_mb() -> dict[str, float]:
    """Peak resident set size (``getrusage().ru_maxrss``, MiB) of this process and of its
    waited-for children (a simulator binary it ran)."""
    to_mb = 1 / 1024  # ru_maxrss is in KiB on Linux
    return {
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
        "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * to_mb,
    }


def emit(name: str, n_steps: int, wall: list[float], cpu: list[float], **extra: Any) -> None:
    """Print the runner's result line (medians and all repeats, and the peak memory)."""
    result = {
        "name": name,
        "n_steps": n_steps,
        "wall_s": wall,
        "cpu_s": cpu,
        "wall_median_s": statistics.median(wall) if wall else None,
        "cpu_median_s": statistics.median(cpu) if cpu else None,
        **{**peak_rss_mb(), **extra},
    }
    print("RESULT " + json.dumps(result), flush=True)

"""Peak memory of ``load_spikes`` against the size of the spikes it returns.

A spike file of ``--spikes`` spikes (one trial, int64 times, int32 units, written by
:class:`~infodyn.data.spike_files.SpikeWriter` as ``infodyn simulate`` writes them) is read by
``load_spikes`` in a fresh Python process for each source tree given (``--src``, default this
checkout's ``src``; give an older checkout's ``src`` to compare), and the process's peak RSS
(``ru_maxrss``) is printed beside the RSS after the imports alone and the bytes of the arrays
held. Memory, not time, so the shared machine's load does not matter.

Run (from the repository root; an older tree from ``git worktree add /tmp/old 16069f2``)::

    PYTHONPATH=src .venv/bin/python benchmarks/load_spikes_memory.py --spikes 50000000 \\
        --src src /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from infodyn.data.spike_files import SpikeWriter

MEASURE = """
import resource, sys
import h5py, numpy, infodyn.data
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
s = infodyn.data.load_spikes(sys.argv[1])
held = s.times.nbytes + s.units.nbytes + s.trials.nbytes
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(s.n_spikes, base * 1024, held, peak * 1024)
"""


def write_file(path: Path, n_spikes: int, n_units: int = 100_000, per_step: int = 2_000) -> None:
    """``n_spikes`` spikes, ``per_step`` a step on distinct units, in (time, unit) order."""
    rng = np.random.default_rng(0)
    n_steps = -(-n_spikes // per_step)
    with SpikeWriter(path, n_units=n_units, dt=1.0, n_steps=n_steps) as writer:
        for t0 in range(0, n_steps, 1000):
            times, units = [], []
            for t in range(t0, min(t0 + 1000, n_steps)):
                k = min(per_step, n_spikes - t * per_step)
                units.append(np.sort(rng.choice(n_units, k, replace=False)).astype(np.int32))
                times.append(np.full(k, t, np.int64))
            writer.append(np.concatenate(times), np.concatenate(units))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spikes", type=int, default=20_000_000)
    parser.add_argument("--src", nargs="+", default=["src"])
    args = parser.parse_args(argv)
    for src in args.src:  # else the venv's own infodyn answered under that name
        if not (Path(src) / "infodyn" / "__init__.py").is_file():
            parser.error(f"--src {src}: not an infodyn source tree (no infodyn/__init__.py)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spikes.h5"
        write_file(path, args.spikes)
        print(f"{args.spikes:,} spikes, file {path.stat().st_size / 2**20:.0f} MiB")
        print(
            "| source | RSS after imports MiB | arrays held MiB | peak RSS MiB | peak - imports |"
        )
        print("|---|---:|---:|---:|---:|")
        for src in args.src:
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            out = subprocess.run(
                [sys.executable, "-c", MEASURE, str(path)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            _, base, held, peak = (int(v) for v in out)
            mib = 2**20
            print(
                f"| {src} | {base / mib:.0f} | {held / mib:.0f} | {peak / mib:.0f} | "
                f"{(peak - base) / held:.2f} x held |"
            )


if __name__ == "__main__":
    main()

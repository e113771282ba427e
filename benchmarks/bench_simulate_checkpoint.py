"""What checkpointing costs a long ``infodyn simulate`` run (a script, not a test).

Runs ``examples/simulate_sparse_100k.toml`` (10^5 units, K = 100, 10^4 steps, about 1.85 x 10^7
spikes) with ``chunk_steps = 1000`` and ``checkpoint_seconds`` = 600 (no checkpoint before the
last step: one stretch, linked) and 3 (several stretches, joined), each ``--repeats`` times in
turn, and reports the medians of wall and CPU time (the child process's). Then it joins the run's
spike file cut into eight stretches of whole chunks two ways: by copying the compressed chunks
(:func:`infodyn.data.spike_concat.concatenate_spike_files`, what a resumed or checkpointed run
does) and by reading the spikes back and writing them again (:class:`SpikeWriter`), medians of
CPU time. Usage::

    python benchmarks/bench_simulate_checkpoint.py [--repeats 3] [--work /tmp/ckbench]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import h5py

from infodyn.data.spike_concat import concatenate_spike_files
from infodyn.data.spike_files import CHUNK, SpikeWriter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "simulate_sparse_100k.toml"


def _config(work: Path, every_s: float) -> Path:
    """The example with ``chunk_steps = 1000`` (the example's own, set here again if it changes)
    and ``checkpoint_seconds = every_s``."""
    lines = [
        ln
        for ln in EXAMPLE.read_text().splitlines(keepends=True)
        if not ln.startswith(("chunk_steps", "checkpoint_seconds"))  # (a key twice: bad TOML)
    ]
    text = "".join(lines).replace(
        "[simulation]\n", f"[simulation]\nchunk_steps = 1000\ncheckpoint_seconds = {every_s}\n"
    )
    path = work / f"every_{every_s:g}.toml"
    path.write_text(text)
    return path


def _timed_run(config: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one ``infodyn simulate``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "infodyn", "simulate", str(config), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _join_times(spikes: Path, work: Path, repeats: int) -> dict[str, float]:
    with h5py.File(spikes) as h5:
        times, units = h5["spikes/times"][:], h5["spikes/units"][:]
        header = {"n_units": int(h5.attrs["n_units"]), "n_steps": int(h5.attrs["n_steps"])}
    n = len(times)
    cuts = [0] + [(n * k // 8) // CHUNK * CHUNK for k in range(1, 8)] + [n]
    parts = []
    for k in range(8):
        part = work / f"part{k}.h5"
        with SpikeWriter(part, dt=1.0, **header) as writer:
            writer.append(times[cuts[k] : cuts[k + 1]], units[cuts[k] : cuts[k + 1]])
        parts.append(part)
    chunks, blocks = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        concatenate_spike_files(parts, work / "joined.h5")
        chunks.append(time.process_time() - t0)
        t0 = time.process_time()
        with SpikeWriter(work / "rewritten.h5", dt=1.0, **header) as writer:
            for part in parts:
                with h5py.File(part) as h5:
                    writer.append(h5["spikes/times"][:], h5["spikes/units"][:])
        blocks.append(time.process_time() - t0)
    return {"n_spikes": n, "chunks": statistics.median(chunks), "blocks": statistics.median(blocks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ckbench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[float, list[tuple[float, float]]] = {600.0: [], 3.0: []}
    for _ in range(args.repeats):
        for every_s in results:
            out = args.work / f"run_{every_s:g}"
            subprocess.run(["rm", "-rf", str(out)], check=True)
            results[every_s].append(_timed_run(_config(args.work, every_s), out))
    print("| checkpoint_seconds | stretches | wall s (median) | CPU s (median) |")
    print("|---:|---|---:|---:|")
    for every_s, runs in results.items():
        kind = "one (linked)" if every_s == 600.0 else "several (joined)"
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"| {every_s:g} | {kind} | {wall:.2f} | {cpu:.2f} |")
    joined = _join_times(args.work / "run_600" / "spikes.h5", args.work, args.repeats)
    print(
        f"\njoining {joined['n_spikes']:,} spikes in 8 stretches: {joined['chunks']:.3f} s CPU "
        f"copying compressed chunks, {joined['blocks']:.2f} s reading and writing them again"
    )


if __name__ == "__main__":
    main()

"""Benchmark of issue 13: sparse networks at 10^3-10^5 units, infodyn against Brian2 and NEST.

One network per (regime, N, K), built once by ``peers/scale_case.py`` (its docstring gives the
model: infodyn's LIF map, delta synapses with a one-step delay, subtractive reset, fixed
in-degree K, E/I with Dale's law, one Poisson input channel per unit) and written to a case
file that every simulator reads: the same synapses (pre, post, w) and the same input spikes.
Each simulator then runs in its own process and venv, one thread, one after the other:

- ``event``: infodyn's event engine (Numba) on ``SparseWeights``          (``.venv``)
- ``jax``: infodyn's JAX engine (``lax.scan``; on a CPU the active rows    (``.venv``)
  added in an XLA custom call, ``network/event_current.py``)
- ``floor``: a bare Numba loop doing only the recurrent scatter-adds of the same spikes over
  the same arrays: this machine's floor for the work (``peers/run_scale_floor.py``)
- ``brian2``: Brian2 C++ standalone, the same equations (``peers/run_scale_brian2.py``)
- ``nest``: NEST ``iaf_psc_delta``, reset to a value (``peers/run_scale_nest.py`` gives the
  conversion)

Rasters are compared with the event engine's: spike for spike where the models are identical
(event, JAX, floor's reference loop, Brian2), otherwise (NEST) by rate, CV of the ISIs and Fano
factor. Speed is recurrent synaptic events per second of CPU time (the events each simulator's
own raster implies: the out-degrees of the units that spiked), medians of the repeats. The JAX
engine's sparse path is timed against the event engine on its own case at about 10 % activity.

Regimes (``scale_case.REGIMES``): ``ai`` (asynchronous irregular, about 5 Hz) and ``critical``
(near the onset of self-sustained activity: weak drive, strong recurrent coupling, large
population fluctuations). Sizes: N in {10^3, 10^4, 10^5} x K in {100, 1000}; K = 1000 needs
N > 1250 (no autapses, no multapses), so (10^3, 1000) does not exist.

Run (from the repository root; the full grid takes hours on a shared 2-core machine)::

    .venv/bin/python benchmarks/bench_scale.py --write
    .venv/bin/python benchmarks/bench_scale.py --quick            # N <= 10^4, K = 100

Peer venvs (once)::

    python3 -m venv .venv-brian2 && .venv-brian2/bin/pip install brian2 'numpy<2.4' cython
    python3 -m venv .venv-nest && .venv-nest/bin/pip install nest-simulator

(or point ``--brian2-venv`` / ``--nest-venv`` at existing ones).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from harness import Runner, load_average, run_worker, write_block  # noqa: E402
from scale_case import raster_stats, regime_case, write_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parent / "peers"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Networks at scale: sparse connectivity (issue 13)"
BEGIN, END = "<!-- bench_scale: begin -->", "<!-- bench_scale: end -->"
COMMAND = ".venv/bin/python benchmarks/bench_scale.py"

FULL_SIZES = ("1000:100", "10000:100", "10000:1000", "100000:100", "100000:1000")
QUICK_SIZES = ("1000:100", "10000:100")
ORDER = ("event", "jax", "floor", "brian2", "nest")
# Peak memory a worker may need, bytes per synapse (measured at N = 10^4, K = 1000 with the
# case's arrays loaded; see RESULTS.md) and per input spike: larger cases are skipped.
BYTES_PER_SYN = {"event": 20, "jax": 60, "floor": 20, "brian2": 60, "nest": 110}
BYTES_PER_INPUT_SPIKE = {"event": 8, "jax": 8, "floor": 8, "brian2": 40, "nest": 40}
JAX_MAX_NNZ_STEPS = 2 * 10**9  # the JAX engine touches every synapse every step


def runners(args: argparse.Namespace) -> dict[str, Runner]:
    return {
        "event": Runner("event", ".venv", "run_scale_infodyn.py", ("--engine", "event")),
        "jax": Runner("jax", ".venv", "run_scale_infodyn.py", ("--engine", "jax")),
        "floor": Runner("floor", ".venv", "run_scale_floor.py"),
        "brian2": Runner("brian2", args.brian2_venv, "run_scale_brian2.py"),
        "nest": Runner("nest", args.nest_venv, "run_scale_nest.py"),
    }


def parse_size(text: str) -> tuple[int, int]:
    n, k = text.split(":")
    return int(float(n)), int(float(k))


def run_case(case, sims, args, tmp: Path) -> dict:
    """Write one case, run the simulators on it; returns per-simulator results with stats."""
    path = tmp / f"{case.regime}_{case.n}_{case.k}.npz"
    info = write_case(case, str(path))
    out = {"case": {**case.__dict__, **info}, "results": {}}
    ref = None
    for key in sims:
        est = BYTES_PER_SYN[key] * info["nnz"] + BYTES_PER_INPUT_SPIKE[key] * info["n_input_spikes"]
        if est > args.memory_limit_gb * 2**30:
            out["results"][key] = {"skipped": f"needs about {est / 2**30:.0f} GB"}
            continue
        if key == "jax" and info["nnz"] * case.n_steps > JAX_MAX_NNZ_STEPS and not args.force_jax:
            out["results"][key] = {"skipped": "nnz x steps too large for a per-step dense gather"}
            continue
        spikes = tmp / f"{key}.npz"
        runner = runners(args)[key]
        repeats = args.repeats if case.n < 100_000 else args.repeats_large
        if key == "nest" and args.nest_repeats:
            repeats = min(repeats, args.nest_repeats)
        cmd = [str(path), "--spikes-out", str(spikes), "--repeats", str(repeats), *runner.args]
        steps = case.n_steps
        limit = {"nest": args.nest_max_steps, "brian2": args.brian2_max_steps}.get(key)
        if limit and case.n >= args.nest_max_steps_from:
            steps = min(steps, limit)
            cmd += ["--max-steps", str(steps)]
        if key == "nest" and args.nest_input_chunk_steps:
            cmd += ["--input-chunk-steps", str(args.nest_input_chunk_steps)]
        if key == "brian2":
            cmd += ["--workdir", str(Path(tempfile.gettempdir()) / "bench_scale_brian2")]
        print(f"  {key} ...", file=sys.stderr, flush=True)
        r = run_worker(runner.python_in(ROOT), PEERS / runner.script, cmd, args.timeout)
        if "error" not in r:
            if args.keep_spikes:
                args.keep_spikes.mkdir(parents=True, exist_ok=True)
                shutil.copy(spikes, args.keep_spikes / spikes_name(case.__dict__, key))
            with np.load(spikes) as f:
                t, u = f["times"], f["units"]
            r["stats"] = raster_stats(t, u, case.n, steps, case.dt)
            if key == "event":
                ref = (t, u)
            elif ref is not None:
                r["vs_event"] = compare(ref, (t, u))
            print(f"    {summary(r)}", file=sys.stderr, flush=True)
        else:
            print(f"    {r['error']}", file=sys.stderr, flush=True)
        out["results"][key] = r
    path.unlink()
    return out


def spikes_name(case: dict, key: str) -> str:
    return f"{case['regime']}_{case['n']}_{case['k']}_{case['n_steps']}_{key}.npz"


def compare_kept(recs: list[dict], where: Path) -> None:
    """Compare every kept raster with the kept event-engine raster of its case (cases whose
    simulators ran in different invocations)."""
    for rec in recs:
        ev = where / spikes_name(rec["case"], "event")
        if not ev.exists():
            continue
        with np.load(ev) as f:
            ref = (f["times"], f["units"])
        for key, r in rec["results"].items():
            path = where / spikes_name(rec["case"], key)
            if key != "event" and path.exists() and "error" not in r and "skipped" not in r:
                with np.load(path) as f:
                    r["vs_event"] = compare(ref, (f["times"], f["units"]))


def compare(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> str:
    """'identical' or 'same until step s' for two rasters sorted by (time, unit)."""
    (ta, ua), (tb, ub) = a, b
    m = min(ta.size, tb.size)
    diff = np.flatnonzero((ta[:m] != tb[:m]) | (ua[:m] != ub[:m]))
    if diff.size == 0 and ta.size == tb.size:
        return "identical"
    i = int(diff[0]) if diff.size else m
    step = min(int(ta[i]) if i < ta.size else 1 << 62, int(tb[i]) if i < tb.size else 1 << 62)
    return f"same until step {step}"


def events_per_s(r: dict) -> float | None:
    if "error" in r or "skipped" in r or not r.get("cpu_median_s"):
        return None
    return r["syn_events"] / r["cpu_median_s"]


def summary(r: dict) -> str:
    eps = events_per_s(r)
    s = r["stats"]
    return (
        f"{r['cpu_median_s']:.2f} s CPU, {eps / 1e6:.1f} M events/s, {s['rate_hz']:.2f} Hz, "
        f"{r.get('vs_event', '')}"
    )


def stats_text(r: dict) -> str:
    s = r["stats"]
    return (
        f"{s['rate_hz']:.2f} | {s['cv_isi']:.3f} ± {s['cv_isi_se']:.3f} "
        f"| {s['fano']:.3f} ± {s['fano_se']:.3f}"
    )


def table(records: list[dict]) -> str:
    """One row per (case, simulator)."""
    lines = [
        "| regime | N | K | simulator | M syn. events/s (CPU) | CPU s | wall s | build s "
        "| peak RSS MB | rate Hz | CV ISI | Fano (100 ms) | raster vs event engine |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for rec in records:
        c = rec["case"]
        head = f"| {c['regime']} | {c['n']:,} | {c['k']:,} "
        for key, r in rec["results"].items():
            if "skipped" in r or "error" in r:
                why = r.get("skipped") or f"failed: {r['error'][:160]}"
                lines.append(f"{head}| {key} | {why} | | | | | | | | |")
                continue
            rss = max(r.get("maxrss_mb", 0.0), r.get("maxrss_children_mb", 0.0))
            build = r.get("build_s")
            if key == "floor":
                vs = "reference loop: " + r.get("vs_event", "—")
            else:
                vs = "reference" if key == "event" else r.get("vs_event", "—")
            name = r["name"]
            if r.get("steps_run", c["n_steps"]) < c["n_steps"]:
                name += f" (first {r['steps_run']:,} steps)"
            lines.append(
                f"{head}| {name} | {events_per_s(r) / 1e6:,.1f} | {r['cpu_median_s']:.2f} "
                f"| {r['wall_median_s']:.2f} | {'—' if build is None else f'{build:.2f}'} "
                f"| {rss:,.0f} | {stats_text(r)} | {vs} |"
            )
    return "\n".join(lines)


def ratio_of(rec: dict, a: str, b: str) -> float | None:
    ea, eb = events_per_s(rec["results"].get(a, {})), events_per_s(rec["results"].get(b, {}))
    return ea / eb if ea and eb else None


def targets(records: list[dict], jax_rec: dict | None) -> str:
    """The issue's targets as measured ratios, one row per case."""
    lines = [
        "| regime | N | K | event / Brian2 (> 1) | event / NEST (>= 10) "
        "| event / floor (>= 0.5) | event weights B/syn (<= 8 + O(N)) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def fmt(x: float | None, good: float) -> str:
        if x is None:
            return "—"
        text = f"{x:.2f}x"
        if x < good and text == f"{good:.2f}x":  # just below the target: no 0.50x in bold
            text = f"{x:.3f}x"
        return text if x >= good else f"**{text}**"

    for rec in records:
        c, ev = rec["case"], rec["results"].get("event", {})
        syn = f"{ev['w_rec_bytes'] / c['nnz']:.2f}" if events_per_s(ev) else "—"
        vs_b2 = fmt(ratio_of(rec, "event", "brian2"), 1)
        vs_nest = fmt(ratio_of(rec, "event", "nest"), 10)
        vs_floor = fmt(ratio_of(rec, "event", "floor"), 0.5)
        lines.append(
            f"| {c['regime']} | {c['n']:,} | {c['k']:,} | {vs_b2} | {vs_nest} | {vs_floor} "
            f"| {syn} |"
        )
    if jax_rec is not None:
        c = jax_rec["case"]
        ev, jx = jax_rec["results"].get("event", {}), jax_rec["results"].get("jax", {})
        if events_per_s(ev) and events_per_s(jx):
            act = ev["n_spikes"] / (c["n"] * c["n_steps"])
            r = jx["cpu_median_s"] / ev["cpu_median_s"]
            lines.append("")
            lines.append(
                f"JAX engine's sparse path at {100 * act:.1f} % activity (N = {c['n']:,}, "
                f"K = {c['k']}, {c['n_steps']:,} steps): {jx['cpu_median_s']:.2f} s CPU vs the "
                f"event engine's {ev['cpu_median_s']:.2f} s: **{r:.2f}x** the event engine's time "
                f"(target <= 2x); raster {jx.get('vs_event', '—')}."
            )
    return "\n".join(lines)


def merge(paths, records: list[dict], jax_rec: dict | None) -> tuple[list[dict], dict | None]:
    """Join the records of earlier runs (``--json`` files, in order) with this run's: a case is
    keyed by (regime, N, K); a simulator's result from a later source replaces an earlier one."""
    merged: dict[tuple, dict] = {}
    jax_out = None
    sources = [json.loads(Path(p).read_text()) for p in paths]
    sources.append({"records": records, "jax": jax_rec})
    for src in sources:
        for rec in src["records"]:
            c = rec["case"]
            key = (c["regime"], c["n"], c["k"])
            old = merged.setdefault(key, {"case": c, "results": {}})
            old["results"].update(rec["results"])
        jax_out = src.get("jax") or jax_out
    order = {"ai": 0, "critical": 1}
    keys = sorted(merged, key=lambda k: (order.get(k[0], 9), k[1], k[2]))
    recs = [merged[k] for k in keys]
    for rec in recs:  # simulators in the benchmark's order
        rec["results"] = {s: rec["results"][s] for s in ORDER if s in rec["results"]}
    return recs, jax_out


def header(args, loads: tuple[str, str]) -> str:
    return (
        f"T = {args.n_steps:,} steps of dt = 1 ms ({args.n_steps / 1000:g} s), batch 1, one "
        "thread per "
        f"simulator, medians of {args.repeats} repeats ({args.repeats_large} at N = 10^5"
        f"{f', NEST {args.nest_repeats}' if args.nest_repeats else ''}). "
        f"Machine: {platform.machine()} {os.cpu_count()} cores shared with other engineers "
        f"(load average before: {loads[0]}, after: {loads[1]}), "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}."
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="*", default=None, help="N:K pairs (default: the full grid)")
    p.add_argument("--quick", action="store_true", help=f"sizes {' '.join(QUICK_SIZES)}")
    p.add_argument("--regimes", nargs="*", default=["ai", "critical"])
    p.add_argument("--only", nargs="*", choices=ORDER, help="subset of simulators")
    p.add_argument("--n-steps", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--repeats-large", type=int, default=1, help="repeats at N >= 10^5")
    p.add_argument("--jax-case", default="10000:100", help="N:K of the 10 %% activity case")
    p.add_argument("--jax-steps", type=int, default=2000)
    p.add_argument("--no-jax-case", action="store_true")
    p.add_argument("--force-jax", action="store_true", help="run JAX at every size")
    p.add_argument("--memory-limit-gb", type=float, default=8.0)
    p.add_argument("--timeout", type=float, default=3600.0, help="per simulator run (s)")
    p.add_argument("--brian2-venv", default=os.environ.get("INFODYN_BRIAN2_VENV", ".venv-brian2"))
    p.add_argument("--nest-venv", default=os.environ.get("INFODYN_NEST_VENV", ".venv-nest"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-run", action="store_true", help="only make the tables of --merge files")
    p.add_argument("--keep-spikes", type=Path, help="keep every raster here (for --merge)")
    p.add_argument("--nest-max-steps", type=int, help="NEST simulates only this many steps ...")
    p.add_argument("--brian2-max-steps", type=int, help="the same for Brian2 (its memory)")
    p.add_argument("--nest-max-steps-from", type=int, default=100_000, help="... from this N on")
    p.add_argument(
        "--nest-input-chunk-steps", type=int, help="NEST gets its input this many steps at a time"
    )
    p.add_argument("--json", type=Path, help="save all numbers here (after every case)")
    p.add_argument(
        "--merge",
        nargs="*",
        type=Path,
        default=(),
        help="earlier --json files: their cases (and simulators) not rerun here join the tables",
    )
    p.add_argument(
        "--nest-repeats", type=int, default=None, help="repeats of NEST (default: --repeats)"
    )
    p.add_argument("--write", action="store_true", help="write the tables to RESULTS.md")
    args = p.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    sims = [s for s in ORDER if not args.only or s in args.only]
    loads = [load_average()]
    records, jax_rec = [], None

    def save() -> None:
        if args.json:
            args.json.write_text(json.dumps({"records": records, "jax": jax_rec}, indent=1))

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        for regime in [] if args.no_run else args.regimes:
            for n, k in map(parse_size, sizes):
                case = regime_case(regime, n, k, n_steps=args.n_steps, seed=args.seed)
                print(f"{regime} N={n} K={k}", file=sys.stderr, flush=True)
                if case.check():
                    print(f"  skipped: {case.check()}", file=sys.stderr)
                    continue
                records.append(run_case(case, sims, args, Path(tmp)))
                save()
        if not (args.no_jax_case or args.no_run) and "jax" in sims and "event" in sims:
            n, k = parse_size(args.jax_case)
            case = regime_case("active", n, k, n_steps=args.jax_steps, seed=args.seed)
            print(f"JAX case: {case.regime} N={n} K={k}", file=sys.stderr, flush=True)
            jax_args = argparse.Namespace(**{**vars(args), "force_jax": True})
            jax_rec = run_case(case, ["event", "jax"], jax_args, Path(tmp))
            save()
    loads.append(load_average())
    records, jax_rec = merge(args.merge, records, jax_rec)
    if args.keep_spikes:
        compare_kept(records, args.keep_spikes)
    save()  # the merged records
    text = "\n\n".join(
        [header(args, (loads[0], loads[1])), table(records), targets(records, jax_rec)]
    )
    print(text)
    if args.write:
        cmd = COMMAND + " " + " ".join(argv if argv is not None else sys.argv[1:])
        write_block(RESULTS, SECTION, f"Command: `{cmd.strip()}`\n\n{text}", BEGIN, END)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of issue 2: infodyn's network engines against NumPy, Brian2 and snnTorch.

One network, one input, every simulator: N = 1000 LIF units with dense W_rec (no autapses),
100 Poisson inputs, T = 10,000 steps of 1 ms, batch 1, about 2-3 % of units active per step.
The orchestrator draws the weights with ``infodyn.network.LIF.init`` and the input with
``poisson_spikes``, writes them to one case file, and starts each simulator as its own process
in its own venv, one thread each (``OMP_NUM_THREADS=1``, XLA intra-op 1,
``torch.set_num_threads(1)``), one after the other, so all run on the same machine in one run:

- infodyn event engine (Numba, float64) and JAX engine (float32): ``.venv``
- plain NumPy dense loop (float64): ``.venv``
- snnTorch ``RLeaky`` (PyTorch CPU, float32): ``.venv-bench``
- Norse ``LIFRecurrentCell`` (PyTorch CPU, float32): ``.venv-bench``; Norse resets to a value
  in the step of the spike where the benchmark subtracts the threshold in the next, so its raster
  is not the others' (``peers/run_norse.py`` gives the mapping)
- Brian2 runtime (Cython) and C++ standalone (float64): ``.venv-brian2`` (Brian2 needs
  numpy < 2.4)

Every runner writes the spikes it produced; the table reports each one's activity and whether its
raster equals the event engine's (and if not, the first step where they part: float32 and a
different summation order make chaotic rasters diverge after a while, the activity must not).
Speed is steps per second from the median of ``--repeats`` runs, measured on process CPU time
(the fair measure of single-threaded work on a shared machine) and on the wall clock.

Targets (issue 2): event engine >= 10x Brian2's best CPU target, >= 50x snnTorch and
>= 250,000 steps/s; JAX engine within 1.5x of one float32 sgemv per step; JAX first call
(compilation included) under 2 s.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_network.py --write

Set-up of the peer venvs (once)::

    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch==2.13.0 snntorch norse
    .venv-bench/bin/pip install -e .
    python3 -m venv .venv-brian2 && .venv-brian2/bin/pip install brian2 'numpy<2.4' cython
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Runner, load_average, run_worker, write_block  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parent / "peers"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Network engines (issue 2)"
COMMAND = ".venv/bin/python benchmarks/bench_network.py --write"

RUNNERS = (
    Runner("event", ".venv", "run_infodyn_event.py"),
    Runner("jax", ".venv", "run_infodyn_jax.py"),
    Runner("numpy", ".venv", "run_numpy.py"),
    Runner("brian2_cython", ".venv-brian2", "run_brian2.py", ("--target", "cython")),
    Runner("brian2_cpp", ".venv-brian2", "run_brian2.py", ("--target", "cpp_standalone")),
    Runner("snntorch", ".venv-bench", "run_snntorch.py"),
    Runner("norse", ".venv-bench", "run_norse.py"),
)


def make_case(args: argparse.Namespace, path: Path) -> dict:
    """Draw the network and input with infodyn and write the case file; returns its summary."""
    from infodyn.network import LIF, poisson_spikes

    net = LIF(
        n_in=args.n_in,
        n_rec=args.n_rec,
        n_out=0,
        tau_m=args.tau_m,
        v_th=1.0,
        connectivity="dense",
        in_scale=args.in_scale,
        rec_scale=args.rec_scale,
    )
    params = net.init(seed=args.seed)
    if args.float32_weights:  # weights as a float32-trained network has them (exact float32)
        params = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    x = poisson_spikes(args.rate, args.n_steps, n_in=args.n_in, dt=net.dt, seed=args.seed + 1)
    x[0] = 0.0  # lets Brian2 deliver x[t] at step t (see peers/run_brian2.py)
    np.savez(
        path,
        w_in=params["w_in"],
        w_rec=params["w_rec"],
        x=x,
        alpha=net.alpha,
        v_th=net.v_th,
        dt=net.dt,
        tau_m=net.tau_m,
        net_json=net.model_dump_json(),
    )
    return {
        "n_rec": net.n_rec,
        "n_in": net.n_in,
        "n_steps": args.n_steps,
        "tau_m": net.tau_m,
        "input_rate_hz": args.rate,
        "in_scale": args.in_scale,
        "rec_scale": args.rec_scale,
        "seed": args.seed,
        "float32_weights": bool(args.float32_weights),
    }


def run_one(runner: Runner, case: Path, out_dir: Path, repeats: int, timeout: float) -> dict:
    """Start one runner; return its parsed result or {"error": ...}."""
    spikes = out_dir / f"{runner.key}.npz"
    args = [str(case), "--spikes-out", str(spikes), "--repeats", str(repeats), *runner.args]
    result = run_worker(runner.python_in(ROOT), PEERS / runner.script, args, timeout)
    if "error" not in result:
        with np.load(spikes) as f:
            result["times"], result["units"] = f["times"], f["units"]
    return result


def first_divergence(a: dict, b: dict, n_steps: int, n_units: int) -> int | None:
    """First step where the rasters of ``a`` and ``b`` differ, or None if identical."""
    ra = np.zeros((n_steps, n_units), dtype=bool)
    rb = np.zeros((n_steps, n_units), dtype=bool)
    ra[a["times"], a["units"]] = True
    rb[b["times"], b["units"]] = True
    diff = np.nonzero((ra != rb).any(axis=1))[0]
    return int(diff[0]) if diff.size else None


def fmt_rate(steps_per_s: float | None) -> str:
    if steps_per_s is None:
        return "—"
    return f"{steps_per_s:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:,.1f}x"


def report(case_info: dict, results: dict[str, dict], loads: tuple[str, str]) -> str:
    """The markdown table, the JAX lines and the targets."""
    n_steps, n_units = case_info["n_steps"], case_info["n_rec"]
    cpu_rate = {
        k: (n_steps / r["cpu_median_s"]) if "error" not in r else None for k, r in results.items()
    }
    wall_rate = {
        k: (n_steps / r["wall_median_s"]) if "error" not in r else None for k, r in results.items()
    }
    ref = results.get("event")
    lines = [
        "| simulator | steps/s (CPU time) | steps/s (wall) | activity | raster vs event engine "
        "| event engine speed-up | JAX engine speed-up |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for key, r in results.items():
        if "error" in r:
            lines.append(f"| {key} | failed: {r['error']} | | | | | |")
            continue
        activity = r["n_spikes"] / (n_steps * n_units)
        if ref is None or "error" in ref or key == "event":
            same = "reference" if key == "event" else "—"
        else:
            d = first_divergence(ref, r, n_steps, n_units)
            same = "identical" if d is None else f"same until step {d}"
        lines.append(
            f"| {r['name']} | {fmt_rate(cpu_rate[key])} | {fmt_rate(wall_rate[key])} "
            f"| {100 * activity:.2f} % | {same} "
            f"| {ratio(cpu_rate.get('event'), cpu_rate[key]) if key != 'event' else '1x'} "
            f"| {ratio(cpu_rate.get('jax'), cpu_rate[key]) if key != 'jax' else '1x'} |"
        )
    lines.append("")
    lines.append(
        f"Medians of the repeats; speed-ups are ratios of CPU-time steps/s. Load average "
        f"(1/5/15 min) before: {loads[0]}, after: {loads[1]}."
    )
    jax_r = results.get("jax")
    checks = []
    if jax_r and "error" not in jax_r:
        sgemv = float(np.median(jax_r["sgemv_cpu_s"]))
        sgemv_wall = float(np.median(jax_r["sgemv_wall_s"]))
        over = jax_r["cpu_median_s"] / sgemv
        lines.append("")
        lines.append(
            f'JAX engine: first call of `net.simulate(..., engine="jax")` in a fresh process, '
            f"compilation included: {jax_r['first_call_s']:.2f} s wall "
            f"({jax_r['first_call_cpu_s']:.2f} s CPU), of which compiling the engine "
            f"(`lower().compile()`) takes {jax_r['compile_s']:.2f} s wall "
            f"({jax_r['compile_cpu_s']:.2f} s CPU) and the {n_steps:,} steps themselves "
            f"{jax_r['wall_median_s']:.2f} s wall ({jax_r['cpu_median_s']:.2f} s CPU); "
            f"`import jax` and infodyn before it: {jax_r['import_s']:.2f} s. One float32 sgemv "
            f"({n_units} x {n_units}) per step in a jitted `lax.scan`: "
            f"{fmt_rate(n_steps / sgemv)} steps/s CPU "
            f"({fmt_rate(n_steps / sgemv_wall)} wall); the engine takes {over:.2f}x its time "
            f"(JAX {jax_r.get('jax_version', '?')})."
        )
        checks.append(("JAX engine within 1.5x of one sgemv per step", over <= 1.5, f"{over:.2f}x"))
        first, first_cpu = jax_r["first_call_s"], jax_r["first_call_cpu_s"]
        checks.append(
            ("JAX first call < 2 s", first < 2.0, f"{first:.2f} s wall ({first_cpu:.2f} s CPU)")
        )
    ev = cpu_rate.get("event")
    if ev:
        brian = [cpu_rate.get(k) for k in ("brian2_cython", "brian2_cpp") if cpu_rate.get(k)]
        if brian:
            best = max(brian)
            checks.append(("event >= 10x Brian2's best", ev >= 10 * best, ratio(ev, best)))
        if cpu_rate.get("snntorch"):
            snn = cpu_rate["snntorch"]
            checks.append(("event >= 50x snnTorch", ev >= 50 * snn, ratio(ev, snn)))
        checks.append(("event >= 250,000 steps/s", ev >= 250_000, f"{fmt_rate(ev)} steps/s"))
    if checks:
        lines.append("")
        lines.append("| target | met | measured |")
        lines.append("|---|---|---|")
        for name, ok, got in checks:
            lines.append(f"| {name} | {'yes' if ok else '**no**'} | {got} |")
    return "\n".join(lines)


def header(case_info: dict, repeats: int) -> str:
    c = case_info
    return (
        f"N = {c['n_rec']} LIF units, dense W_rec (no autapses), {c['n_in']} Poisson inputs at "
        f"{c['input_rate_hz']:g} Hz, tau_m = {c['tau_m']:g} ms, dt = 1 ms, v_th = 1, subtractive "
        f"reset, in_scale = {c['in_scale']:g}, rec_scale = {c['rec_scale']:g}, seed {c['seed']}"
        f"{'; weights rounded to float32 values' if c.get('float32_weights') else ''}; "
        f"T = {c['n_steps']:,} steps, batch 1, one thread per simulator, {repeats} repeats. "
        f"Machine: {platform.machine()} {os.cpu_count()} cores, shared with other engineers "
        f"while this ran (see the load), {time.strftime('%Y-%m-%d %H:%M %Z')}."
    )


BEGIN, END = "<!-- bench_network: begin -->", "<!-- bench_network: end -->"
BEGIN32, END32 = "<!-- bench_network_f32: begin -->", "<!-- bench_network_f32: end -->"


def write_section(text: str, begin: str = BEGIN, end: str = END) -> None:
    """Write the table into this benchmark's block of RESULTS.md (:func:`harness.write_block`;
    the float32-weights block goes right after the main one)."""
    write_block(RESULTS, SECTION, text, begin, end, after=None if begin == BEGIN else END)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-steps", type=int, default=10_000)
    p.add_argument("--n-rec", type=int, default=1000)
    p.add_argument("--n-in", type=int, default=100)
    p.add_argument("--rate", type=float, default=20.0, help="input Poisson rate (Hz)")
    p.add_argument("--tau-m", type=float, default=20.0)
    p.add_argument("--in-scale", type=float, default=2.0)
    p.add_argument("--rec-scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="runs per simulator (>= 3: medians)")
    p.add_argument("--timeout", type=float, default=1800.0, help="per simulator (s)")
    p.add_argument("--only", nargs="*", choices=[r.key for r in RUNNERS], help="subset to run")
    p.add_argument("--write", action="store_true", help="write the table to RESULTS.md")
    p.add_argument(
        "--float32-weights",
        action="store_true",
        help="round the weights to float32 values (a float32-trained network); "
        "the event engine then reads float32 rows; written to its own block",
    )
    p.add_argument("--json", type=Path, help="also save all numbers here")
    args = p.parse_args(argv)
    if args.repeats < 3:
        p.error("--repeats must be >= 3 (medians of at least three runs)")

    runners = [r for r in RUNNERS if not args.only or r.key in args.only]
    load_before = load_average()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_network_") as tmp:
        case = Path(tmp) / "case.npz"
        case_info = make_case(args, case)
        for runner in runners:
            print(f"running {runner.key} ...", file=sys.stderr, flush=True)
            results[runner.key] = run_one(runner, case, Path(tmp), args.repeats, args.timeout)
            r = results[runner.key]
            msg = r.get("error") or f"{args.n_steps / r['cpu_median_s']:,.0f} steps/s (CPU)"
            print(f"  {runner.key}: {msg}", file=sys.stderr, flush=True)
        loads = (load_before, load_average())
        table = report(case_info, results, loads)
    text = f"{header(case_info, args.repeats)}\n\n{table}"
    print(text)
    if args.json:
        slim = {
            k: {kk: vv for kk, vv in r.items() if kk not in ("times", "units")}
            for k, r in results.items()
        }
        args.json.write_text(json.dumps({"case": case_info, "results": slim}, indent=1))
    if args.write:
        cmd = COMMAND if not args.only else f"{COMMAND} --only {' '.join(args.only)}"
        if args.float32_weights:
            write_section(f"Command: `{cmd} --float32-weights`\n\n{text}", BEGIN32, END32)
        else:
            write_section(f"Command: `{cmd}`\n\n{text}")
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

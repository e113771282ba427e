"""The JAX engine on a GPU on the scale benchmark's networks (issue 13), against the event engine.

For each case ``regime:N:K:steps`` (the networks and input of ``peers/scale_case.py``: fixed
in-degree E/I LIF, one private Poisson input a unit) it runs

- infodyn's event engine (Numba, on this machine's CPU, one thread: the reference raster), and
- infodyn's JAX engine (``engine_jax.run``: the fixed in-degree ``SparseWeights`` run by target,
  K gathers and multiply-adds a step, no N x N array) on the chosen JAX device, in float64 and
  float32, for each ``--gpu-unroll`` (``infodyn.network.sparse_current.GPU_UNROLL``: how many
  of the K multiply-adds one iteration of the by-target loop does on a GPU),

and prints, per case and precision: the first call's wall time (compilation included), the
median wall time of the repeats that follow, recurrent synaptic events per second of wall time,
and how the raster compares with the event engine's ("identical" or "same until step s").
In float64 the two engines do the same operations in the same order, so their rasters must be
identical; in float32 the JAX engine sums in float32, so rasters part after a while.

Run (from the repository root; ``--device cpu`` and small cases check the script itself)::

    PYTHONPATH=src python3 benchmarks/gpu_scale.py ai:10000:100:10000 ai:100000:100:2000 \\
        critical:100000:100:2000 --json gpu.json
    PYTHONPATH=src python3 benchmarks/gpu_scale.py ai:100000:100:2000 --stream 500  # + streamed
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from bench_scale import compare  # noqa: E402
from run_scale_infodyn import build_params, jax_main, network, run_event  # noqa: E402
from scale_case import (  # noqa: E402
    build_synapses,
    draw_input,
    regime_case,
    synaptic_events,
)


def run_streamed(net, case, arrays, params, precision: str, device, chunk: int) -> tuple:
    """The event engine's run (:func:`run_event`: ``simulate_spikes``, CSR input made chunk by
    chunk) on the JAX engine on ``device``, in chunks of ``chunk`` steps, the state carried and
    the spikes collected on the host; (times, units, first call's wall seconds, second call's
    wall seconds)."""
    import jax

    walls = []
    with jax.default_device(device):
        for _ in range(2):  # the first compiles
            t0 = time.perf_counter()
            times, units, _ = run_event(
                net, case, arrays, params, chunk=chunk, engine="jax", precision=precision
            )
            walls.append(time.perf_counter() - t0)
    return times, units, walls[0], walls[1]


def run_case(
    spec: str, devices: dict, repeats: int, unrolls: list[int], stream: int | None = None
) -> list[dict]:
    regime, n, k, steps = spec.split(":")
    case = regime_case(regime, int(n), int(k), n_steps=int(steps))
    t0 = time.perf_counter()
    values, indices, indptr = build_synapses(case)
    in_t, in_u = draw_input(case)
    arrays = {"values": values, "indices": indices, "indptr": indptr, "in_t": in_t, "in_u": in_u}
    arrays["j_ext"] = np.float32(case.j_ext)
    build = time.perf_counter() - t0
    net, params = network(case), build_params(case, arrays)
    run_event(net, case, arrays, params)  # compile
    t0 = time.perf_counter()
    ref_t, ref_u, _ = run_event(net, case, arrays, params)
    event_wall = time.perf_counter() - t0
    order = np.lexsort((ref_u, ref_t))
    ref = (np.asarray(ref_t)[order], np.asarray(ref_u)[order])
    events = synaptic_events(ref[0], ref[1], indptr, case.n_steps)
    rate = ref[0].size / (case.n * case.n_steps * case.dt * 1e-3)
    rows = [
        {
            "case": spec,
            "engine": "event (Numba, CPU, 1 thread)",
            "first_call_s": None,
            "wall_s": [event_wall],
            "events": events,
            "rate_hz": rate,
            "vs_event": "reference",
            "build_s": build,
        }
    ]
    print(f"{spec}: built in {build:.1f} s, {rate:.2f} Hz, event engine {event_wall:.3f} s")
    import jax

    from infodyn.network import sparse_current

    for name, device in devices.items():
        for unroll, precision in ((u, p) for u in unrolls for p in ("float64", "float32")):
            sparse_current.GPU_UNROLL = unroll  # read when traced: clear the compiled runs
            jax.clear_caches()
            times, units, walls, _, extra = jax_main(
                net, case, arrays, params, repeats, precision, device
            )
            got = (times, units)
            engine = f"JAX {precision} on {name}, unroll {min(unroll, case.k)}"
            row = {"case": spec, "engine": engine, "first_call_s": extra["first_call_s"]}
            row |= {"wall_s": walls, "events": events}
            row["vs_event"] = compare(ref, got)
            row["rate_hz"] = got[0].size / (case.n * case.n_steps * case.dt * 1e-3)
            rows.append(row)
            print(
                f"  {row['engine']}: first call {row['first_call_s']:.2f} s, median "
                f"{statistics.median(row['wall_s']):.3f} s, {row['vs_event']}"
            )
            if stream is not None and unroll == unrolls[-1]:
                times, units, first, wall = run_streamed(
                    net, case, arrays, params, precision, device, stream
                )
                row = {"case": spec, "engine": f"{engine}, streamed in chunks of {stream}"}
                row |= {"first_call_s": first, "wall_s": [wall], "events": events}
                row["vs_event"] = compare(ref, (times, units))
                row["rate_hz"] = times.size / (case.n * case.n_steps * case.dt * 1e-3)
                rows.append(row)
                print(f"  {row['engine']}: {wall:.3f} s (first {first:.2f} s), {row['vs_event']}")
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| case (regime:N:K:steps) | engine | first call s | wall s (median) "
        "| M syn. events/s (wall) | rate Hz | raster vs event engine |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        wall = statistics.median(r["wall_s"])
        first = "—" if r["first_call_s"] is None else f"{r['first_call_s']:.2f}"
        lines.append(
            f"| {r['case']} | {r['engine']} | {first} | {wall:.3f} "
            f"| {r['events'] / wall / 1e6:,.1f} | {r['rate_hz']:.2f} | {r['vs_event']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("cases", nargs="+", help="regime:N:K:steps, e.g. ai:10000:100:10000")
    p.add_argument("--device", choices=["gpu", "cpu"], default="gpu")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--gpu-unroll",
        type=int,
        nargs="+",
        help="values of infodyn.network.sparse_current.GPU_UNROLL to run (each in both precisions; "
        "default: the library's)",
    )
    p.add_argument(
        "--stream",
        type=int,
        metavar="CHUNK",
        help="also time the run streamed in chunks of CHUNK steps (simulate_spikes with "
        "engine='jax': input made and spikes collected chunk by chunk; with the last unroll)",
    )
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    import jax

    from infodyn.network.sparse_current import GPU_UNROLL

    args.gpu_unroll = args.gpu_unroll or [GPU_UNROLL]
    jax.config.update("jax_enable_x64", True)
    devices = {f"{d.device_kind} ({d.platform})": d for d in jax.devices(args.device)[:1]}
    rows = [
        row
        for spec in args.cases
        for row in run_case(spec, devices, args.repeats, args.gpu_unroll, args.stream)
    ]
    text = table(rows)
    print(f"\njax {jax.__version__}, devices: {', '.join(devices)}\n\n{text}")
    if args.json:
        Path(args.json).write_text(json.dumps({"jax": jax.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

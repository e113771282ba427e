"""Peer: Brian2, runtime target (Cython) or C++ standalone, one thread, float64.

The discrete-time network of ``common.py`` is written the Brian2 way: ``dv/dt = -v/tau_m``
integrated exactly (``v *= exp(-dt/tau_m) = alpha`` each step), threshold ``v > v_th``, and
synapses ``on_pre: v += w`` for the 999,000 recurrent and 100,000 input synapses. To reproduce the
order of the infodyn step exactly, both synaptic pathways run in the ``before_thresholds`` slot,
so at step t they deliver the spikes of step t-1 after the leak and before the threshold test;
the input generator therefore emits the spikes of ``x[t]`` at step t-1 (``x[0]`` is 0). The reset
``v -= v_th / alpha`` happens at the end of step t-1 and is scaled by the leak of step t into the
``- v_th z[t-1]`` term.

Timing: the runtime target is timed around ``net.run`` after a warm-up run that compiles
everything (state restored before each repeat); the standalone binary's own run timer
(``std::clock``, process CPU time of the simulation loop) is read after each execution, and the
wall time of the whole binary (loading the synapses included) is reported beside it.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time

import numpy as np
from common import emit, load_case, parser, save_spikes, timed


def build(case: dict, b2):
    """The Brian2 network objects for ``case``; returns (Network, SpikeMonitor)."""
    n_in, n = case["w_in"].shape
    dt = case["dt"] * b2.ms
    tau = case["tau_m"] * b2.ms
    v_th = case["v_th"]
    alpha = case["alpha"]
    x = case["x"]
    step_idx, in_idx = np.nonzero(x)
    keep = step_idx >= 1
    gen = b2.SpikeGeneratorGroup(
        n_in, in_idx[keep], (step_idx[keep] - 1) * dt, dt=dt, name="inputs"
    )
    group = b2.NeuronGroup(
        n,
        "dv/dt = -v / tau : 1",
        threshold="v > v_th",
        reset="v -= v_th / alpha",
        method="exact",
        dt=dt,
        namespace={"tau": tau, "v_th": v_th, "alpha": alpha},
        name="lif",
    )
    s_in = b2.Synapses(gen, group, "w : 1", on_pre="v += w", dt=dt, name="s_in")
    src, tgt = np.nonzero(np.ones((n_in, n), dtype=bool))
    s_in.connect(i=src, j=tgt)
    s_in.w = case["w_in"][src, tgt]
    s_rec = b2.Synapses(group, group, "w : 1", on_pre="v += w", dt=dt, name="s_rec")
    src, tgt = np.nonzero(~np.eye(n, dtype=bool))
    s_rec.connect(i=src, j=tgt)
    s_rec.w = case["w_rec"][src, tgt]
    for syn in (s_in, s_rec):
        syn.pre.when = "before_thresholds"
    mon = b2.SpikeMonitor(group, name="spikes")
    return b2.Network(gen, group, s_in, s_rec, mon), mon


def run_runtime(case: dict, repeats: int) -> dict:
    import brian2 as b2

    b2.prefs.codegen.target = "cython"
    net, mon = build(case, b2)
    n_steps = case["x"].shape[0]
    duration = n_steps * case["dt"] * b2.ms
    net.store("initial")
    _, compile_wall, _ = timed(lambda: net.run(100 * case["dt"] * b2.ms))
    wall, cpu = [], []
    for _ in range(repeats):
        net.restore("initial")
        _, w, c = timed(lambda: net.run(duration))
        wall.append(w)
        cpu.append(c)
    steps = np.rint(np.asarray(mon.t / b2.ms) / case["dt"]).astype(np.int64)
    return dict(
        name="Brian2 runtime (Cython)",
        wall=wall,
        cpu=cpu,
        times=steps,
        units=np.asarray(mon.i),
        first_call_s=compile_wall,
        version=b2.__version__,
    )


def release_arrays(device, net) -> None:
    """Drop the Python-side copies of the arrays a standalone build has written to its project
    (``static_arrays/``, which the binary reads) and the cached values of variables set from
    arrays, so that they are not held in memory next to the binary's own (at 10^8 synapses and
    1.5 x 10^8 input spikes: about 10 GB). Values read after the run come from its results."""
    for name in device.static_arrays:
        device.static_arrays[name] = None
    for var in device.array_cache:
        device.array_cache[var] = None
    for obj in net.objects:  # a SpikeGeneratorGroup keeps its sorted spikes
        if hasattr(obj, "_spike_time"):
            obj._neuron_index = obj._spike_time = None
    gc.collect()


def standalone(
    make,
    duration_ms: float,
    dt_ms: float,
    repeats: int,
    workdir: str | None = None,
    release: bool = False,
) -> dict:
    """Build ``make(b2)`` (-> (Network, SpikeMonitor)) as a C++ standalone project, compile it
    once and run the binary ``repeats`` times, one thread; returns the timings and the raster
    (times as step indices) of the last run. ``workdir``: a project directory kept between
    calls, so that ``make`` recompiles only the files that changed (default: a fresh temporary
    directory, removed afterwards). ``release``: free the arrays written to the project before
    the binary runs (:func:`release_arrays`)."""
    import brian2 as b2

    keep = workdir is not None
    workdir = workdir or tempfile.mkdtemp(prefix="bench_brian2_")
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    (net, mon), objects_s, _ = timed(lambda: make(b2))
    net.run(duration_ms * b2.ms)
    t0 = time.perf_counter()
    b2.device.build(directory=workdir, compile=True, run=False, with_output=False)
    build_s = time.perf_counter() - t0
    if release:
        release_arrays(b2.device, net)
    wall, cpu = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        b2.device.run(directory=workdir, with_output=False)
        wall.append(time.perf_counter() - t0)
        cpu.append(float(b2.device._last_run_time))
    steps = np.rint(np.asarray(mon.t / b2.ms) / dt_ms).astype(np.int64)
    units = np.asarray(mon.i)
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return dict(
        name="Brian2 C++ standalone",
        wall=wall,
        cpu=cpu,
        times=steps,
        units=units,
        first_call_s=build_s,
        objects_s=objects_s,
        wall_includes="whole binary (synapse loading + run)",
        version=b2.__version__,
    )


def run_standalone(case: dict, repeats: int) -> dict:
    n_steps = case["x"].shape[0]
    return standalone(lambda b2: build(case, b2), n_steps * case["dt"], case["dt"], repeats)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--target", choices=["cython", "cpp_standalone"], default="cython")
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    case = load_case(args.case)
    runner = run_runtime if args.target == "cython" else run_standalone
    res = runner(case, args.repeats)
    times, units = res.pop("times"), res.pop("units")
    save_spikes(args.spikes_out, times, units)
    name, wall, cpu = res.pop("name"), res.pop("wall"), res.pop("cpu")
    emit(name, case["x"].shape[0], wall, cpu, n_spikes=int(times.size), **res)


if __name__ == "__main__":
    main()

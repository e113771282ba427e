"""Peer: NEST (``iaf_psc_delta``, one thread, resolution 1 ms) on the scale benchmark's network.

Conversion (voltages in units of the threshold, so mV = v_th = 1):

================  ===================================  =====================================
infodyn           NEST ``iaf_psc_delta``               note
================  ===================================  =====================================
tau_m, dt         ``tau_m``, ``resolution = dt``       exact propagator: alpha = exp(-dt/tau)
v_th = 1          ``E_L = 0``, ``V_th = 1``            NEST fires on V >= V_th, infodyn on >
reset v -= v_th   ``V_reset = 0``, ``t_ref = 0``       **differs**: NEST resets to a value
W_rec[i, j] = w   ``Connect(i, j, weight=w, delay=dt)``  delta synapse, one-step delay
W_in = J_ext I    ``spike_generator`` per unit,        the case's input spikes of step t,
                  weight J_ext, delay dt               emitted at time t (arrives t + dt)
step t            NEST time (t + 1) dt                 a spike at NEST time s is step s - 1
================  ===================================  =====================================

NEST has no subtractive reset for ``iaf_psc_delta`` (``V_m = V_reset`` after a spike). Its
e-prop model ``eprop_iaf`` does subtract ``V_th``, but immediately after the spike, before the
next leak (``v <- alpha (v - v_th) + input``), where infodyn subtracts after the leak
(``v <- alpha v + input - v_th``), so neither NEST model is infodyn's map and NEST's raster is
compared to infodyn's by statistics (rate, CV of ISIs, Fano factor), not spike for spike. The
reset to 0 loses the overshoot ``v - v_th`` that infodyn keeps, so NEST's rates come out a little
lower at the same input. ``iaf_psc_delta`` is the model NEST users run for this network (Brunel
2000), so it is the one timed.

Timing: ``nest.Simulate`` of the whole run, once per repeat after ``ResetKernel`` and a fresh
build (NEST cannot rewind a network), process CPU time and wall; build time = creating the
nodes and connecting from the arrays. With ``--input-chunk-steps C`` the input is handed to the
generators C steps at a time (``nest.Prepare``, then per chunk: set the generators' spike times
of steps (t0, t0 + C], ``nest.Run(C dt)``; then ``nest.Cleanup``), so NEST never holds more
than one chunk of input spikes (10^8 of them cost several GB as float64 times); the timed work
is Prepare, the Runs and Cleanup (the same kernel work as one Simulate), the setting of the
spike times is reported apart as ``input_s``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from common import emit, parser, save_spikes, timed
from scale_case import first_steps, pre_of, read_case, synaptic_events


def nest_input_times(case, arrays: dict, t0: int = 0, t1: int | None = None) -> list[np.ndarray]:
    """Each unit's input spike times for its ``spike_generator`` (ms), of the steps t with
    t0 < t <= t1 (default: all): the input of step t is emitted at time t dt and, through a
    synapse of delay dt, reaches the neuron in the update that ends at (t + 1) dt, NEST's time
    of step t (module docstring). A ``nest.Run`` from time t0 dt to t1 dt emits exactly these."""
    in_t, in_u = arrays["in_t"], arrays["in_u"]
    a, b = np.searchsorted(in_t, [t0 + 1, case.n_steps if t1 is None else t1 + 1])
    in_t, in_u = in_t[a:b], in_u[a:b]
    order = np.argsort(in_u, kind="stable")
    bounds = np.searchsorted(in_u[order], np.arange(case.n + 1))
    times = in_t[order].astype(np.float64) * case.dt
    return [times[bounds[j] : bounds[j + 1]] for j in range(case.n)]


def build(nest, case, arrays: dict, chunked: bool = False):
    """Create and connect the network (the generators empty if ``chunked``: their input is set
    chunk by chunk); returns (spike recorder, first neuron id, generators)."""
    n = case.n
    neurons = nest.Create(
        "iaf_psc_delta",
        n,
        params={
            "tau_m": case.tau_m,
            "C_m": 1.0,
            "E_L": 0.0,
            "V_m": 0.0,
            "V_th": case.v_th,
            "V_reset": 0.0,
            "t_ref": 0.0,
            "I_e": 0.0,
        },
    )
    first = neurons[0].global_id
    gens = nest.Create("spike_generator", n)
    if not chunked:
        set_input(gens, case, arrays)
    nest.Connect(gens, neurons, "one_to_one", {"weight": float(arrays["j_ext"]), "delay": case.dt})
    pre = pre_of(arrays["indptr"])
    chunk = 10_000_000
    for a in range(0, pre.size, chunk):
        b = min(pre.size, a + chunk)
        nest.Connect(
            pre[a:b].astype(np.int64) + first,
            arrays["indices"][a:b].astype(np.int64) + first,
            conn_spec="one_to_one",
            syn_spec={
                "weight": arrays["values"][a:b].astype(np.float64),
                "delay": np.full(b - a, case.dt),
            },
        )
    del pre
    rec = nest.Create("spike_recorder")
    nest.Connect(neurons, rec)
    return rec, first, gens


def set_input(gens, case, arrays: dict, t0: int = 0, t1: int | None = None) -> None:
    """Give the generators the input spikes of steps t0 < t <= t1 (default: all)."""
    gens.set([{"spike_times": ts} for ts in nest_input_times(case, arrays, t0, t1)])


def simulate(nest, gens, case, arrays: dict, chunk: int) -> tuple[float, float, float]:
    """Run all steps, the input ``chunk`` steps at a time (0: all at once, one Simulate);
    returns (wall s, CPU s, wall s spent setting the input)."""
    if not chunk:
        _, w, c = timed(lambda: nest.Simulate(case.n_steps * case.dt))
        return w, c, 0.0
    _, wall, cpu = timed(nest.Prepare)
    inp = 0.0
    for t0 in range(0, case.n_steps, chunk):
        t1 = min(case.n_steps, t0 + chunk)
        inp += timed(partial(set_input, gens, case, arrays, t0, t1))[1]
        _, w, c = timed(partial(nest.Run, (t1 - t0) * case.dt))
        wall, cpu = wall + w, cpu + c
    _, w, c = timed(nest.Cleanup)
    return wall + w, cpu + c, inp


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--max-steps", type=int, help="simulate only the first steps of the case")
    p.add_argument(
        "--input-chunk-steps", type=int, default=0, help="input this many steps at a time"
    )
    args = p.parse_args()
    import nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    case, arrays = read_case(args.case)
    case, arrays = first_steps(case, arrays, args.max_steps)  # same network, the first steps
    wall, cpu, builds, inputs = [], [], [], []
    chunk = args.input_chunk_steps
    for _ in range(args.repeats):
        nest.ResetKernel()
        nest.SetKernelStatus(
            {"resolution": case.dt, "local_num_threads": 1, "print_time": False, "rng_seed": 1}
        )
        (rec, first, gens), b_wall, _ = timed(partial(build, nest, case, arrays, bool(chunk)))
        builds.append(b_wall)
        w, c, inp = simulate(nest, gens, case, arrays, chunk)
        wall.append(w)
        cpu.append(c)
        inputs.append(inp)
        ev = rec.get("events")
        times = np.rint(np.asarray(ev["times"]) / case.dt).astype(np.int64) - 1
        units = np.asarray(ev["senders"], np.int64) - first
    save_spikes(args.spikes_out, times, units)
    emit(
        f"NEST {nest.__version__} iaf_psc_delta",
        case.n_steps,
        wall,
        cpu,
        n_spikes=int(times.size),
        syn_events=synaptic_events(times, units, arrays["indptr"], case.n_steps),
        build_s=float(np.median(builds)),
        input_s=float(np.median(inputs)),
        input_chunk_steps=args.input_chunk_steps,
        steps_run=case.n_steps,
        version=nest.__version__,
    )


if __name__ == "__main__":
    main()

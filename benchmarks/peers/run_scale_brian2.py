"""Peer: Brian2 C++ standalone on the scale benchmark's network, one thread, float64.

The same equations as infodyn, written as ``peers/run_brian2.py`` does for the dense benchmark
(its docstring gives the reasoning): ``dv/dt = -v/tau_m`` integrated exactly (``v *= alpha``),
threshold ``v > v_th``, reset ``v -= v_th / alpha`` (the next step's leak turns it into infodyn's
``- v_th z[t-1]``), recurrent synapses ``on_pre: v += w`` from the case's (pre, post, w) arrays and
one input synapse of weight ``J_ext`` per unit from a ``SpikeGeneratorGroup`` that emits the
case's input spikes of step t at step t - 1; both pathways run in the ``before_thresholds`` slot,
so a spike of step t - 1 reaches its targets at step t, after the leak and before the threshold.
The model is then infodyn's map, so the rasters can agree spike for spike (float64; Brian2's
``-ffast-math`` and summation into ``v`` one synapse at a time can flip a threshold crossing after a
while, which the benchmark reports as the first step where the rasters part).

Reported: the binary's own run time (Brian2's ``std::clock`` timer of the simulation loop: CPU
time), the wall time of the whole binary (loading the synapses included), the Python-side time
to create the objects (``objects_s``) and to generate and compile the code (``first_call_s``),
and the peak memory of the Python process and of the binary (``maxrss_children_mb``). The
Python side frees its copies of the synapses and input spikes before the binary runs
(``run_brian2.release_arrays``), so the two do not hold them at the same time.
"""

from __future__ import annotations

import os

import numpy as np
from common import emit, parser, save_spikes
from run_brian2 import standalone
from scale_case import first_steps, pre_of, read_case, synaptic_events


def build(case, arrays: dict, b2):
    """The Brian2 objects of the case; returns (Network, SpikeMonitor)."""
    n = case.n
    dt = case.dt * b2.ms
    gen = b2.SpikeGeneratorGroup(
        n, arrays["in_u"], (arrays["in_t"].astype(np.float64) - 1.0) * dt, dt=dt, name="inputs"
    )
    group = b2.NeuronGroup(
        n,
        "dv/dt = -v / tau : 1",
        threshold="v > v_th",
        reset="v -= v_th / alpha",
        method="exact",
        dt=dt,
        namespace={"tau": case.tau_m * b2.ms, "v_th": case.v_th, "alpha": case.alpha},
        name="lif",
    )
    s_in = b2.Synapses(
        gen,
        group,
        on_pre="v += j_ext",
        dt=dt,
        name="s_in",
        namespace={"j_ext": float(arrays["j_ext"])},
    )
    s_in.connect(j="i")
    s_rec = b2.Synapses(group, group, "w : 1", on_pre="v += w", dt=dt, name="s_rec")
    s_rec.connect(i=pre_of(arrays["indptr"]), j=arrays["indices"])
    s_rec.w = arrays["values"].astype(np.float64)
    for syn in (s_in, s_rec):
        syn.pre.when = "before_thresholds"
    mon = b2.SpikeMonitor(group, name="spikes")
    return b2.Network(gen, group, s_in, s_rec, mon), mon


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--workdir", help="Brian2 project directory kept between runs (recompiles less)")
    p.add_argument("--max-steps", type=int, help="simulate only the first steps of the case")
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    case, arrays = first_steps(*read_case(args.case), args.max_steps)
    indptr, held = arrays["indptr"], [arrays]
    del arrays  # only Brian2's objects hold the case's arrays once built (then released)
    res = standalone(
        lambda b2: build(case, held.pop(), b2),
        case.n_steps * case.dt,
        case.dt,
        args.repeats,
        workdir=args.workdir,
        release=True,
    )
    times, units = res.pop("times"), res.pop("units")
    save_spikes(args.spikes_out, times, units)
    name, wall, cpu = res.pop("name"), res.pop("wall"), res.pop("cpu")
    emit(
        name,
        case.n_steps,
        wall,
        cpu,
        n_spikes=int(times.size),
        syn_events=synaptic_events(times, units, indptr, case.n_steps),
        build_s=res["objects_s"] + res["first_call_s"],
        steps_run=case.n_steps,
        **res,
    )


if __name__ == "__main__":
    main()

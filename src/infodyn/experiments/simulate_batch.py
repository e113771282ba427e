"""Several ``simulate`` points as one ``jax.vmap``-ed simulation (the sweep's ``batch_size``):
points that share one compiled network (same shapes, time constants and length; they may differ
in weights, seeds and input) run together and write the same run directories as
:func:`infodyn.experiments.simulate_run.run_simulation`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from infodyn.data.spike_files import save_spikes
from infodyn.data.spikes import SpikeTrain
from infodyn.errors import InputError
from infodyn.experiments.config import make_input
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.simulate_extend import END_STATE
from infodyn.experiments.simulate_run import (
    SIMULATE_WRITES,
    initial_params,
    simulation_results,
)
from infodyn.memory import require_memory
from infodyn.network.dynamics import Constants
from infodyn.network.engine_jax import (
    check_float32_network,
    check_float32_range,
    ensure_dtype,
    run,
)
from infodyn.network.simulate import AUTO_EVENT_MIN_STEPS

_BATCHED: dict[Any, Any] = {}


def simulate_batch(cfgs: list[Any], outs: list[Path]) -> list[dict[str, Any]]:
    """Run several ``simulate`` configs that share one network shape as one ``vmap``-ed scan.

    All configs must give networks with equal :class:`~infodyn.network.dynamics.Constants`,
    shapes, adaptation vector, step count and precision (:func:`batch_signature`); they may
    differ in weights (seed, weight scales, connectivity) and input. Each point's run directory
    gets the same files as :func:`infodyn.experiments.simulate_run.run_simulation` writes for the
    JAX engine (spikes.h5, figures, config.json, results.json with ``engine = "jax-vmap"``).
    """
    signatures = {batch_signature(c) for c in cfgs}
    if None in signatures:  # sparse weights, or a run the event engine takes: not vmap-able
        raise InputError(
            "simulate_batch cannot batch configs with sparse recurrent weights, private "
            "inputs, or that run on the event engine (engine = 'event', or 'auto' with "
            "n_steps >= 2000); run them one by one with run_simulation"
        )
    if len(signatures) != 1:
        raise InputError("simulate_batch needs configs that share one network signature")
    nets = [c.build_network() for c in cfgs]
    net0, cfg0 = nets[0], cfgs[0]
    n_points, n_steps = len(cfgs), cfg0.input.n_steps
    itemsize = np.dtype(cfg0.simulation.precision).itemsize
    n_weights = net0.n_in * net0.n_rec + net0.n_rec**2 + net0.n_rec * net0.n_out
    require_memory(  # the inputs (float64, stacked, then in precision), z (device and host) and
        # the weights (each point's float64, stacked, then in precision: 6 points of 2,000
        # units took 0.46 GB beyond the 9.6 MB counted)
        n_points * n_steps * (net0.n_in * (16 + itemsize) + 2 * net0.n_rec * itemsize)
        + n_points * n_weights * (16 + itemsize),
        f"a batch of {n_points} simulate points of {n_steps:,} steps x {net0.n_rec:,} units "
        "(dense weights, inputs and spikes, all held)",
        "a smaller batch_size, or run the points one by one (they stream their spikes in chunks)",
    )
    dtype = ensure_dtype(cfg0.simulation.precision)
    params = [initial_params(c, n) for n, c in zip(nets, cfgs, strict=True)]
    xs = np.stack([make_input(c.input, n.n_in, n.dt) for n, c in zip(nets, cfgs, strict=True)])
    if dtype == jnp.float32:  # as a point run alone is checked (engine_jax.prepare): weights
        for net, p in zip(nets, params, strict=True):  # beyond float32's range became inf
            check_float32_network(net, p)
        check_float32_range("the input", xs)
    stacked = {k: jnp.asarray(np.stack([p[k] for p in params]), dtype) for k in params[0]}
    consts = Constants.of(net0)
    beta = jnp.asarray(net0.beta_vector(), dtype)
    t0 = time.perf_counter()
    fn = _BATCHED.get(consts)
    if fn is None:  # one compiled function per network constants (jit caches shapes/dtypes)

        def one(p, b, x):
            return run(consts, p, b, x[None])["z"][:, 0]

        fn = _BATCHED[consts] = jax.jit(jax.vmap(one, in_axes=(0, None, 0)))
    z = np.asarray(fn(stacked, beta, jnp.asarray(xs, dtype)))  # (P, T, n_rec)
    elapsed = (time.perf_counter() - t0) / len(cfgs)
    results = []
    for i, (net, cfg, out) in enumerate(zip(nets, cfgs, outs, strict=True)):
        run_dir = RunDir(out, "simulate", hold_figures=True, writes=SIMULATE_WRITES, mark=True)
        spikes = SpikeTrain.from_dense(
            z[i].astype(np.uint8),
            dt=net.dt,
            metadata={
                "network": net.section(),
                "engine": "jax-vmap",
                "precision": cfg.simulation.precision,
                "seed": cfg.simulation.seed,
                "input": cfg.input.model_dump(mode="json"),  # as one run's file keeps them
            },
        )
        with run_dir.locked():
            result = simulation_results(
                run_dir, spikes, net.n_rec, elapsed, "jax-vmap", cfg.simulation.precision
            )
            run_dir.retire_results()  # then the spikes, config and results, as a run
            run_dir.file(END_STATE).unlink(missing_ok=True)  # a run's end there before: not
            save_spikes(run_dir.file("spikes.h5"), spikes)  # this one's (no end state: not
            run_dir.finish(cfg, "simulate", result, prune=True)  # extendable)
        results.append(result)
    return results


def batch_signature(cfg: Any) -> tuple | None:
    """What must be equal for ``simulate`` points to share one vmapped scan (None: not batchable).

    Points whose engine resolves to the event engine, networks with sparse recurrent weights
    (each point has its own synapse pattern) or private inputs, and weights read from a file
    (``[simulation] params``, which may hold sparse weights whatever ``[network]`` says) are not
    batched.
    """
    if not hasattr(cfg, "build_network") or cfg.simulation.params is not None:
        return None
    engine = cfg.simulation.engine
    if engine == "event" or (engine == "auto" and cfg.input.n_steps >= AUTO_EVENT_MIN_STEPS):
        return None
    net = cfg.build_network()
    if net.sparse_weights or net.input_connectivity == "private":  # a SparseWeights w_in too
        return None
    return (
        Constants.of(net),
        net.n_in,
        net.n_rec,
        net.n_out,
        net.dt,
        tuple(net.beta_vector().tolist()),
        cfg.input.n_steps,
        cfg.simulation.precision,
    )

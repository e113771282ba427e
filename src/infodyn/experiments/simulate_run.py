"""The simulate run: network + input from a config, spikes to disk, figures and results."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.atomic import remove_temporaries
from infodyn.errors import InputError, as_path
from infodyn.experiments.config import SimulateConfig, make_input, validate
from infodyn.experiments.resume import config_value, stored_config
from infodyn.experiments.rundir import RunDir, png_bytes
from infodyn.experiments.simulate_extend import (
    END_STATE,
    STAGING,
    check_end_weights,
    finished_run_end,
    keep_end_state,
    reopen_as_checkpoint,
)
from infodyn.experiments.sweep_lock import folder_lock, refuse_if_held
from infodyn.memory import format_bytes, require_memory
from infodyn.network import engine_jax
from infodyn.network.chunked import check_chunked_run
from infodyn.network.simulate import AUTO_EVENT_MIN_STEPS, run_weights_bytes
from infodyn.network.weights_check import connectivity_mismatch


def run_simulation(
    cfg: SimulateConfig, out: str | os.PathLike, progress: bool = False, resume: bool = False
) -> dict[str, Any]:
    """Run the simulation described by ``cfg`` into run directory ``out``; return results.

    Nothing in ``out`` but the figures and ``out/checkpoint/`` changes until everything has been
    computed: the spikes go to the checkpoint's files
    (:mod:`~infodyn.experiments.simulate_checkpoint`), then to a staging file beside
    ``spikes.h5``, the figures and results are made from it, and only then is it renamed to
    ``spikes.h5`` and are ``config.json`` and ``results.json`` written (and the checkpoint
    removed), so a run that fails leaves the previous run's spikes, config and results together;
    its ``results.json`` goes just before the rename (:meth:`RunDir.retire_results`): a run
    killed between the two leaves the new spikes without results, and its checkpoint, from
    which ``resume`` writes them.
    A checkpoint is written every ``[simulation] checkpoint_seconds``; inside
    :func:`~infodyn.experiments.interrupt.graceful` (the CLI) SIGINT/SIGTERM stop the
    simulation (either engine) after the current chunk with a checkpoint and
    :class:`~infodyn.experiments.interrupt.Interrupted`. ``resume`` continues from it, with the
    same spikes as one uninterrupted run; without ``resume`` a checkpoint in ``out`` is refused.
    """
    from infodyn.experiments.config import resolved
    from infodyn.experiments.simulate_checkpoint import (
        FOLDER,
        SimulationCheckpoint,
        saved_step,
        weights_digest,
    )

    cfg, out = _checked_arguments(cfg, out)
    if not resume and (step := saved_step(out)) is not None:
        # a simulation running there has a checkpoint too: it is not interrupted, and deleting
        # its checkpoint as advised below made it fail and removed its folder
        refuse_if_held(out, LOCK_NAME, "simulation")
        total = _checkpoint_steps(out / FOLDER)
        done = f"{step:,} of its {f'{total:,} ' if total else ''}steps done"
        if step == total:  # killed as it finished: only its results are missing
            done = f"all its {step:,} steps done, its results not yet written"
        raise InputError(
            f"{out} holds an interrupted simulation ({done}): pass --resume (resume=True) to "
            f"continue it, or delete {out / FOLDER} to start afresh"
        )
    end = None  # the saved end of a finished run that this one extends
    if resume and not (out / FOLDER).is_dir():  # before the network is built and RunDir
        # makes the folder
        if not (out / "results.json").is_file():
            raise InputError(
                f"{out}: no interrupted simulation to resume (no checkpoint folder); run "
                "without --resume to start one"
            )
        end = finished_run_end(out, resolved(cfg), cfg.input.n_steps)
    net = cfg.build_network()
    engine = cfg.simulation.engine
    if engine == "auto":  # an extended run goes on with the engine it ran on
        auto = "event" if cfg.input.n_steps >= AUTO_EVENT_MIN_STEPS else "jax"
        engine = end["state"].engine if end is not None else auto
    private = net.input_connectivity == "private"
    # made a chunk at a time (but filtered noise): never the whole run's input at once
    x = make_input(cfg.input, net.n_in, net.dt, streamed=True, private=private)
    if cfg.simulation.params is None:  # to be drawn (a file's are checked as the engine
        # copies them: event_weights), with a chunk's input beside them
        steps = max(min(cfg.simulation.chunk_steps, cfg.input.n_steps), 1)
        check_weights_memory(net, engine, cfg.simulation.precision, _input_bytes(x, steps))
    params = initial_params(cfg, net)
    n_steps, chunk_steps, meta = check_chunked_run(
        net, params, x, cfg.input.n_steps, cfg.simulation.chunk_steps,
        # the input's settings too: a converted file could not say how it was driven
        {**weights_source(cfg), "input": cfg.input.model_dump(mode="json")},
        engine, cfg.simulation.precision,
    )  # fmt: skip
    if callable(x):  # one chunk's input
        steps = min(chunk_steps, n_steps)
        which = "private Poisson" if private else cfg.input.kind
        require_memory(
            x.chunk_bytes(steps),
            f"the {which} input of a chunk of {steps:,} steps x {net.n_in:,} "
            f"{'units' if private else 'channels'}",
            "fewer [simulation] chunk_steps",
        )
    header = {"n_units": net.n_rec, "dt": net.dt, "n_steps": n_steps, "metadata": meta}
    run = RunDir(out, "simulate", hold_figures=True, writes=SIMULATE_WRITES)
    try:  # one simulation at a time in a folder: a second removed the first one's files
        with folder_lock(run.path, LOCK_NAME, "simulation"), run.locked():
            remove_temporaries(run.path)  # what a run killed here left (a staged spike file,
            shutil.rmtree(run.file(STAGING), ignore_errors=True)  # an extension's checkpoint)
            every_s = cfg.simulation.checkpoint_seconds
            args = (run.path, resolved(cfg), header, every_s, weights_digest(params))
            if end is not None:  # the finished run as one interrupted after its last step
                check_end_weights(end, args[4], out)
                reopen_as_checkpoint(run.path, args, end, run.file("spikes.h5"))
            if resume:
                try:
                    ckpt, start = SimulationCheckpoint.resumed(*args)
                except BaseException:  # the extension's own checkpoint: left, it blocked the
                    if end is not None:  # folder as "an interrupted simulation"
                        shutil.rmtree(run.file(FOLDER), ignore_errors=True)
                    raise
            else:
                ckpt, start = SimulationCheckpoint.fresh(*args), None
                if progress and (run.path / "results.json").is_file():  # replaced in silence
                    from infodyn.progress import console

                    console().print(
                        f"infodyn: {out} holds a finished run; this one replaces it when it "
                        "finishes",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
            return _simulate(
                cfg, run, ckpt, start, (net, params, x), engine, chunk_steps, progress, resume
            )
    finally:
        if run.created:  # a run stopped before its first checkpoint: the empty folders RunDir made
            run.remove_if_empty()


def _checkpoint_steps(folder: Path) -> int | None:
    """The steps of the run whose checkpoint ``folder`` is, from its ``config.json`` (``None``
    when that is unreadable: the refusal still advises ``--resume``, which names the damage)."""
    try:
        steps = config_value((stored_config(folder) or {}).get("config"), "input.n_steps")
    except InputError:
        return None
    return steps if isinstance(steps, int) else None


def _checked_arguments(cfg: Any, out: Any) -> tuple[SimulateConfig, Path]:
    """``cfg`` as a :class:`SimulateConfig` (a dict is validated, as the other runs take it;
    None or text were AttributeErrors) and ``out`` as a path whose run files are not folders
    (a folder named spikes.h5 failed the rename after the whole simulation)."""
    if isinstance(cfg, dict):
        cfg = validate(SimulateConfig, cfg)
    if not isinstance(cfg, SimulateConfig):
        raise InputError(f"cfg must be a SimulateConfig or its table, got {type(cfg).__name__}")
    out = as_path(out, "out")
    for name in ("spikes.h5", "config.json", "results.json"):
        if (out / name).is_dir():
            raise InputError(
                f"{out / name}: a folder is in the way of the run's {name}; move it or choose "
                "another --out"
            )
    return cfg, out


def _simulate(
    cfg, run, ckpt, start, network, engine, chunk_steps, progress, resume
) -> dict[str, Any]:
    """The simulation of :func:`run_simulation` into its checkpoint ``ckpt`` from ``start``,
    then the run's files."""
    from infodyn.experiments.interrupt import check

    net, params, x = network
    n_steps = ckpt.header["n_steps"]
    staged = run.file(STAGED)
    try:
        if start is None or start.step < n_steps:
            _run_steps(net, params, x, n_steps, chunk_steps, engine, cfg, ckpt, start, progress)
        ckpt.spikes_into(staged)
        elapsed = ckpt.wall_seconds()  # a resumed run's earlier sessions' included
        # what ran, not what was asked: the event engine computes in float64 whatever
        # [simulation] precision says (that applies to the JAX engine)
        precision = "float64" if engine == "event" else cfg.simulation.precision
        try:
            results = simulation_results(
                run,
                staged,
                net.n_rec,
                elapsed,
                engine,
                precision,
                # a signal during the analysis: stop before the first file of out changes
                before_saving=lambda: check(
                    f"simulation of {n_steps:,} steps stopped as its results were being made; "
                    f"all its steps are checkpointed in {ckpt.folder} (a run there before is "
                    "unchanged)"
                ),
            )
        except InputError as exc:  # the joined stretches: named a temporary file, no remedy
            if str(staged) not in str(exc):
                raise
            why = str(exc).replace(f"{staged}: ", "")
            raise InputError(
                f"{ckpt.folder}: the spikes of its stretch files do not read back ({why}): a "
                f"file there was damaged after it was written; delete {ckpt.folder} and "
                "simulate afresh"
            ) from None
        if resume:
            results["resumed_from_step"] = 0 if start is None else start.step
            results["wall_seconds_this_run"] = elapsed - ckpt.earlier_s
        run.retire_results()  # a death before finish: no old results beside the new spikes
        run.file(END_STATE).unlink(missing_ok=True)  # nor the old run's end beside them
        os.replace(staged, run.file("spikes.h5"))
        keep_end_state(ckpt.folder, run.path)  # for a longer run to extend this one
    except BaseException:
        ckpt.discard_open()
        if not ckpt.saved:  # stopped before its first checkpoint: nothing to resume
            ckpt.remove()
        raise
    finally:
        staged.unlink(missing_ok=True)  # a run that failed: its spikes are not kept
    run.finish(cfg, "simulate", results, prune=True)
    ckpt.remove()
    return results


def _run_steps(net, params, x, n_steps, chunk_steps, engine, cfg, ckpt, start, progress) -> None:
    """Simulate from ``start`` (step 0 when ``None``) to ``n_steps`` into the checkpoint ``ckpt``,
    with a progress bar of the steps."""
    from infodyn.network.chunked import run_chunks
    from infodyn.progress import ProgressBar

    first = 0 if start is None else start.step
    with ProgressBar("simulating", n_steps, done=first, enabled=progress, unit="steps") as bar:

        def after_chunk(stop: int, snapshot: Any) -> None:
            bar.update(done=stop)
            ckpt.after_chunk(stop, snapshot)

        run_chunks(
            net, params, x, n_steps, chunk_steps, engine, cfg.simulation.precision,
            ckpt.on_spikes, after_chunk, start,
        )  # fmt: skip


def _input_bytes(x: Any, steps: int) -> int:
    """The bytes of a chunk of ``steps`` steps of the run's input ``x`` (a chunk maker); 0 for
    an array (filtered noise, made for the whole run: already in memory)."""
    return int(x.chunk_bytes(steps)) if callable(x) else 0


def check_weights_memory(net: Any, engine: str, precision: str, input_bytes: int = 0) -> None:
    """Refuse, before they are drawn, weights that fit but leave no room for the engine's own
    copy of them (:func:`~infodyn.network.simulate.run_weights_bytes`) and ``input_bytes`` of
    input beside them (each checked alone, the weights and the input of a network of 10^5
    inputs both passed, and the run was killed by the kernel's out-of-memory killer); the JAX
    engine's copy is checked against its device's memory where JAX reports it (a GPU's),
    else with the weights against the host's."""
    stored, copy = run_weights_bytes(net, engine, precision)
    advice = net.memory_advice()  # for the largest matrix (it named w_rec where w_in was)
    what = f"the weights of {net.n_rec:,} units with the {engine} engine's own copy of them"
    if input_bytes:
        what += f" and a chunk's input ({format_bytes(input_bytes)})"
        if input_bytes > stored + copy:
            advice = f"use fewer [simulation] chunk_steps; or {advice}"
        stored += input_bytes  # host memory
    if engine == "event":
        require_memory(stored + copy, what, advice)
        return
    if net.sparse_weights and engine_jax.device_free_bytes() is None:  # on the CPU
        advice += "; [simulation] engine = 'event' needs about half as much (one copy)"
    engine_jax.require_host_and_device(
        stored, copy, advice, what, f"the weights of {net.n_rec:,} units",
        f"the JAX engine's copy of the weights of {net.n_rec:,} units",
    )  # fmt: skip


def initial_params(cfg: SimulateConfig, net: Any) -> dict[str, Any]:
    """The weights to simulate: ``[simulation] params`` read and checked against ``net`` (the
    ``[network]`` they were made with: shapes, then the graph,
    :func:`~infodyn.network.weights_check.connectivity_mismatch`), else drawn with
    ``[simulation] seed``."""
    source = cfg.simulation.params
    if source is None:
        return net.init(seed=cfg.simulation.seed)
    from infodyn.network import load_params

    try:  # "nope.npz: no such params file" named no key
        params = load_params(source)
    except InputError as exc:
        raise InputError(f"[simulation] params: {exc}") from None
    try:
        net.validate_params(params)
        mismatch = connectivity_mismatch(net, params["w_rec"])
        if mismatch is not None:  # a k_in = 100 graph ran under k_in = 50 without a word
            raise InputError(mismatch)
    except InputError as exc:
        if "NaN or inf" in str(exc):  # no [network] section makes such weights fit
            raise InputError(f"[simulation] params = {source!r}: {exc}") from None
        raise InputError(
            f"[simulation] params = {source!r} does not fit [network]: {exc} (give the "
            "[network] section the weights were made with)"
        ) from None
    _warn_other_dynamics(source, net)
    return params


def weights_source(cfg: SimulateConfig) -> dict[str, Any]:
    """Where the run's weights came from, for its spike file's metadata: the seed that drew
    them, or the params file they were read from (the file said ``seed = 0``, never used, for
    weights read from a file)."""
    params = cfg.simulation.params
    return {"seed": cfg.simulation.seed} if params is None else {"params": str(params)}


#: the network's fields that a simulation of given weights depends on (the others draw the
#: weights, or shape the surrogate gradient of training)
DYNAMICS = (
    "model", "dt", "tau_m", "tau_out", "v_th", "n_ref", "input_scaling", "readout_scaling",
    "tau_a", "beta_a", "n_alif",
)  # fmt: skip


def _warn_other_dynamics(source: Any, net: Any) -> None:
    """A training checkpoint records the network it was trained in: name the settings
    ``[network]`` changes (time constants, threshold, input scaling...). Weights trained at
    tau_m = 30 ms and v_th = 0.03 ran at the defaults without a word (78 Hz for 4.4)."""
    from infodyn.learning.checkpoint import network_changes, network_record, stored_network

    stored = stored_network(source)
    if stored is None:
        return
    now = {k: v for k, v in network_record(net).items() if k in DYNAMICS}
    changed, shown = network_changes(stored, now)
    if changed:
        warnings.warn(
            f"[simulation] params = {source!r} was trained in another network: {shown}; the "
            "weights meet [network]'s dynamics here (give [network] the trained settings to "
            "run them as trained)",
            UserWarning,
            stacklevel=2,
        )


#: the new run's spike file until the run has succeeded (then renamed to ``spikes.h5``)
STAGED = ".spikes.staged.h5"

#: what a simulation writes into its folder besides config.json and results.json
SIMULATE_WRITES = ("spikes.h5", END_STATE)
#: the lock a simulation holds in its folder (:func:`~infodyn.experiments.sweep_lock.folder_lock`)
LOCK_NAME = ".simulate.lock"


def simulation_results(
    run: RunDir,
    spikes: Any,
    n_rec: int,
    elapsed: float,
    engine: str,
    precision: str,
    before_saving: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The results of simulated ``spikes``, after saving their raster and rate histogram (the
    caller writes ``results.json``, with the config: :meth:`RunDir.finish`). ``before_saving``,
    if given, is called once the figures are rendered and before they are written (a place to
    stop: what is left, four file writes, takes milliseconds).

    ``spikes`` is a SpikeTrain or the path of an HDF5 spike file, which is then not loaded: the
    rates come from one streamed pass (:meth:`SpikeReader.rates_hz`) and the raster reads only
    the window it shows (:meth:`SpikeReader.window`), so memory does not grow with the run.
    """
    from infodyn.experiments.figures import raster_figure, rate_histogram_figure

    if isinstance(spikes, (str, os.PathLike)):
        from infodyn.data.spike_reader import SpikeReader

        with SpikeReader(spikes) as reader:
            rates = reader.rates_hz()
            raster = _raster_of_window(reader)
            header = reader
    else:
        rates, raster, header = spikes.rates_hz(), raster_figure(spikes), spikes
    if not np.all(np.isfinite(rates)):
        raise InputError("simulation produced non-finite rates")
    results = {
        "engine": engine,
        "precision": precision,
        "n_units": n_rec,
        "n_steps": header.n_steps,
        "dt_ms": header.dt,
        "n_spikes": header.n_spikes,
        "mean_rate_hz": float(rates.mean()),
        "rate_hz_percentiles": {
            str(q): float(np.percentile(rates, q)) for q in (5, 25, 50, 75, 95)
        },
        "fraction_silent": float(np.mean(rates == 0)),
        "activity_per_step": header.n_spikes / (n_rec * header.n_steps * header.n_trials),
        "wall_seconds": elapsed,
        "files": {
            "spikes": "spikes.h5",
            "raster": "figures/raster.png",
            "rates": "figures/rates.png",
        },
    }
    figures = {"raster": png_bytes(raster), "rates": png_bytes(rate_histogram_figure(rates))}
    if before_saving is not None:
        before_saving()
    for name, png in figures.items():
        run.save_png(png, name)
    return results


def _raster_of_window(reader: Any) -> Any:
    """The raster figure of a spike file, reading only the steps it shows (of trial 0)."""
    from infodyn.data.spikes import SpikeTrain
    from infodyn.experiments.figures import RASTER_MAX_STEPS, raster_figure

    times, units = reader.window(0, 0, min(reader.n_steps, RASTER_MAX_STEPS))
    shown = SpikeTrain(  # the shown window of trial 0, with the whole file's sizes
        times=times,
        units=units,
        n_units=reader.n_units,
        n_steps=reader.n_steps,
        n_trials=reader.n_trials,
        dt=reader.dt,
    )
    return raster_figure(shown, max_steps=RASTER_MAX_STEPS)

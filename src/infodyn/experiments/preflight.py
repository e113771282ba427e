"""Memory estimates of the commands' largest arrays, checked before any work starts.

Batches of trials (training batches, the trials simulated for an analysis) hold at least the
float32 input (``n_in`` channels) and the float32 spikes and membrane potentials of the
``n_rec`` units at every step: ``4 (n_in + 2 n_rec)`` bytes per trial and step
(:func:`trials_bytes`, a lower bound). A config asking for 10^9 steps or 10^30 trials is refused
with the numbers before the run starts, rather than in NumPy ("maximum allowed dimension
exceeded") after earlier stages ran.

The energy model of ``size x size`` patches works on ``n = size^2`` binary pixels: the patch
arrays hold ``N = n_patches (1 + held_out)`` rows of ``n`` values (grey levels in float64, the
binary copy, whitening and the fit's ``N x n`` flip-energy temporaries, about seven float64
copies in all) and the couplings, their gradient and the optimiser's moments are ``n x n``
float64 arrays (about six), and L-BFGS-B keeps 20 pairs of parameter vectors (``n^2 / 2``
entries each: 20 ``n x n`` arrays more). ``infodyn images --sizes 100`` (n = 10^4) therefore
needs hundreds of GiB; it is refused with the numbers (:func:`infodyn.memory.require_memory`)
instead of ending in ``MemoryError`` (or a crash) after the earlier sizes ran.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from infodyn.memory import require_memory


def image_energy_bytes(size: int, n_patches: int, held_out: float) -> float:
    """Estimated peak bytes of the energy model of ``size x size`` patches (module docstring)."""
    n = float(size) ** 2
    rows = n_patches * (1.0 + held_out)
    return 8.0 * (7.0 * rows * n + (6.0 + 20.0) * n * n)


def trials_bytes(n_trials: int, n_steps: int, n_in: int, n_rec: int) -> float:
    """Bytes a batch of trials holds at least (module docstring); exact for huge integers."""
    return 4.0 * float(n_trials) * float(n_steps) * (float(n_in) + 2.0 * float(n_rec))


def check_trials_memory(
    n_trials: int, n_steps: int, n_in: int, n_rec: int, what: str, advice: str
) -> None:
    """Refuse a batch of ``n_trials`` trials of ``n_steps`` steps that cannot fit in memory."""
    require_memory(
        trials_bytes(n_trials, n_steps, n_in, n_rec),
        f"{what} ({n_trials:,} trials x {n_steps:,} steps x {n_in:,} inputs and {n_rec:,} units)",
        advice,
    )


def check_evaluation_memory(net: Any, n_trials: int, n_steps: int, precision: str) -> None:
    """Refuse, before training, a run whose evaluation cannot fit: ``infodyn train`` runs the
    trained weights on ``n_trials`` fresh trials with every trace (z, v, thr, y) for its
    results and figures, checked as :func:`~infodyn.network.engine_jax.simulate_jax` checks
    it. It was refused after the whole training, with advice the command cannot take
    (``record=False``, ``simulate_to_file``)."""
    from infodyn.network.engine_jax import require_trace_memory

    what = (
        f"the evaluation of the trained weights on {n_trials:,} fresh trials (the JAX engine's "
        f"z, v, thr and y traces of {n_trials:,} x {n_steps:,} steps x {net.n_rec:,} units)"
    )
    advice = "use a smaller [training] batch_size or fewer [task] steps"
    require_trace_memory(net, n_trials, n_steps, precision, True, advice, what, what)


def check_pipeline_memory(cfg: Any) -> None:
    """Refuse a pipeline config whose largest image energy model, training batch or analysis
    trials cannot fit in memory."""
    if "network" in cfg.stages:
        from infodyn.experiments.config import build_network

        st = cfg.stimulus
        net = build_network({"n_in": 2 * st.size**2, "n_out": st.n_stimuli, **cfg.network})
        n_trials = max(cfg.training.batch_size, cfg.analysis.n_trials)
        check_trials_memory(
            n_trials,
            max(1, round(Fraction(st.trial_ms) / Fraction(net.dt))),
            net.n_in,
            net.n_rec,
            "a batch of the network's trials",
            "use a smaller [stimulus] trial_ms, [training] batch_size or [analysis] n_trials",
        )
    if "image_energy" not in cfg.stages or not cfg.images.sizes:
        return
    im = cfg.images
    size = max(im.sizes)
    require_memory(
        image_energy_bytes(size, im.n_patches, im.held_out),
        f"the energy model of {size}x{size} patches ({size * size} pixels, {im.n_patches} patches)",
        "use smaller [images] sizes (4 to 16 pixels a side) or fewer n_patches",
    )

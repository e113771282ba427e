"""Is sparse e-prop training bitwise reproducible on this JAX device? Run to run, and resumed?

Trains one sparse E/I LIF network (``n_rec`` units, Adam, clipping, e-prop updates every 70 steps
of 150-step sequences, the deck's target-rate and rate-variance losses, float64) four times from
the same parameters on JAX's default device:

- straight through, twice: equal weights mean the device's kernels are deterministic;
- in two halves (checkpoint after 2 iterations, then ``resume=True``, which must run the last 2
  only): equal weights mean a resumed run continues exactly.

JAX's compilation caches are cleared before each run, so each run compiles afresh (XLA's own
autotuning results may still be reused within the process); ``--keep-caches`` compiles once and
reuses the programs (the test suite runs it so on a CPU, where compiling is deterministic).

For each comparison it prints how many weights differ and the largest relative difference.
``--pattern k_in`` (fixed in-degree) runs the recurrent sum by target, with no scatter;
``--pattern bernoulli`` (E/I probabilities K / N) runs it as a gather and a segment sum, whose
scatter-adds are atomic on a GPU. Run it with and without
``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` to see what that flag changes. Results:
``benchmarks/RESULTS.md``, "The JAX engine on a GPU: unroll factor, the suite, reproducibility
(stop 36)".

Run (from the repository root; on a CPU every count is 0)::

    PYTHONPATH=src python3 benchmarks/gpu_reproducibility.py --n-rec 2000 --k-in 50
    PYTHONPATH=src python3 benchmarks/gpu_reproducibility.py --n-rec 2000 --pattern bernoulli
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def _weights(trainer) -> np.ndarray:
    p = trainer.state.params
    return np.concatenate([np.asarray(p["w_rec"].values).ravel(), np.asarray(p["w_in"]).ravel()])


def _report(name: str, a: np.ndarray, b: np.ndarray) -> int:
    differ = int(np.count_nonzero(a != b))
    rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300))) if differ else 0.0
    print(f"  {name}: {differ} of {a.size} weights differ, largest relative difference {rel:.2e}")
    return differ


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n-rec", type=int, default=2000)
    p.add_argument("--pattern", choices=["k_in", "bernoulli"], default="k_in")
    p.add_argument("--k-in", type=int, default=50, help="in-degree (and mean in-degree)")
    p.add_argument(
        "--keep-caches",
        action="store_true",
        help="compile once and reuse the programs (default: every run compiles afresh)",
    )
    args = p.parse_args(argv)
    import jax

    jax.config.update("jax_enable_x64", True)
    import infodyn as idn
    from infodyn.learning.losses import PopulationRateVariance, UnitRateTarget
    from infodyn.learning.tasks import RateTask
    from infodyn.learning.trainer import Trainer, TrainOptions

    sparse = {"k_in": args.k_in}
    if args.pattern == "bernoulli":  # every E/I probability K / N, stored sparse
        q = args.k_in / args.n_rec
        sparse = {"p_ee": q, "p_ei": q, "p_ie": q, "p_ii": q, "weights": "sparse"}
    net = idn.network.LIF(
        n_in=20,
        n_rec=args.n_rec,
        n_out=0,
        in_scale=3.0,
        connectivity="ei",
        rec_scale=2.0,
        surrogate="fast_sigmoid",
        **sparse,
    )
    task = RateTask(n_in=20, n_steps=150, rate_hz=20.0)
    start = net.init(seed=0)
    loss = UnitRateTarget(r0_hz=10.0, weight=1e-3) + PopulationRateVariance(weight=1e-7)
    opts = TrainOptions(
        optimizer="adam",
        lr=2e-3,
        clip_norm=5.0,
        batch_size=4,
        precision="float64",
        checkpoint_every=2,
        online_window=70,
    )

    def trainer():
        return Trainer(net, task, loss, opts, params=start)

    device = next(iter(jax.numpy.zeros(()).devices()))  # where arrays go by default
    print(
        f"device {device}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}, "
        f"{args.pattern} pattern, {args.n_rec} units, {start['w_rec'].nnz} synapses"
    )

    def fresh_compile() -> None:
        if not args.keep_caches:
            jax.clear_caches()

    t0 = time.perf_counter()
    runs = []
    for _ in range(2):
        fresh_compile()
        runs.append(trainer())
        runs[-1].fit(4)
    first, second = runs
    done_after_resume: list[int] = []
    with tempfile.TemporaryDirectory() as out:
        fresh_compile()
        trainer().fit(2, out=out)
        fresh_compile()
        resumed = trainer()
        resumed.fit(4, out=out, resume=True, callback=lambda t, rec: done_after_resume.append(1))
    if len(done_after_resume) != 2:
        raise SystemExit(f"the resumed run ran {len(done_after_resume)} iterations, not 2")
    print(f"  four training runs in {time.perf_counter() - t0:.1f} s")
    reference = _weights(first)
    if np.array_equal(reference, _weights(trainer())):
        raise SystemExit("training did not change the weights: nothing to compare")
    differ = _report("run twice", reference, _weights(second))
    differ += _report("resumed vs straight through", reference, _weights(resumed))
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())

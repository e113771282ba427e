"""``benchmarks/gpu_reproducibility.py`` on the CPU, where training is deterministic: the in-degree
pattern trains (the weights move) and compares equal, the Bernoulli pattern trains, the
comparison counts a one-ulp difference, and a resume that started over is caught."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_reproducibility.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("gpu_reproducibility", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_training_on_the_cpu_is_reproducible(script, capsys):
    assert script.main(["--n-rec", "60", "--k-in", "6", "--pattern", "k_in", "--keep-caches"]) == 0
    out = capsys.readouterr().out
    assert "k_in pattern, 60 units" in out
    assert out.count(" 0 of ") == 2 and "largest relative difference 0.00e+00" in out


def test_the_comparison_counts_one_ulp(script, capsys):
    a = np.array([1.0, -2.0, 3.0])
    b = a.copy()
    b[1] = np.nextafter(b[1], 0.0)
    assert script._report("x", a, b) == 1
    out = capsys.readouterr().out
    assert "x: 1 of 3 weights differ, largest relative difference 1.11e-16" in out
    assert script._report("y", a, a) == 0


def test_a_resume_that_starts_over_is_caught(script, monkeypatch, capsys):
    """Without this check the two-halves comparison could not fail on a CPU: a run that ignored
    ``resume`` and trained 4 iterations afresh ends with the same weights."""
    from infodyn.learning.trainer import Trainer

    fit = Trainer.fit

    def ignoring_resume(self, *args, resume=False, **kwargs):
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", ignoring_resume)
    with pytest.raises(SystemExit, match="the resumed run ran 4 iterations, not 2"):
        # the Bernoulli pattern here (its four runs train before the check) and the in-degree
        # pattern above; --keep-caches compiles each pattern's programs once (the comparison
        # does not depend on it: compiling on a CPU is deterministic)
        script.main(["--n-rec", "40", "--k-in", "4", "--pattern", "bernoulli", "--keep-caches"])
    assert "bernoulli pattern, 40 units" in capsys.readouterr().out


def test_without_keep_caches_every_run_compiles_afresh(script, monkeypatch):
    """The default (the GPU check's) clears JAX's caches before each of the four runs; the
    tests above keep them (counted here with the clearing itself left out: it is JAX's own)."""
    import jax

    cleared = []
    monkeypatch.setattr(jax, "clear_caches", lambda: cleared.append(1))
    assert script.main(["--n-rec", "40", "--k-in", "4", "--pattern", "k_in"]) == 0
    assert len(cleared) == 4
    cleared.clear()
    assert script.main(["--n-rec", "40", "--k-in", "4", "--pattern", "k_in", "--keep-caches"]) == 0
    assert not cleared

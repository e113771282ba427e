"""The shape checks of the MR slopes (criticality/_mr_decay.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.criticality._mr_decay import OSCILLATION_Z, oscillation_note


def _refractory_units(n: int, n_steps: int, trials: int, seed: int) -> np.ndarray:
    """Counts of ``n`` independent units that fire with probability 0.5 a step and are then
    silent for 2 steps: their summed activity oscillates with period 3."""
    rng = np.random.default_rng(seed)
    out = np.zeros((trials, n_steps))
    for tr in range(trials):
        wait = np.zeros(n, int)
        for t in range(n_steps):
            fire = (wait == 0) & (rng.random(n) < 0.5)
            out[tr, t] = fire.sum()
            wait = np.maximum(wait - 1, 0)
            wait[fire] = 2
    return out


def test_slopes_that_fall_and_rise_again_are_named_with_their_lags():
    k = np.arange(1, 11)
    se = np.full(10, 0.002)
    decaying = 0.5 * 0.8**k
    assert oscillation_note(decaying, se, k) == ""
    assert oscillation_note(0.01 * 1.05**k, se, k) == ""  # m > 1: only rises
    wobbly = decaying.copy()
    wobbly[2] = wobbly[1] + (OSCILLATION_Z + 1) * np.sqrt(2) * 0.002  # r_3 above r_2
    said = oscillation_note(wobbly, se, k)
    assert "rise and fall" in said and "r_2 = 0.32 -> r_3 = 0.334 (5.0 standard errors)" in said
    wobbly[2] = wobbly[1] + (OSCILLATION_Z - 0.5) * np.sqrt(2) * 0.002  # within the noise
    assert oscillation_note(wobbly, se, k) == ""
    assert oscillation_note(wobbly, np.full(10, np.nan), k) == ""  # no bootstrap: no errors
    late = np.r_[decaying, 0.0, 0.0, 0.2]  # a rise beyond the first 12 lags is not looked at
    assert oscillation_note(late, np.full(13, 0.002), np.arange(1, 14)) == ""


def test_an_oscillation_under_a_branching_process_warns_and_keeps_m():
    """The subsample of a large network: an m = 0.94 fitted through slopes of period 3 (single
    units' refractoriness) read as near-critical with no warning. A branching process plus
    refractory units: m is still the process's, with the warning."""
    activity = C.simulate_branching_process(0.9, 2.0, 4000, trials=4, seed=0)
    activity = activity + _refractory_units(200, 4000, 4, seed=0)
    with pytest.warns(C.CriticalityWarning, match="rise and fall within the first lags"):
        res = C.branching_ratio(activity, seed=0)
    assert res.meaningful and abs(res.m - 0.9) < 0.02
    assert any("the activity oscillates" in w for w in res.warnings)


def test_a_refused_m_is_not_also_said_to_oscillate(monkeypatch):
    """With m refused for another reason (no correlation to fit: Ljung-Box), the oscillation's
    warning said that m 'may describe the oscillation's envelope' beside 'm is not reported'."""
    import sys

    branching = sys.modules["infodyn.criticality.branching"]
    activity = C.simulate_branching_process(0.9, 2.0, 4000, trials=4, seed=0)
    activity = activity + _refractory_units(200, 4000, 4, seed=0)
    monkeypatch.setattr(branching, "ljung_box_p", lambda *args: 1.0)  # "no correlation"
    with pytest.warns(C.CriticalityWarning, match="indistinguishable from 0") as caught:
        res = C.branching_ratio(activity, seed=0)
    assert not res.meaningful
    assert not any("rise and fall" in str(w.message) for w in caught)


@pytest.mark.parametrize("m", [0.5, 0.9, 0.98])
@pytest.mark.parametrize("fraction", [1.0, 0.1, 0.01])
def test_branching_processes_do_not_raise_it(m, fraction):
    for seed in range(2):
        activity = C.simulate_branching_process(m, 50.0 * (1 - m) * 10, 5000, trials=4, seed=seed)
        if fraction < 1:
            activity = np.random.default_rng(seed).binomial(activity.astype(int), fraction)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", C.CriticalityWarning)
            res = C.branching_ratio(activity, seed=seed)
        assert not any("rise and fall" in w for w in res.warnings), res.warnings


def test_uncorrelated_activity_gets_the_ljung_box_note_alone():
    """Independent bins: m is refused by the Ljung-Box test, and the notes about the fitted m
    it does not report (supercritical, fits disagree, oscillates) no longer come beside it."""
    for seed in (0, 1, 3, 4):  # (seed 2's slopes pass the test at p < 0.01: m is at the edge)
        activity = np.random.default_rng(seed).random(1000) < 0.3
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = C.branching_ratio(activity, seed=0)
        said = [str(w.message) for w in caught]
        assert not res.meaningful and np.isnan(res.m) and not res.fits_disagree
        assert sum("indistinguishable from 0" in m for m in said) == 1, said
        assert all("Ljung-Box" in m or "blocks" in m for m in said), said

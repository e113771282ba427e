"""Avalanche segmentation and the crackling-noise relation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import infodyn.criticality as C


def test_hand_made_segmentation():
    av = C.avalanches(np.array([0, 1, 2, 0, 0, 3, 0, 1, 1, 1, 0]))
    np.testing.assert_array_equal(av.sizes, [3, 3, 3])
    np.testing.assert_array_equal(av.durations, [2, 1, 3])
    np.testing.assert_array_equal(av.starts, [1, 5, 7])
    d, mean, cnt = av.mean_size_by_duration()
    np.testing.assert_array_equal(d, [1, 2, 3])
    np.testing.assert_array_equal(mean, [3, 3, 3])
    np.testing.assert_array_equal(cnt, [1, 1, 1])


def test_edges_and_trials():
    act = np.array([[2, 1, 0, 4, 0, 0, 1], [0, 1, 0, 0, 2, 2, 0]])
    av = C.avalanches(act)  # runs touching a trial edge are incomplete and dropped
    np.testing.assert_array_equal(av.sizes, [4, 1, 4])
    np.testing.assert_array_equal(av.trials, [0, 1, 1])
    np.testing.assert_array_equal(av.starts, [3, 1, 4])
    kept = C.avalanches(act, drop_edges=False)
    np.testing.assert_array_equal(kept.sizes, [3, 4, 1, 1, 4])
    np.testing.assert_array_equal(kept.truncated, [True, False, True, False, False])
    # a run at the end of trial 0 does not merge with one at the start of trial 1
    joined = C.avalanches(np.array([[0, 0, 1], [1, 0, 0]]), drop_edges=False)
    np.testing.assert_array_equal(joined.sizes, [1, 1])


def test_threshold_subtracts_per_bin():
    av = C.avalanches(np.array([0, 1, 2, 0, 0, 3, 0, 1, 1, 1, 0]), threshold=1)
    np.testing.assert_array_equal(av.sizes, [1, 2])
    np.testing.assert_array_equal(av.durations, [1, 1])


def test_a_fractional_threshold_rounds_each_size_once():
    """Sizes were differences of one running sum of ``a - threshold``: 2.8999999999999995 for
    a single bin of 3 events, and round-off growing with the trial's total."""
    av = C.avalanches(np.array([0, 3, 0, 2, 5, 0]), threshold=0.1)
    assert av.sizes.tolist() == [3 - 0.1, 7 - 0.1 * 2]
    rng = np.random.default_rng(0)
    a = rng.poisson(0.7, 200_000).astype(float)
    a[::1000] = 0.0
    sizes, run = [], None  # an independent loop: each run's events minus 0.3 a bin
    for i, x in enumerate(a):
        if x > 0.3:
            run = [i, 0.0, 0] if run is None else run
            run[1] += x
            run[2] += 1
        elif run is not None:
            if run[0] > 0:  # a run from the first bin is incomplete
                sizes.append(run[1] - 0.3 * run[2])
            run = None
    assert C.avalanches(a, threshold=0.3).sizes.tolist() == sizes


def test_no_avalanche_warns():
    with pytest.warns(C.CriticalityWarning, match="no complete avalanche"):
        av = C.avalanches(np.ones(20))
    assert av.n == 0


def test_matches_a_direct_loop_on_random_activity():
    rng = np.random.default_rng(1)
    act = rng.poisson(0.7, size=(3, 500))
    av = C.avalanches(act)
    sizes, durs = [], []
    for row in act:
        t = 0
        while t < row.size:
            if row[t] > 0:
                s = t
                while t < row.size and row[t] > 0:
                    t += 1
                if s > 0 and t < row.size:
                    sizes.append(row[s:t].sum())
                    durs.append(t - s)
            t += 1
    np.testing.assert_array_equal(av.sizes, sizes)
    np.testing.assert_array_equal(av.durations, durs)


def test_crackling_relation_on_critical_galton_watson():
    av = C.galton_watson_avalanches(60_000, 1.0, max_size=10**6, seed=2)
    keep = ~av.truncated
    sub = C.Avalanches(
        av.sizes[keep], av.durations[keep], av.trials[keep], av.starts[keep], av.truncated[keep]
    )
    fs = C.fit_power_law(sub.sizes, compare=False)
    fd = C.fit_power_law(sub.durations, compare=False)
    assert fs.alpha == pytest.approx(1.5, abs=0.03)
    assert fd.alpha == pytest.approx(2.0, abs=0.1)
    cr = C.crackling_relation(sub, fs.alpha, fd.alpha, d_min=int(fd.xmin))
    # gamma = 2 for the critical branching process; finite samples bend both estimates a little
    assert cr.gamma_predicted == pytest.approx(2.0, abs=0.25)
    assert cr.gamma_fitted == pytest.approx(2.0, abs=0.15)
    assert abs(cr.difference) < 0.2
    assert set(cr.to_dict()) >= {"gamma_predicted", "gamma_fitted", "gamma_fitted_stderr"}
    # the duration fit's xmin as it comes (a float: 15.0 was "not a whole number"), and the
    # exponents' errors: the prediction's error, propagated to first order, and a verdict
    with_errors = C.crackling_relation(
        sub, fs.alpha, fd.alpha, d_min=fd.xmin, alpha_size_err=fs.sigma, alpha_duration_err=fd.sigma
    )
    assert with_errors.gamma_fitted == cr.gamma_fitted
    a, b = fs.alpha - 1.0, fd.alpha - 1.0
    se = np.sqrt((fd.sigma / a) ** 2 + (b * fs.sigma / a**2) ** 2)
    assert with_errors.gamma_predicted_stderr == pytest.approx(se, rel=1e-12)
    d = with_errors.to_dict()
    assert d["difference_stderr"] == pytest.approx(np.hypot(se, cr.gamma_fitted_stderr))
    assert d["consistent"] == (abs(cr.difference) <= 2 * d["difference_stderr"])
    assert cr.consistent is None  # no exponent errors given: no verdict


def test_the_crackling_result_of_no_durations_has_no_range():
    av = C.avalanches(np.array([[0, 1, 2, 0, 3, 0, 1, 0]]))
    cr = C.crackling_relation(av, 1.5, 2.0, d_min=10**4)
    assert cr.n_durations == 0 and cr.duration_range is None  # was [10000, 11102]
    assert cr.to_dict()["duration_range"] is None and cr.consistent is None


def test_avalanches_of_a_weakly_driven_branching_process_are_galton_watson_trees():
    m = 0.5
    act = C.simulate_branching_process(m, 0.01, 300_000, seed=3)
    av = C.avalanches(act)
    assert av.n > 2000
    # separated avalanches are Poisson(m) trees: <S> = 1/(1-m), <D> = sum_n (1 - q_n)
    assert av.sizes.mean() == pytest.approx(1 / (1 - m), rel=0.05)
    q, mean_d = 0.0, 0.0
    for _ in range(200):
        mean_d += 1 - q
        q = np.exp(m * (q - 1.0))
    assert av.durations.mean() == pytest.approx(mean_d, rel=0.05)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 60)), elements=st.integers(0, 3))
)
def test_segmentation_conserves_events_and_active_bins(act):
    av = C.avalanches(act, drop_edges=False) if act.any() else None
    if av is None:
        return
    assert av.sizes.sum() == act.sum()
    assert av.durations.sum() == np.count_nonzero(act)
    kept = C.avalanches(act) if (~av.truncated).any() else None
    if kept is not None:
        assert kept.n == int((~av.truncated).sum())


def test_long_activity_is_checked_against_the_free_memory(monkeypatch):
    """10^7 bins took 0.55 GB in avalanches and 0.6 GB in the MR lag sums, under any limit:
    a 5 x 10^7-step recording ended in std::bad_alloc. Both ask first."""
    from infodyn.memory import MemoryPreflightError

    a = np.random.default_rng(0).poisson(2, size=(2, 200_000))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "10M")
    with pytest.raises(MemoryPreflightError, match="avalanches of 2 trial.* x 200,000 bins"):
        C.avalanches(a)
    for method in ("mr", "naive"):
        with pytest.raises(MemoryPreflightError, match="lag sums of 2 trial.* x 200,000 bins"):
            C.branching_ratio(a, method=method, n_boot=0)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "200M")
    assert C.avalanches(a).n > 0

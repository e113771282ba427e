"""The units' own share of the population's lagged covariance (criticality/own_share.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.criticality import own_share as O
from infodyn.data import SpikeTrain, SpikeWriter, save_spikes
from infodyn.errors import InputError


def _branching_network(n=500, k=10, m=0.9, h=5e-4, steps=6000, seed=0) -> np.ndarray:
    """(steps, n) 0/1: each active unit activates each of its k random targets with
    probability m / k at the next step; drive h a unit a step; no refractoriness."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, n, (n, k))
    z = np.zeros(n, bool)
    out = np.zeros((steps, n), np.uint8)
    for t in range(steps):
        hit = targets[np.flatnonzero(z)].ravel()
        hit = hit[rng.random(hit.size) < m / k]
        z = rng.random(n) < h
        z[hit] = True
        out[t] = z
    return out


def test_the_share_is_exact_on_hand_made_counts():
    rng = np.random.default_rng(0)
    x = rng.poisson(2.0, (2, 400, 1)).astype(float)
    x[:, 1:] += 0.7 * x[:, :-1]  # some lagged covariance
    assert O.own_share(x) == pytest.approx(1.0)  # one unit: all of it is its own
    twins = np.concatenate([x, x], axis=2)  # C_k = 4 c_k, S_k = 2 c_k
    assert O.own_share(twins) == pytest.approx(0.5)
    opposite = np.concatenate([x, -x], axis=2)  # the population is constant: no covariance
    assert np.isnan(O.own_share(opposite))
    with pytest.raises(InputError, match="n_trials, n_bins, n_units"):
        O.own_share(x[0])
    with pytest.raises(InputError, match="more than lags=5 bins"):
        O.own_share(x[:, :5])


def test_activity_passed_between_units_is_about_one_over_n_own():
    raster = _branching_network()
    for n in (10, 50):
        share = O.own_share(raster[None, :, :n])
        assert share < 3.0 / n, (n, share)
        assert O.own_share_note(share, n) == ""


def test_refractory_units_own_their_covariance_and_are_named():
    """The subsample of a large LIF network: units that fire regularly after a refractory
    period, independently of each other."""
    rng = np.random.default_rng(1)
    n, steps = 20, 4000
    raster = np.zeros((steps, n), np.uint8)
    wait = np.zeros(n, int)
    for t in range(steps):
        fire = (wait == 0) & (rng.random(n) < 0.4)
        raster[t] = fire
        wait = np.maximum(wait - 1, 0)
        wait[fire] = 2
    share = O.own_share(raster[None])
    assert share > 0.8
    note = O.own_share_note(share, n)
    assert "the 20 units' own lagged covariance" in note and "1/n = 0.05" in note


def test_the_criticality_run_reports_it_and_warns(tmp_path, monkeypatch):
    from infodyn.experiments import criticality_run as R

    raster = _branching_network()[:, :40]
    train = SpikeTrain.from_dense(raster, dt=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.run_criticality(train, tmp_path / "a", n_boot=20)
    share = res["branching"]["own_share"]
    assert share == pytest.approx(O.own_share(raster[None].astype(float)))
    assert not any("own lagged covariance" in w for w in res["warnings"])
    monkeypatch.setattr(O, "OWN_SHARE_WARN", 0.0)  # as for a subsample of single units
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.run_criticality(train, tmp_path / "b", n_boot=20)
    assert res["branching"]["mr"]["meaningful"]
    assert any("40 units' own lagged covariance" in w for w in res["warnings"])
    path = save_spikes(tmp_path / "s.h5", train)  # streamed, a subset of the units
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.run_criticality(path, tmp_path / "d", n_boot=0, units="0-19")
    assert res["branching"]["own_share"] == pytest.approx(
        O.own_share(raster[None, :, :20].astype(float))
    )
    # spikes in time order are paired one by one: no cap on units x bins (1 % of a 10^5-unit
    # network over 10^5 bins was 10^8 cells, and got no share)
    monkeypatch.setattr(R, "OWN_SHARE_MAX_CELLS", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.run_criticality(path, tmp_path / "c", n_boot=0, units="0-19")
    assert res["branching"]["own_share"] == pytest.approx(
        O.own_share(raster[None, :, :20].astype(float)), rel=1e-12
    )


def test_a_streamed_file_is_read_once_where_the_bin_is_known(tmp_path, monkeypatch):
    from infodyn.experiments import criticality_run as R

    raster = _branching_network(steps=3000)[:, :30]
    path = save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(raster, dt=0.5))
    passes = []
    monkeypatch.setattr(R, "own_covariances", lambda *a: passes.append(a) or O.own_covariances(*a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for bin_ms in (None, 1.5):  # in the pass that counts the spikes
            res = R.run_criticality(path, tmp_path / "a", n_boot=0, bin_ms=bin_ms, units="3-29")
            steps = res["branching"]["bin_ms"] / 0.5
            counts = raster[: raster.shape[0] // int(steps) * int(steps), 3:]
            counts = counts.reshape(1, -1, int(steps), 27).sum(axis=2)
            assert res["branching"]["own_share"] == pytest.approx(O.own_share(counts), rel=1e-12)
        assert passes == []
        res = R.run_criticality(path, tmp_path / "b", n_boot=0, bin_ms="iei")  # a pass of its own
    assert len(passes) == 1
    steps = int(round(res["branching"]["bin_ms"] / 0.5))
    counts = raster[: raster.shape[0] // steps * steps].reshape(1, -1, steps, 30).sum(axis=2)
    assert res["branching"]["own_share"] == pytest.approx(O.own_share(counts), rel=1e-12)


def test_a_file_out_of_time_order_is_counted_by_unit_within_the_cap(tmp_path, monkeypatch):
    from infodyn.experiments import criticality_run as R

    raster = _branching_network(steps=3000)[:, :30]
    t, u = np.nonzero(raster)
    path = tmp_path / "shuffled.h5"
    with SpikeWriter(path, n_units=30, dt=1.0, n_steps=raster.shape[0]) as w:
        half = t.size // 2
        w.append(t[half:], u[half:])  # the second half first: not in time order
        w.append(t[:half], u[:half])
    passes = []
    monkeypatch.setattr(R, "own_covariances", lambda *a: passes.append(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.run_criticality(path, tmp_path / "a", n_boot=0)
        assert res["branching"]["own_share"] == pytest.approx(
            O.own_share(raster[None].astype(float)), rel=1e-12
        )
        assert passes == []  # the counting pass saw the disorder: no pass to find it again
        monkeypatch.setattr(R, "OWN_SHARE_MAX_CELLS", 100)  # too many cells: not computed
        res = R.run_criticality(path, tmp_path / "b", n_boot=0)
    assert res["branching"]["own_share"] is None


def _dense_own(counts: np.ndarray, lags: int = O.LAGS) -> np.ndarray:
    """S_k by the definition: each trial's and unit's mean removed."""
    x = counts.astype(float) - counts.mean(axis=1, keepdims=True)
    return np.array([np.sum(x[:, :-k] * x[:, k:]) for k in range(1, lags + 1)])


@pytest.mark.parametrize("seed", range(12))
def test_own_covariances_from_spikes_equal_those_of_the_counts(seed):
    rng = np.random.default_rng(seed)
    n_trials, n_bins, n_units = rng.integers(1, 4), rng.integers(6, 60), rng.integers(1, 9)
    bin_steps = int(rng.integers(1, 4))
    steps = n_bins * bin_steps + int(rng.integers(0, 3))  # a remainder the bins leave out
    raster = rng.random((n_trials, steps, n_units)) < rng.uniform(0.05, 0.7)
    raster[:, 1:] |= raster[:, :-1] & (rng.random((n_trials, steps - 1, n_units)) < 0.4)
    trials, times, units = np.nonzero(raster)  # (trial, time, unit) order
    counts = raster[:, : n_bins * bin_steps].reshape(n_trials, n_bins, bin_steps, n_units)
    counts = counts.sum(axis=2)
    size = int(rng.integers(1, 25))  # blocks that split bins and trials anywhere
    blocks = [
        (trials[i : i + size], times[i : i + size], units[i : i + size])
        for i in range(0, trials.size, size)
    ]
    lags = int(rng.integers(1, min(6, n_bins)))
    got = O.own_covariances(blocks, n_bins, bin_steps, np.arange(n_units), lags=lags)
    np.testing.assert_allclose(got, _dense_own(counts, lags), rtol=1e-11, atol=1e-9)
    some = np.full(n_units, -1)
    some[::2] = np.arange(len(some[::2]))  # every other unit analysed
    got = O.own_covariances(blocks, n_bins, bin_steps, some, lags=lags)
    np.testing.assert_allclose(got, _dense_own(counts[:, :, ::2], lags), rtol=1e-11, atol=1e-9)
    assert O.share_of(got, counts[:, :, ::2].sum(axis=2)) == pytest.approx(
        O.own_share(counts[:, :, ::2], lags=lags), rel=1e-10, nan_ok=True
    )


def test_own_covariances_refuse_spikes_out_of_order():
    late, early = (np.array([0]), np.array([9]), np.array([0])), (np.zeros(1, int),) * 3
    assert O.own_covariances([late, early], 10, 1, [0]) is None
    assert (
        O.own_covariances([(np.array([0, 0]), np.array([5, 3]), np.array([0, 0]))], 10, 1, [0])
        is None
    )
    assert (
        O.own_covariances([(np.array([1, 0]), np.array([0, 5]), np.array([0, 0]))], 10, 1, [0])
        is None
    )


def test_mr_on_the_branching_network_is_its_m():  # the network above is what MR assumes
    raster = _branching_network()
    res = C.branching_ratio(raster[None, :, :50].sum(axis=2).astype(float), seed=0)
    assert res.meaningful and abs(res.m - 0.9) < 0.05


def test_own_covariances_refuse_what_they_cannot_sum(monkeypatch):
    from infodyn.memory import MemoryPreflightError

    block = (np.zeros(2, int), np.array([1, 2]), np.array([0, 3]))
    with pytest.raises(InputError, match=r"units must be whole numbers in \[0, 2\)"):
        O.own_covariances([block], 10, 1, [0, 1])  # a unit beyond columns read out of bounds
    with pytest.raises(InputError, match="more than lags=5 bins a trial, got .* 5 bins"):
        O.own_covariances([], 5, 1, [0])  # S_k of lags beyond the trial were not 0
    empty = (np.array([]), np.array([]), np.array([]))  # floats, as np.array([]) makes them
    np.testing.assert_array_equal(O.own_covariances([empty], 10, 1, [0]), np.zeros(5))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")  # 232 bytes a unit
    with pytest.raises(MemoryPreflightError, match="own lagged covariances of 10,000 units"):
        O.OwnCovariances(np.arange(10_000), 10, 1)

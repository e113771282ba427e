"""The units' own share of the population's lagged covariance (criticality/own_share.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import infodyn.criticality as C
from infodyn.criticality import own_share as O
from infodyn.data import SpikeTrain, save_spikes
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
    monkeypatch.setattr(R, "OWN_SHARE_MAX_CELLS", 100)  # too many cells: not computed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = R.run_criticality(train, tmp_path / "c", n_boot=20)
    assert res["branching"]["own_share"] is None


def test_mr_on_the_branching_network_is_its_m():  # the network above is what MR assumes
    raster = _branching_network()
    res = C.branching_ratio(raster[None, :, :50].sum(axis=2).astype(float), seed=0)
    assert res.meaningful and abs(res.m - 0.9) < 0.05

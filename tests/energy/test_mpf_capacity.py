"""MPF near capacity: the padded objective stays finite, abnormal stops warn, and storage of
random patterns at n = 64 matches an independent NumPy MPF (benchmarks/mpf_capacity.py runs
every M from 64 to 110; its table is in benchmarks/RESULTS.md)."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest

from infodyn.energy.codes import random_patterns, store
from infodyn.energy.fit import fit
from infodyn.energy.model import IsingModel
from infodyn.energy.objectives import make_objective, pack, prepare_data
from infodyn.energy.reference import value_and_grad


def test_padding_rows_keep_the_objective_finite_at_very_negative_fields():
    # 3 patterns -> padded to 4 rows. theta_0 = -3000 is harmless for the data (x_0 = 1 in
    # every pattern, so u_0 = +3000) but overflowed exp(-theta/2) on an all-zero padding row.
    X = np.array([[1, 0, 1], [1, 1, 0], [1, 1, 1]], dtype=np.uint8)
    w = np.ones(3)
    J = np.zeros((3, 3))
    J[1, 2] = J[2, 1] = 0.3
    p = pack(J, np.array([-3000.0, 0.2, -0.1]))
    ref_value, ref_grad = value_and_grad(p, X, w, "mpf")
    with jax.enable_x64(True):
        vg, _ = make_objective("mpf", 3, False)
        value, grad = vg(p, prepare_data("mpf", X, w, np.float64), 0.0, 0.0)
    assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
    assert float(value) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(np.asarray(grad), ref_grad, rtol=1e-12, atol=1e-300)


def test_a_non_finite_objective_warns():
    X = random_patterns(40, 6, seed=1)
    init = IsingModel(np.zeros((6, 6)), np.full(6, -3000.0))  # exp(1500) overflows
    with pytest.warns(RuntimeWarning, match="stopped abnormally"):
        fit(X, init=init, maxiter=5)


def test_storage_near_capacity_at_n64():
    # M = 64..101 are all stored (seed 0; the NumPy MPF agrees); 102..105 partly (88 of 104
    # for both); the zero-padded objective turned NaN at M = 96 and stored 61 of 104.
    expected_min = {64: 64, 90: 90, 96: 96, 101: 101, 104: 85}
    for M, lowest in expected_min.items():
        P = random_patterns(M, 64, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            model = store(P)
        assert np.isfinite(model.fit_info["objective"]), M
        assert int(model.is_fixed_point(P).sum()) >= lowest, M

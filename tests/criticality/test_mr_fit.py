"""The least-squares fit of ``r_k = b m^k (+ c)`` behind the MR estimator (``mr_fit``)."""

from __future__ import annotations

import numpy as np

import infodyn.criticality as C
from infodyn.criticality import mr_fit as F


def _rows(rng: np.random.Generator) -> np.ndarray:
    """Slopes of simulated branching processes (m 0.5-0.99, short and long trials, with
    bootstrap-like noise), pure noise, and exact exponentials."""
    rows = []
    for i, m in enumerate((0.5, 0.8, 0.9, 0.95, 0.99)):
        for t in (200, 2000):
            act = C.simulate_branching_process(m, 10.0, t, trials=5, seed=10 * i + t)
            _, r = C.regression_slopes(act, 30, "ts")
            rows += [r + rng.normal(0, s, (40, r.size)) for s in (0.0, 0.01, 0.05)]
    rows.append(rng.normal(0, 0.1, (40, 30)))
    rows.append(0.7 * np.exp(np.outer(-rng.uniform(0.01, 2.0, 40), np.arange(1, 31))))
    return np.vstack(rows)


def test_the_grid_refinement_finds_the_golden_section_minimum():
    """The secant refinement from the best grid point (with golden section where it fails)
    ends where golden section over the grid point's bracket ends, at no larger SSE."""
    rng = np.random.default_rng(0)
    r = _rows(rng)
    k = np.arange(1.0, 31.0)
    for offset, w in ((False, np.ones(30)), (True, rng.uniform(0.5, 2.0, 30))):
        x, b, c, sse = F._fit_lnm(r, k, w, offset)
        grid = F._lnm_grid(30)
        on_grid = F._profile_sse(grid, r, k, w, offset)[0]
        g = np.argmin(np.where(np.isfinite(on_grid), on_grid, np.inf), axis=1)
        golden = F._golden_lnm(grid, g, r, k, w, offset)
        s_golden = F._paired(golden, r, k, w, offset)[0]
        # golden section compares SSEs, flat at the minimum: it ends within about sqrt(eps)
        # of it (up to 3e-7 in ln m here); the secant solves S'(x) = 0, at no larger SSE
        assert np.max(np.abs(x - golden)) < 1e-6
        scale = (w * r * r).sum(axis=1)  # the SSE is ss - b u (- c v): rounded to eps of ss
        assert np.all(sse <= s_golden + 1e-12 * scale)
        s_check, b_check, c_check = F._paired(x, r, k, w, offset)
        np.testing.assert_array_equal(sse, s_check)
        np.testing.assert_array_equal(b, b_check)
        np.testing.assert_array_equal(c, c_check)
        # some rows (flat noise, an exponential at the grid's end) take the golden fallback
        local, ok = F._local_lnm(grid[g], r, k, w, offset)
        assert 0 < np.count_nonzero(~ok) < r.shape[0]

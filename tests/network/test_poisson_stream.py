"""PoissonStream: Bernoulli-per-step channels made chunk by chunk, the same whatever the chunks."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from infodyn.errors import InputError
from infodyn.network import poisson_stream
from infodyn.network.poisson_stream import PoissonStream


def _dense(x) -> np.ndarray:
    return x.toarray().astype(np.int64)


@pytest.mark.parametrize("rate_hz", [20.0, 400.0])  # the geometric and the uniform sampler
def test_any_chunking_gives_the_spikes_of_one_call(rate_hz, monkeypatch):
    monkeypatch.setattr(poisson_stream, "BLOCK_ELEMENTS", 1000)  # blocks of 25 steps
    x = PoissonStream(rate_hz, n_in=40, dt=1.0, seed=3)
    whole = x(0, 300)
    assert whole.shape == (300, 40) and whole.indices.dtype == np.int32
    for bounds in ([0, 7, 25, 26, 140, 300], [0, 1, 299, 300], [0, 100, 200, 300]):
        parts = [x(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        np.testing.assert_array_equal(_dense(sp.vstack(parts)), _dense(whole))
    np.testing.assert_array_equal(_dense(x(130, 170)), _dense(whole)[130:170])
    other = PoissonStream(rate_hz, n_in=40, dt=1.0, seed=4)(0, 300)
    assert (other != whole).nnz > 0


@pytest.mark.parametrize("rate_hz", [2.0, 50.0, 250.0, 251.0, 900.0])
def test_counts_are_binomial_and_channels_and_steps_independent(rate_hz):
    """Each channel's count over T steps is Binomial(T, p) (chi-square against it), and the
    spikes of neighbouring steps and channels are uncorrelated (Bernoulli draws, independent)."""
    n_in, n_steps = 400, 2000
    x = PoissonStream(rate_hz, n_in=n_in, dt=1.0, seed=11)
    z = _dense(x(0, n_steps))
    p = rate_hz / 1000.0
    total = z.sum()
    mean, sd = p * z.size, np.sqrt(z.size * p * (1 - p))
    assert abs(total - mean) < 4 * sd
    counts = z.sum(axis=0)
    # the channel counts against Binomial(T, p), binned into quantile bins of the binomial
    edges = np.unique(stats.binom.ppf(np.linspace(0, 1, 9)[1:-1], n_steps, p))
    observed = np.bincount(np.searchsorted(edges, counts, side="right"), minlength=edges.size + 1)
    cdf = stats.binom.cdf(np.r_[edges - 1, n_steps], n_steps, p)
    expected = np.diff(np.r_[0.0, cdf]) * n_in
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    lag1 = np.mean(z[1:] * z[:-1]) - p**2  # covariance of consecutive steps of a channel
    neighbours = np.mean(z[:, 1:] * z[:, :-1]) - p**2  # of neighbouring channels in a step
    se = p * (1 - p) / np.sqrt(z.size)
    assert abs(lag1) < 5 * se and abs(neighbours) < 5 * se


def test_geometric_gaps_cross_blocks_and_refills(monkeypatch):
    """A block whose first draw of gaps ends before the block does is refilled: no step is left
    without its draws (a block of 10^4 draws at p = 0.2 has its spikes to the last step)."""
    monkeypatch.setattr(poisson_stream, "BLOCK_ELEMENTS", 10_000)
    x = PoissonStream(200.0, n_in=100, seed=0)
    calls = []

    def half(expected):  # every draw of gaps half as long as a block needs
        calls.append(expected)
        return max(1, int(expected / 2))

    monkeypatch.setattr(poisson_stream, "_gaps_to_draw", half)
    z = _dense(x(0, 100))
    assert len(calls) >= 4  # drawn again and again, to the end of the block
    assert z[90:].sum() > 0.15 * 1000  # spikes to the end of the block


def test_no_and_all_spikes():
    assert PoissonStream(0.0, n_in=5)(0, 100).nnz == 0
    assert PoissonStream(1000.0, n_in=5)(0, 100).nnz == 500
    assert PoissonStream(10.0, n_in=5)(4, 4).shape == (0, 5)


def test_bad_arguments_are_refused():
    with pytest.raises(InputError, match="exceeds one spike per step"):
        PoissonStream(2000.0, n_in=3)
    with pytest.raises(InputError, match="one rate"):
        PoissonStream([10.0, 20.0], n_in=2)
    with pytest.raises(InputError, match="n_in"):
        PoissonStream(10.0, n_in=0)
    with pytest.raises(InputError, match="stop=3 is before start=5"):
        PoissonStream(10.0, n_in=3)(5, 3)


def test_chunk_bytes_bounds_what_a_chunk_holds():
    import tracemalloc

    x = PoissonStream(100.0, n_in=20_000, seed=1)
    tracemalloc.start()
    chunk = x(0, 1000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert chunk.nnz > 1.9e6
    assert peak <= x.chunk_bytes(1000) < 3 * peak


def test_a_tiny_rate_gives_no_spike_at_once():
    """Below p = 1e-18 NumPy's geometric gaps are 2^63 - 1: their sum wrapped negative and the
    draw looped for ever, holding more memory each round (19 GB at 1e-30 Hz)."""
    assert PoissonStream(1e-30, n_in=1000, seed=0)(0, 5000).nnz == 0


def test_a_block_is_not_the_stream_that_draws_weights_of_the_same_seed():
    """default_rng([s, 0]) is default_rng(s): block 0 of seed s drew the numbers net.init(seed=s)
    draws, so an input and weights of one seed were correlated."""
    x = PoissonStream(400.0, n_in=50, seed=3)  # the uniform sampler: one number a draw
    size = x.block_steps * 50
    same = np.flatnonzero(np.random.default_rng(3).random(size, dtype=np.float32) < 0.4)
    first = x(0, x.block_steps)
    positions = np.flatnonzero(first.toarray().ravel())
    assert not np.array_equal(positions, same)

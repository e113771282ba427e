"""Transfer entropy, AIS and entropy rate: analytic Markov chains and pyinform."""

import warnings

import numpy as np
import pyinform
import pytest
from entropy_reference import h_rows, te_reference

import infodyn.information as I
from infodyn.errors import InputError
from infodyn.information import active_information_storage, entropy_rate, transfer_entropy


def _hb(p):
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def test_transfer_entropy_of_a_noisy_copy():
    rng = np.random.default_rng(0)
    t, e = 200_000, 0.1
    x = rng.integers(0, 2, t)
    y = np.empty(t, dtype=np.int64)
    y[0] = 0
    y[1:] = x[:-1] ^ (rng.random(t - 1) < e)
    assert transfer_entropy(x, y, k=1) == pytest.approx(1 - _hb(e), abs=5e-3)
    assert transfer_entropy(y, x, k=1) == pytest.approx(0.0, abs=2e-3)
    # delay: the copy arrives after 3 steps
    y3 = np.concatenate([[0, 0], y[:-2]])
    assert transfer_entropy(x, y3, k=1, delay=3) == pytest.approx(1 - _hb(e), abs=5e-3)
    assert transfer_entropy(x, y3, k=1, delay=1) < 0.01


def test_conditional_transfer_entropy_removes_a_common_driver():
    rng = np.random.default_rng(1)
    t = 100_000
    z = rng.integers(0, 2, t)
    x, y = np.zeros(t, np.int64), np.zeros(t, np.int64)
    x[1:] = z[:-1] ^ (rng.random(t - 1) < 0.1)
    y[1:] = z[:-1] ^ (rng.random(t - 1) < 0.1)
    # X_{t-1} carries information about Z_{t-2}, which says nothing of Y_t: TE = 0 already;
    # use a lag-2 target so that Y_t depends on Z_{t-2} ~ X_{t-1}
    y2 = np.concatenate([[0], y[:-1]])
    assert transfer_entropy(x, y2, k=1) > 0.1
    assert transfer_entropy(x, y2, k=1, condition=z, condition_k=2) == pytest.approx(0, abs=3e-3)


def test_markov_chain_storage_and_entropy_rate():
    rng = np.random.default_rng(2)
    t, flip = 200_000, 0.2
    x = np.cumsum(rng.random(t) < flip) % 2  # symmetric binary Markov chain
    assert entropy_rate(x, k=1) == pytest.approx(_hb(flip), abs=5e-3)
    assert entropy_rate(x, k=3) == pytest.approx(_hb(flip), abs=5e-3)
    assert active_information_storage(x, k=1) == pytest.approx(1 - _hb(flip), abs=5e-3)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_against_pyinform_with_trials(k):
    rng = np.random.default_rng(k)
    src = rng.integers(0, 2, (6, 300))
    tgt = (np.roll(src, 1, axis=1) + rng.integers(0, 2, (6, 300))) % 3
    assert transfer_entropy(src[..., None], tgt[..., None], k=k) == pytest.approx(
        pyinform.transfer_entropy(src, tgt, k=k), abs=1e-10
    )
    assert active_information_storage(tgt[..., None], k=k) == pytest.approx(
        pyinform.active_info(tgt, k=k), abs=1e-10
    )
    assert entropy_rate(tgt[..., None], k=k) == pytest.approx(
        pyinform.entropy_rate(tgt, k=k), abs=1e-10
    )


@pytest.mark.parametrize("k,l,delay", [(1, 2, 1), (2, 2, 2), (1, 3, 1)])
def test_source_history_l_enters_te_and_local_te(k, l, delay):
    """Y copies the XOR of the source at lags delay and delay + 1: one source step alone says
    nothing about it, the history of l >= 2 steps from lag ``delay`` on says almost all."""
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.integers(0, 2, n)
    y = np.zeros_like(x)
    t = np.arange(delay + 1, n)
    y[t] = x[t - delay] ^ x[t - delay - 1] ^ (rng.random(t.size) < 0.1)
    ref = te_reference(x, y, k, l, delay)
    assert ref > 0.4  # about 1 - H(0.1) = 0.53 bits
    assert I.transfer_entropy(x, y, k=k, l=l, delay=delay) == pytest.approx(ref, abs=1e-10)
    local = I.local_transfer_entropy(x, y, k=k, l=l, delay=delay)
    assert local.shape == (1, n - max(k, delay + l - 1))
    assert local.mean() == pytest.approx(ref, abs=1e-10)


def test_entropy_rate_miller_madow_corrects_both_blocks():
    rng = np.random.default_rng(8)
    x = np.cumsum(rng.random(120) < 0.3) % 3
    k = 2
    block = np.array([[x[t - j] for j in range(k + 1)] for t in range(k, x.size)])
    ref = h_rows(block, "miller_madow") - h_rows(block[:, 1:], "miller_madow")
    assert I.entropy_rate(x, k=k, estimator="miller_madow") == pytest.approx(ref, abs=1e-12)


def test_delay_zero_is_refused():
    """delay = 0 would put X_t next to Y_t (not transfer entropy): refused like k = 0."""
    x = np.random.default_rng(9).integers(0, 2, 50)
    with pytest.raises(InputError, match="delay must be a whole number >= 1"):
        I.transfer_entropy(x, x, delay=0)
    with pytest.raises(InputError, match="delay must be a whole number >= 1"):
        I.local_transfer_entropy(x, x, delay=0)


def test_trials_of_one_variable_as_a_2d_array_are_refused():
    """(trials, steps), pyinform's layout, was read as one trial of `steps` variables: a TE of
    0 bits where pyinform (and infodyn on (trials, steps, 1)) gives 0.53."""
    rng = np.random.default_rng(4)
    src = rng.integers(0, 2, (20, 500))
    tgt = np.zeros_like(src)
    tgt[:, 1:] = src[:, :-1] ^ (rng.random((20, 499)) < 0.1)
    with pytest.raises(InputError, match=r"20 steps of 500 variables.*x\[\.\.\., None\]"):
        transfer_entropy(src, tgt)
    with pytest.raises(InputError, match="fewer steps than variables"):
        I.local_active_information_storage(tgt)
    te = transfer_entropy(src[..., None], tgt[..., None])
    assert te == pytest.approx(pyinform.transfer_entropy(src, tgt, k=1), abs=1e-10)
    assert te > 0.5
    assert transfer_entropy(src[:2].T, tgt[:2].T) > 0.5  # (steps, variables) as before


def test_too_short_series_name_the_history_that_is_too_long():
    x = np.random.default_rng(1).integers(0, 2, 200)
    for kw, what in (({"delay": 500}, "delay \\+ l - 1 = 500 of source"), ({"k": 300}, "k = 300")):
        with pytest.raises(InputError, match=f"200 steps per trial, too few for .*{what}"):
            transfer_entropy(x, np.roll(x, 1), **kw)
        with pytest.raises(InputError, match=f"too few for .*{what}"):
            I.local_transfer_entropy(x, np.roll(x, 1), **kw)
    with pytest.raises(InputError, match="too few for blocks of k = 500 steps: .* at least 500"):
        I.excess_entropy(x, k=500)


def test_block_and_excess_entropy_of_a_constant_series_are_plus_zero():
    """They came out -0.0 (the plug-in sum of 1 log 1), which prints as "-0.0" in tables; the
    estimators' entropies are never -0.0."""
    x = np.zeros((3, 50, 1), dtype=int)  # 3 trials of one variable
    for value in (I.block_entropy(x, 2), I.excess_entropy(x, 1), I.excess_entropy(x, 3)):
        assert value == 0.0 and np.copysign(1.0, value) == 1.0
        assert type(value) is float  # (np.float64 before, where the other measures give float)
    # and the values of a non-constant series are the plug-in entropies of its blocks
    y = np.random.default_rng(0).integers(0, 3, 400)
    blocks = [(y[t], y[t + 1]) for t in range(399)]
    _, counts = np.unique(np.array(blocks), axis=0, return_counts=True)
    p = counts / counts.sum()
    assert I.block_entropy(y, 2) == pytest.approx(-(p * np.log2(p)).sum(), rel=1e-12)


def test_a_2d_series_of_many_variables_and_few_steps_is_warned_about_its_layout():
    """pyinform's (trials, steps) with more trials than steps: read as 500 steps of a 20-variable
    joint state, TE came out 0 with only the undersampling warning (the layout was not said)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (500, 20))
    y = np.zeros_like(x)
    y[:, 1:] = x[:, :-1]
    with pytest.warns(
        I.UndersampledWarning, match=r"read as \(steps, variables\).*x\[\.\.\., None\]"
    ):
        transfer_entropy(x, y)
    assert transfer_entropy(x[..., None], y[..., None]) > 0.99  # the layout meant
    with warnings.catch_warnings():  # a long series of a few variables: nothing said
        warnings.simplefilter("error")
        transfer_entropy(rng.integers(0, 2, (5000, 3)), rng.integers(0, 2, (5000, 3)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, bool, np.uint8, ">i8"])
def test_every_temporal_measure_takes_symbols_of_any_numeric_dtype(dtype):
    """float16 whole numbers gave every measure with a history of two or more columns a raw
    Numba "NotImplementedError: float16" (the word packer got the floats): the same values as
    int64 symbols now, whatever the dtype (bool and >i8 too)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, 300)
    y = np.roll(x, 1) ^ (rng.random(300) < 0.2)
    xs, ys = x.astype(dtype), y.astype(dtype)
    for measure in (
        lambda a, b: transfer_entropy(a, b, k=2, l=2),
        lambda a, b: I.local_transfer_entropy(a, b, k=2).mean(),
        lambda a, b: active_information_storage(b, 2),
        lambda a, b: I.local_active_information_storage(b, 2).mean(),
        lambda a, b: entropy_rate(b, 1),
        lambda a, b: I.block_entropy(b, 2),
        lambda a, b: I.excess_entropy(b, 2),
    ):
        assert measure(xs, ys) == measure(x, y)

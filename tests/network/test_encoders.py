"""Input encoders: rate statistics, frozen/fresh draws, the Adelson-Bergen stimulus."""

import math

import numpy as np
import pytest
from scipy.signal import fftconvolve

import infodyn as idn
from infodyn import InputError
from infodyn.network.encoders import valid_convolution


def test_poisson_rate_statistics():
    x = idn.network.poisson_spikes(50.0, 20000, n_in=50, dt=1.0, seed=0)
    rate = x.mean() * 1000.0
    # binomial standard error of the pooled mean: sqrt(p(1-p)/n) * 1000 ~ 1.5 Hz
    assert abs(rate - 50.0) < 5 * 1000 * math.sqrt(0.05 * 0.95 / x.size)
    # independent steps: lag-1 autocorrelation near 0
    c = np.corrcoef(x[:-1].ravel(), x[1:].ravel())[0, 1]
    assert abs(c) < 0.01


def test_poisson_frozen_fresh_and_seeds():
    frozen = idn.network.poisson_spikes(30.0, 500, n_in=8, batch=4, frozen=True, seed=1)
    fresh = idn.network.poisson_spikes(30.0, 500, n_in=8, batch=4, frozen=False, seed=1)
    assert all(np.array_equal(frozen[0], frozen[i]) for i in range(4))
    assert not np.array_equal(fresh[0], fresh[1])
    again = idn.network.poisson_spikes(30.0, 500, n_in=8, batch=4, frozen=False, seed=1)
    np.testing.assert_array_equal(fresh, again)


def test_time_varying_rates():
    rates = np.zeros((1000, 2))
    rates[500:, 1] = 500.0
    x = idn.network.poisson_spikes(rates, 1000, seed=0)
    assert x[:, 0].sum() == 0 and x[:500, 1].sum() == 0
    assert 200 < x[500:, 1].sum() < 300


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rates=-1.0, n_steps=10, n_in=2), ">= 0"),
        (dict(rates=2000.0, n_steps=10, n_in=2), "highest rate is 2000 Hz.*at most 1000 Hz"),
        (dict(rates=300.0, n_steps=10, n_in=2, dt=4.0), "dt = 4 ms allows at most 250 Hz"),
        (dict(rates=np.nan, n_steps=10, n_in=2), "NaN"),
        (dict(rates=5.0, n_steps=10), "n_in"),
        (dict(rates=np.ones((5, 2)), n_steps=10), "rows"),
    ],
)
def test_poisson_bad_input(kwargs, match):
    with pytest.raises(InputError, match=match):
        idn.network.poisson_spikes(**kwargs)


def test_filtered_noise_too_fast_names_its_peak():
    """The refused rate is the noise's peak, not the mean_rate given: the message said "max
    rate 1193 Hz" of a mean_rate of 600, as though 1193 Hz were the limit."""
    with pytest.raises(InputError, match="at most 1000 Hz .*peak of mean_rate"):
        idn.network.filtered_noise_spikes(200, 3, mean_rate=600.0, contrast=0.5)


def test_adelson_bergen_kernel_values():
    a = 1 / 15
    tau = np.array([0.0, 15.0, 75.0, 150.0])
    d = idn.network.adelson_bergen_kernel(tau, a)
    at = a * tau
    expected = a * np.exp(-at) * (at**5 / 120 - at**7 / 5040)
    np.testing.assert_allclose(d, expected)
    assert d[0] == 0.0
    # biphasic: positive lobe then negative lobe; zero crossing where (a tau)^2 = 42
    t = np.arange(0, 600.0)
    k = idn.network.adelson_bergen_kernel(t, a)
    crossing = t[np.argmax((k[:-1] > 0) & (k[1:] <= 0))]
    assert abs(crossing - math.sqrt(42) / a) < 1.0


def test_filtered_noise_rates_and_spikes():
    r = idn.network.filtered_noise_rates(20000, 3, mean_rate=20.0, contrast=0.5, seed=2)
    assert r.shape == (20000, 3) and np.all(r >= 0)
    assert abs(r.mean() - 20.0) < 0.5
    # temporally correlated (filtered), unlike white noise
    c = np.corrcoef(r[:-5, 0], r[5:, 0])[0, 1]
    assert c > 0.5
    x = idn.network.filtered_noise_spikes(5000, 4, mean_rate=20.0, seed=3)
    assert x.shape == (5000, 4) and set(np.unique(x)) <= {0.0, 1.0}


def test_direct_current():
    x = idn.network.direct_current([0.1, 0.2], 5)
    assert x.shape == (5, 2) and np.allclose(x[:, 1], 0.2)


def test_encode_patches_on_off_rates():
    g = np.array([[0.0, 1.0, 0.5, 0.5], [0.3, 0.3, 0.3, 0.3]])
    r = idn.network.encode_patches(g, base_hz=2.0, gain_hz=60.0)
    c = (g[0] - g[0].mean()) / g[0].std()  # [-sqrt2, sqrt2, 0, 0]
    np.testing.assert_allclose(r[0, :4], 2 + 60 * np.clip(c, 0, 2) / 2)
    np.testing.assert_allclose(r[0, 4:], 2 + 60 * np.clip(-c, 0, 2) / 2)
    np.testing.assert_allclose(r[1], 2.0)  # a flat patch drives only the base rate


def test_stimulus_set_trials_are_poisson_draws_of_frozen_patterns():
    s = idn.network.StimulusSet.constant(3, 2000, 4, max_rate=40.0, seed=0)
    assert s.n_stimuli == 3 and s.n_steps == 2000 and s.n_in == 4
    x, labels = s.trials(5, seed=1)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(3), 5))
    # each trial's per-channel rate matches its pattern (binomial tolerance, 5 trials pooled)
    for k in range(3):
        rate = x[labels == k].mean(axis=(0, 1)) * 1000.0
        p = s.rates_hz[k, 0] / 1000.0
        assert np.all(np.abs(rate - s.rates_hz[k, 0]) < 5 * 1000 * np.sqrt(p * (1 - p) / 10000) + 1)
    x2, _ = s.trials(5, seed=2)
    assert not np.array_equal(x, x2)  # fresh noise, same patterns
    with pytest.raises(InputError):
        idn.network.StimulusSet.constant(1, 10, 4)


def test_a_spike_every_step_is_allowed_and_batch_must_be_positive():
    """Rate x dt = 1 is "at most one spike per step": allowed, a spike every step."""
    x = idn.network.poisson_spikes(1000.0, 10, n_in=2, dt=1.0, seed=0)
    np.testing.assert_array_equal(x, np.ones((10, 2)))
    with pytest.raises(InputError, match="batch must be"):
        idn.network.poisson_spikes(10.0, 10, n_in=2, batch=0)


def test_direct_current_beyond_float32_is_refused():
    # the float32 input became inf, then "input x contains NaN or inf values", after a warning
    with pytest.raises(InputError, match=r"amplitude must lie within \+-3.4e\+38 .*got -1e\+308"):
        idn.network.direct_current(-1e308, 5, n_in=2)


def test_direct_current_needs_n_in_for_a_scalar():
    with pytest.raises(InputError, match="n_in"):
        idn.network.direct_current(0.5, 4)


def test_filtered_noise_contrast_kernel_span_and_shared_signal():
    """Without clipping (contrast .2, s normalised to unit variance) the rates have mean
    mean_rate / g and standard deviation mean_rate x contrast / g exactly, g = 1 + 1.07e-8 the
    rectified mean of a Gaussian's (its clipping past 5 SDs); shared=True gives one signal in
    every channel."""
    r = idn.network.filtered_noise_rates(5000, 3, mean_rate=20.0, contrast=0.2, seed=1)
    assert r.min() > 0
    g = 1.0 + 1.0692e-8
    np.testing.assert_allclose(r.mean(axis=0), 20.0 / g, rtol=1e-12)
    np.testing.assert_allclose(r.std(axis=0), 4.0 / g, rtol=1e-10)  # (std + 1e-12)
    # the shortest kernel that resolves a and holds 99 % of its energy: 14 steps at a dt = 1
    assert idn.network.filtered_noise_rates(50, 2, a=1.0, kernel_ms=14.0).shape == (50, 2)
    shared = idn.network.filtered_noise_rates(500, 3, shared=True, seed=2)
    assert shared.shape == (500, 3)
    np.testing.assert_array_equal(shared, np.repeat(shared[:, :1], 3, axis=1))
    assert np.ptp(shared[:, 0]) > 0


def test_filtered_noise_kernel_is_in_ms_at_any_dt():
    """At dt = 0.5 ms the autocorrelation at a 40 ms lag is that of D(tau) sampled in ms:
    sum_k D(k) D(k + 40 ms) / sum_k D(k)^2 = 0.259 (0.76 if the kernel were read in steps)."""
    k = idn.network.adelson_bergen_kernel(np.arange(0.0, 300.0, 0.5))
    lag = 80  # steps of 0.5 ms
    theory = (k[:-lag] * k[lag:]).sum() / (k * k).sum()
    r = idn.network.filtered_noise_rates(40000, 4, dt=0.5, contrast=0.1, seed=0)
    sample = np.mean([np.corrcoef(r[:-lag, i], r[lag:, i])[0, 1] for i in range(4)])
    assert abs(sample - theory) < 0.05


def test_encode_patches_saturates_at_two_standard_deviations():
    g = np.array([[0.0] * 8 + [1.0]])  # the bright pixel is sqrt(8) = 2.83 SD above the mean
    r = idn.network.encode_patches(g, base_hz=2.0, gain_hz=60.0)
    assert r[0, 8] == pytest.approx(62.0)  # base + gain: saturated
    assert r[0, 9 + 8] == pytest.approx(2.0)


def test_stimulus_set_filtered_noise_patterns_are_distinct_and_keep_dt():
    s = idn.network.StimulusSet.filtered_noise(3, 400, 2, dt=0.5, seed=4)
    assert s.dt == 0.5
    for k in range(3):
        np.testing.assert_array_equal(
            s.rates_hz[k],
            idn.network.filtered_noise_rates(
                400, 2, dt=0.5, contrast=1.0,
                seed=np.random.default_rng(np.random.SeedSequence(4, spawn_key=(k,))),
            ),
        )  # fmt: skip
    assert not np.array_equal(s.rates_hz[0], s.rates_hz[1])
    # pattern k of seed s was seeded s * 1000 + k: set 1's first pattern was set 0's 1001st
    big = idn.network.StimulusSet.filtered_noise(1001, 20, 2, seed=0).rates_hz[1000]
    assert not np.array_equal(
        big, idn.network.StimulusSet.filtered_noise(2, 20, 2, seed=1).rates_hz[0]
    )
    # nor is pattern 0 the stream of the seed itself (net.init(seed=s) draws its weights from
    # it): the pair [s, 0] seeds as s does
    same = idn.network.filtered_noise_rates(400, 2, 0.5, contrast=1.0, seed=4)
    assert not np.array_equal(s.rates_hz[0], same)


def test_stimulus_set_trials_use_its_dt():
    """400 Hz at dt = 0.5 ms: a spike probability of 0.2 per step."""
    s = idn.network.StimulusSet(np.full((2, 5000, 4), 400.0), dt=0.5)
    x, _ = s.trials(2, seed=0)
    assert x.mean() == pytest.approx(0.2, abs=0.01)  # SE sqrt(.16/80000) = 0.0014


def test_poisson_spikes_too_large_are_refused_before_drawing(monkeypatch):
    """The README's encoder at 10^5 inputs for 10^6 steps raised numpy's MemoryError (745 GiB)."""
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    with pytest.raises(MemoryPreflightError) as err:
        idn.network.poisson_spikes(50.0, 10**6, n_in=10**5, seed=1)
    assert str(err.value).startswith(
        "Poisson spike trains of 1,000,000 x 100,000 (dense float32) needs 1.91 TiB but 1 MiB "
        "is free under INFODYN_MEMORY_LIMIT; for long runs of many inputs give simulate_to_file "
        "or simulate_spikes a function x(start, stop)"
    )  # 10^11 cells x (8 uniform + 1 mask + 4 result + 8 probability) bytes
    # fresh draws per entry: 10^4 cells x 13 B x 20 = 2.48 MiB
    with pytest.raises(
        MemoryPreflightError, match=r"10 x batch 20 \(dense float32\) needs 2.48 MiB"
    ):
        idn.network.poisson_spikes(np.full(10, 10.0), 1000, batch=20, frozen=False)
    # one frozen draw (13 B a cell) and its 21 float32 copies: 10^4 x (13 + 84) B = 947 KiB,
    # over 90 % of 1 MiB (921.6 KiB)
    with pytest.raises(MemoryPreflightError, match=r"needs 947 KiB but 1 MiB is free"):
        idn.network.poisson_spikes(np.full(10, 10.0), 1000, batch=21, frozen=True)
    assert idn.network.poisson_spikes(np.full(10, 10.0), 1000, batch=5).shape == (5, 1000, 10)


@pytest.mark.parametrize("n_in", [0, -3, 2.5, True])
def test_poisson_spikes_refuses_a_bad_n_in(n_in):
    with pytest.raises(InputError, match="n_in"):
        idn.network.poisson_spikes(50.0, 100, n_in=n_in)


def test_poisson_spikes_refuses_rates_of_three_dimensions():
    with pytest.raises(InputError, match=r"rates must be a scalar, \(n_in,\) or \(n_steps, n_in\)"):
        idn.network.poisson_spikes(np.full((3, 50, 4), 10.0), 100)


@pytest.mark.parametrize(
    "steps, taps, channels", [(1000, 300, 5), (1031, 17, 3), (64, 64, 2), (2, 2, 1)]
)
def test_valid_convolution_is_scipys_fftconvolve_bitwise(steps, taps, channels):
    """The filtered-noise stimulus kept its numbers when ``scipy.signal`` (0.7 s of every
    command's start-up) gave way to the same real FFTs: SciPy's own convolution is the
    reference, to the bit, including the kernel as long as the signal (one output row)."""
    rng = np.random.default_rng(steps)
    x, k = rng.standard_normal((steps, channels)), rng.standard_normal(taps)
    expected = fftconvolve(x, k[:, None], mode="valid", axes=0)
    got = valid_convolution(x, k)
    assert got.shape == expected.shape == (steps - taps + 1, channels)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "tau, a, message",
    [
        ([0.0, 1.0], float("nan"), "a must be a finite rate"),
        ([0.0, 1.0], 0.0, "a must be a finite rate"),
        ([0.0, 1.0], -1.0, "a must be a finite rate"),
        ([0.0, 1.0], np.inf, "a must be a finite rate"),
        ([-1.0, 2.0], 0.1, "tau must hold finite lags"),
        ([np.nan], 0.1, "tau must hold finite lags"),
        ([], 0.1, "tau must be non-empty"),
        ("x", 0.1, "tau must be non-empty"),
    ],
)
def test_the_adelson_bergen_kernel_checks_its_lags_and_rate(tau, a, message):
    """Each returned an array (NaN, or plausible numbers for a negative rate), and
    filtered_noise_rates(a=nan) all-NaN rates."""
    with pytest.raises(InputError, match=message):
        idn.network.adelson_bergen_kernel(tau, a)
    if not isinstance(tau, str) and len(tau) == 2 and tau[0] == 0.0:
        with pytest.raises(InputError, match=message):
            idn.network.filtered_noise_rates(20, 3, a=a)


@pytest.mark.parametrize("contrast", [0.5, 1.0, 2.0])
def test_filtered_noise_mean_rate_is_the_mean_rate(contrast):
    """The rate was mean_rate max(0, 1 + c s): the rectification raised its mean to 21.7 Hz of
    a mean_rate of 20 at contrast 1 (27.9 at contrast 2). The expected factor, integrated
    over s ~ N(0, 1) where 1 + c s > 0, is divided out; the sample mean of 40,000 steps x 8
    channels of noise correlated over about 100 ms lies within a few per cent of it."""
    from scipy.integrate import quad

    density = lambda s: (1 + contrast * s) * np.exp(-s * s / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    g = quad(density, -1 / contrast, np.inf)[0]
    assert idn.network.encoders.rectified_mean(contrast) == pytest.approx(g, rel=1e-9)
    r = idn.network.filtered_noise_rates(40_000, 8, mean_rate=20.0, contrast=contrast, seed=5)
    assert r.mean() == pytest.approx(20.0, rel=0.03)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"a": 100.0}, "peak at 0.039 ms, under four steps"),  # a kernel of 1e-32: constant
        ({"a": 10.0}, "not resolved"),  # "10 ms" read as a rate: a few taps of white noise
        ({"a": 1e-4}, "cuts the kernel"),  # a t^5 ramp, not biphasic
        ({"a": 1 / 15, "kernel_ms": 200.0}, "kernel_ms >= 201"),  # about 1.04 % past 200 ms
    ],
)
def test_filtered_noise_refuses_a_kernel_the_steps_miss_or_the_span_cuts(kwargs, match):
    with pytest.raises(InputError, match=match):
        idn.network.filtered_noise_rates(200, 2, **kwargs)

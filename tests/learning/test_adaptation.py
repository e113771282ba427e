"""LIF threshold and input-gain homeostasis (the LIF analogue of intrinsic plasticity)."""

import warnings

import numpy as np
import pytest

import infodyn as idn
from infodyn.errors import InputError
from infodyn.learning.adaptation import (
    LIFAdaptationConfig,
    adapt_lif,
    adapted_input,
    adapted_network,
    count_distribution_kl,
    init_lif_adaptation,
    lif_adaptation_update,
    max_count,
    max_entropy_fano,
    window_counts,
)
from infodyn.network import LIF, filtered_noise_spikes


# ----------------------------------------------------------------- LIF analogue
def _reference_lif_with_thresholds(net, params, x, theta, in_factor=1.0, rest=False):
    """Independent NumPy LIF with per-unit threshold theta*v_th and reset v_th, started at the
    value v0 = v_th (theta - 1) that the bias realisation implies without the network
    (module docstring), or at rest; the input current is ``in_factor * x w_in``."""
    n_t = x.shape[0]
    v = np.zeros(net.n_rec) if rest else net.v_th * (theta - 1.0)
    z = np.zeros(net.n_rec)
    out = np.zeros((n_t, net.n_rec))
    for t in range(n_t):
        inp = in_factor * (x[t] @ params["w_in"])
        v = net.alpha * v + z @ params["w_rec"] + inp - net.v_th * z
        z = (v > theta * net.v_th).astype(float)
        out[t] = z
    return out


def test_threshold_as_bias_current_is_exact():
    net = LIF(n_in=30, n_rec=12, n_out=1, rec_scale=0.3, in_scale=3.0)
    params = net.init(seed=4)
    x = filtered_noise_spikes(600, 30, mean_rate=30, contrast=0.8, seed=5).astype(np.float64)
    state = init_lif_adaptation(net.n_rec)
    state["theta"] = np.linspace(0.6, 1.8, net.n_rec)
    net_a, params_a = adapted_network(net, params, state)
    z = net_a.simulate(params_a, adapted_input(x), engine="jax", precision="float64").z
    ref = _reference_lif_with_thresholds(net, params, x, state["theta"])
    assert ref.sum() > 50 and len(set(ref.sum(axis=0))) > 3  # active, thresholds matter
    np.testing.assert_array_equal(z, ref)
    # with the network, the bias channel's first step starts the membrane at rest
    z = net_a.simulate(params_a, adapted_input(x, net), engine="jax", precision="float64").z
    rest = _reference_lif_with_thresholds(net, params, x, state["theta"], rest=True)
    np.testing.assert_array_equal(z, rest)
    assert not np.array_equal(rest[:30], ref[:30])  # the start differs: the test can tell


def test_a_silent_unit_below_a_small_target_lowers_its_threshold():
    """A 2 Hz target over 100-step chunks is 0.04 spikes a 20-ms window, below the floor of half
    a spike a chunk (0.1): a silent unit's threshold rose and the whole network fell silent."""
    z = np.zeros((100, 2))
    z[[10, 50, 90], 1] = 1.0  # unit 0 silent, unit 1 at 30 Hz
    cfg = LIFAdaptationConfig(target_rate_hz=2.0, rule="rate")
    new = lif_adaptation_update(init_lif_adaptation(2), z, 1.0, cfg)
    assert new["theta"][0] < 1.0 < new["theta"][1]


def test_the_gain_rule_reads_the_unbiased_variance_of_a_chunk():
    """Counts 0, 2, 0, 2, 0 in five windows: the variance is 1.2 (ddof 1), not 0.96."""
    z = np.zeros((100, 1))
    for k in (1, 3):
        z[20 * k : 20 * k + 2, 0] = 1.0
    cfg = LIFAdaptationConfig(target_rate_hz=40.0, rule="max_entropy", smoothing=1.0)
    new = lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)
    assert new["count_var"][0] == pytest.approx(1.2) and new["count_mean"][0] == pytest.approx(0.8)
    one = lif_adaptation_update(init_lif_adaptation(1), z[:20], 1.0, cfg)  # one window
    assert np.isnan(one["count_var"][0]) and one["gain"][0] == 1.0


def test_lif_update_is_pure_and_moves_threshold_toward_target():
    state = init_lif_adaptation(3)
    z = np.zeros((1000, 3))
    z[::10, 0] = 1  # 100 Hz, above target
    z[::100, 1] = 1  # 10 Hz, at target
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0)
    new = lif_adaptation_update(state, z, 1.0, cfg)
    assert np.all(state["theta"] == 1.0)  # input untouched
    assert new["theta"][0] > 1.0 and abs(new["theta"][1] - 1.0) < 1e-12 and new["theta"][2] < 1.0
    with pytest.raises(InputError, match="units"):
        lif_adaptation_update(state, np.zeros((100, 4)), 1.0, cfg)


def test_lif_max_entropy_adaptation_reaches_rate_and_geometric_counts():
    net = LIF(n_in=50, n_rec=20, n_out=1, rec_scale=0.5, in_scale=3.0)
    params = net.init(seed=0)

    def inputs(k):
        return filtered_noise_spikes(2000, 50, mean_rate=20, contrast=0.8, seed=100 + k)

    test_x = adapted_input(inputs(999))
    kls = {}
    for rule in ("rate", "max_entropy"):
        cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0, rule=rule)
        res = adapt_lif(net, params, inputs, 40, cfg)
        net_a, params_a = adapted_network(net, params, res.state)
        counts = window_counts(net_a.simulate(params_a, test_x, engine="jax").z, 20)
        rate = counts.mean() * 1000 / 20
        assert abs(rate - 10.0) / 10.0 < 0.2, (rule, rate)
        kls[rule] = float(np.mean(count_distribution_kl(counts)))
        if rule == "max_entropy":
            m = counts.mean(axis=0)
            fano = np.mean(counts.var(axis=0)[m > 0] / m[m > 0])
            assert abs(fano - res.fano_target) / res.fano_target < 0.15
    # shaping the spread brings the count law closer to the maximum-entropy (geometric) one
    assert kls["max_entropy"] < 0.6 * kls["rate"]


def test_count_kl_is_zero_for_geometric_counts():
    rng = np.random.default_rng(0)
    c = rng.geometric(1 / 3, size=(400_000, 1)) - 1  # mean 2
    assert count_distribution_kl(c)[0] < 1e-3
    assert count_distribution_kl(rng.poisson(2.0, size=(100_000, 1)))[0] > 0.1


def test_threshold_bias_is_exact_with_scaled_input():
    """With input_scaling='one_minus_alpha' the input current is (1 - alpha) x w_in: the bias
    channel must still move the threshold to theta v_th exactly."""
    net = idn.network.LIF(
        n_in=20, n_rec=8, n_out=1, rec_scale=0.3, in_scale=3.0, input_scaling="one_minus_alpha"
    )
    assert net.input_scale != 1.0
    params = net.init(seed=2)
    params = {**params, "w_in": np.asarray(params["w_in"]) * 8.0}  # enough drive to spike
    x = idn.network.filtered_noise_spikes(500, 20, mean_rate=40, contrast=0.8, seed=3)
    x = x.astype(np.float64)
    theta = np.linspace(0.6, 1.6, net.n_rec)
    state = {**init_lif_adaptation(net.n_rec), "theta": theta}
    net_a, params_a = adapted_network(net, params, state)
    z = net_a.simulate(params_a, adapted_input(x), engine="jax", precision="float64").z
    ref = _reference_lif_with_thresholds(net, params, x, theta, in_factor=1.0 - net.alpha)
    assert ref.sum() > 30 and len(set(ref.sum(axis=0))) > 2
    np.testing.assert_array_equal(z, ref)


def test_running_moments_weight_the_newest_chunk_by_smoothing():
    """m <- (1 - s) m + s m_new with s = 0.2 (an asymmetric s: 0.5 cannot tell the roles)."""
    cfg = LIFAdaptationConfig(smoothing=0.2, window_ms=20.0)
    z1, z2 = np.zeros((1000, 2)), np.zeros((1000, 2))
    z1[::10, 0] = 1  # 2 spikes per window
    z2[::5, 0] = 1  # 4 spikes per window
    z2[::20, 1] = 1  # 1 spike per window
    s1 = lif_adaptation_update(init_lif_adaptation(2), z1, 1.0, cfg)
    s2 = lif_adaptation_update(s1, z2, 1.0, cfg)
    assert s2["count_mean"][0] == pytest.approx(0.8 * 2.0 + 0.2 * 4.0, rel=1e-12)
    assert s2["count_mean"][1] == pytest.approx(0.8 * 0.0 + 0.2 * 1.0, rel=1e-12)
    z3 = np.zeros((1000, 2))
    z3[:20:2, 0] = 1  # window 0 holds 10 spikes, the other 49 none
    c = np.zeros(50)
    c[0] = 10.0
    s3 = lif_adaptation_update(s2, z3, 1.0, cfg)
    assert s3["count_var"][0] == pytest.approx(
        0.8 * s2["count_var"][0] + 0.2 * c.var(ddof=1), rel=1e-12
    )


def test_target_count_uses_the_step_in_ms():
    """At dt = 0.5 ms a 20-ms window is 40 steps; a unit firing at exactly the target rate
    (10 Hz: one spike per 100 ms = 200 steps, 0.2 per window) keeps its threshold."""
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0, rule="rate", eta_theta=0.1)
    z = np.zeros((4000, 2))
    z[::200, 0] = 1  # 10 Hz at dt = 0.5
    z[::100, 1] = 1  # 20 Hz
    new = lif_adaptation_update(init_lif_adaptation(2), z, 0.5, cfg)
    assert new["count_mean"][0] == pytest.approx(0.2, rel=1e-12)
    assert new["theta"][0] == pytest.approx(1.0, abs=1e-12)
    assert new["theta"][1] == pytest.approx(1.0 + 0.1 * (20.0 / 10.0 - 1.0), rel=1e-12)


def test_each_step_is_clipped_to_max_step():
    """100 Hz against a 10 Hz target: eta (100 - 10) / 10 = 2.7 per update is cut to max_step = 0.25
    on theta; a Fano factor 0 against F* = 1.2 asks for 0.5 eta log(F*/floor) > 0.25 on log g."""
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0)
    z = np.zeros((1000, 1))
    z[::10, 0] = 1  # exactly 2 spikes per window: variance 0
    new = lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)
    assert new["theta"][0] == pytest.approx(1.25, rel=1e-12)
    assert new["gain"][0] == 1.0  # the rate is far off (theta clipped): the gain waits
    cfg = LIFAdaptationConfig(target_rate_hz=100.0, window_ms=20.0)  # the rate on target
    new = lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)
    assert new["theta"][0] == pytest.approx(1.0, abs=1e-12)
    assert new["gain"][0] == pytest.approx(np.exp(0.25), rel=1e-12)


def test_threshold_stays_in_theta_range():
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, window_ms=20.0, theta_range=(0.5, 1.1))
    z = np.zeros((1000, 2))
    z[::10, 0] = 1  # far above the target: theta would rise to 1.25
    new = lif_adaptation_update(init_lif_adaptation(2), z, 1.0, cfg)  # unit 1 silent: 0.75
    np.testing.assert_allclose(new["theta"], [1.1, 0.75], rtol=1e-12)


def test_adapt_lif_reports_rates_in_hz_at_any_step():
    """The first update runs the unadapted network (theta = g = 1): its reported rate is the
    spike count of the plain network divided by the time in seconds (dt = 0.5 ms)."""
    net = idn.network.LIF(n_in=20, n_rec=6, n_out=1, in_scale=3.0, dt=0.5)
    params = net.init(seed=1)
    x = idn.network.filtered_noise_spikes(400, 20, mean_rate=40, contrast=0.5, seed=2)
    res = adapt_lif(net, params, x, 1, LIFAdaptationConfig(window_ms=20.0), precision="float64")
    z = net.simulate(params, x, engine="jax", precision="float64").z
    assert z.sum() > 0
    assert res.rate_hz[0] == pytest.approx(z.sum() / (net.n_rec * 400 * 0.5e-3), rel=1e-9)


def test_adaptation_settings_are_checked():
    with pytest.raises(InputError, match="smoothing"):
        LIFAdaptationConfig(smoothing=0.0)  # would freeze the moments at their first value
    with pytest.raises(InputError, match="gain_range"):
        LIFAdaptationConfig(gain_range=(0.0, 5.0))  # a zero gain silences the input
    with pytest.raises(InputError, match="at least one window"):
        window_counts(np.zeros((10, 2)), 20)


_NET5 = LIF(n_in=5, n_rec=4)


def _update_with(**state):
    """One adaptation step of 3 units from a state with ``state``'s entries replaced."""
    return lif_adaptation_update(
        {**init_lif_adaptation(3), **state}, np.zeros((100, 3)), 1.0, LIFAdaptationConfig()
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: count_distribution_kl(np.full((4, 2), 0.5)), "whole spike counts"),  # KL 0
        (lambda: count_distribution_kl(np.full((4, 2), np.nan)), "NaN or inf"),  # KL inf
        (lambda: window_counts(np.zeros((40, 3)), 0), "window_steps must be a whole number"),
        (
            lambda: lif_adaptation_update(
                init_lif_adaptation(3), np.zeros((40, 3)), 0.0, LIFAdaptationConfig()
            ),
            "dt must be a positive step",
        ),
        (lambda: LIFAdaptationConfig(target_rate_hz=float("inf")), "target_rate_hz must be a"),
        # raw ValueError, TypeError and UFuncTypeError from NumPy
        (lambda: _update_with(theta=np.array(["a"] * 3)), "theta must hold numbers, got <U1"),
        (lambda: _update_with(count_var=np.array(["a"] * 3)), "count_var must hold numbers"),
        (lambda: _update_with(n_updates="x"), "n_updates must be a whole number >= 0, got 'x'"),
        # a negative gain flipped every input weight; inf and negative moments were carried
        (lambda: _update_with(gain=-np.ones(3)), "gain must be > 0"),
        (lambda: _update_with(gain=np.zeros(3)), "gain must be > 0"),
        (lambda: _update_with(count_mean=np.array([np.inf, 1, 1])), "count_mean must be >= 0"),
        (lambda: _update_with(count_var=-np.ones(3)), "count_var must be >= 0"),
        # (1, 3): "state is for 1 units, spikes have 3"
        (
            lambda: _update_with(
                theta=np.ones((1, 3)),
                gain=np.ones((1, 3)),
                count_mean=np.full((1, 3), np.nan),
                count_var=np.full((1, 3), np.nan),
            ),
            "one value per unit",
        ),
        (lambda: adapted_input(np.full((3, 5), np.nan), _NET5), "NaN or inf"),
        # "x has 7 channels but the network has n_in=6" for 6 channels into n_in = 5: the
        # bias channel counted and the adapted network's n_in named
        (
            lambda: adapt_lif(_NET5, _NET5.init(), np.zeros((50, 6)), 1),
            "input x has 6 channels but the network has n_in=5",
        ),
    ],
)
def test_adaptation_inputs_are_checked(call, message):
    """Each was a ZeroDivisionError, a count of 0.5 read as a perfect fit (KL 0), or an
    infinite target rate accepted (theta pushed down by max_step every update)."""
    with pytest.raises(InputError, match=message):
        call()


def test_max_entropy_adaptation_leaves_no_unit_saturated():
    """A unit far above its target fires regularly: its low Fano factor raised the gain faster
    than the threshold could follow, up to the clip bounds; 3 of 100 units at 334 Hz held the
    population of a 10 Hz target at 19.4 Hz (learning.md's network)."""
    from infodyn.learning.adaptation import adapt_lif
    from infodyn.learning.tasks import PatternGeneration

    net = LIF(n_in=100, n_rec=100, n_out=1, tau_m=30.0, v_th=0.03, n_ref=2)
    cfg = LIFAdaptationConfig(target_rate_hz=10.0)  # rule="max_entropy"
    r = adapt_lif(net, net.init(seed=0), PatternGeneration().x, 150, cfg)
    assert abs(r.rate_hz[-1] - 10.0) < 1.0, r.rate_hz[-1]
    assert np.max(r.state["gain"]) < cfg.gain_range[1]  # none pushed to the gain's bound


def test_adapted_input_of_no_step_is_refused_in_one_line():
    net = LIF(n_in=3, n_rec=4)
    with pytest.raises(InputError, match="x has no step"):
        adapted_input(np.zeros((0, 3)), net)


def test_the_threshold_step_is_the_relative_rate_error():
    """theta += eta_theta (m - m*) / m*: 15 Hz against 10 Hz in 20-ms windows is 0.3 / 0.2 - 1."""
    z = np.zeros((1000, 1))
    z[::200, 0] = 1  # 5 spikes in 1 s: 0.1 a window
    z[100::200, 0] = 1  # and 5 more: 0.2 a window, 10 Hz
    z[50::100, 0] = 1  # and 10 more: 0.4 a window, 20 Hz
    cfg = LIFAdaptationConfig(target_rate_hz=15.0, rule="rate", smoothing=1.0, eta_theta=0.1)
    new = lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)
    assert new["theta"][0] == pytest.approx(1.0 + 0.1 * (0.4 / 0.3 - 1.0), rel=1e-12)


def test_the_threshold_step_is_unbiased_at_the_target_on_short_chunks():
    """Chunks of 200 steps at exactly the 10 Hz target (2 spikes a unit): the mean threshold
    step is 0. With log(m / m*) it was below 0 (Jensen: the mean of the log is below the log of
    the mean), and the rate settled 10-40 % above the target."""
    rng = np.random.default_rng(3)
    cfg = LIFAdaptationConfig(target_rate_hz=10.0, rule="rate", smoothing=1.0, eta_theta=0.01)
    z = (rng.random((200, 4000)) < 0.01).astype(float)  # 4000 units, each one chunk
    steps = lif_adaptation_update(init_lif_adaptation(4000), z, 1.0, cfg)["theta"] - 1.0
    se = steps.std() / np.sqrt(steps.size)
    assert abs(steps.mean()) < 3 * se  # the log rule: about -11 se


def test_adapt_lif_holds_a_10_hz_target_on_short_chunks():
    """30 units, fresh 200-ms chunks of filtered noise (2 spikes a unit at the target): the
    log rule held 11.4 Hz over updates 100-200 (smoothing 0.5); the relative error holds
    10.0 Hz with smoothing 0.2."""
    net = LIF(n_in=50, n_rec=30, n_out=1, rec_scale=0.5, in_scale=3.0)
    params = net.init(seed=0)

    def inputs(k):
        return filtered_noise_spikes(200, 50, mean_rate=20, contrast=0.8, seed=100 + k)

    cfg = LIFAdaptationConfig(target_rate_hz=10.0, rule="rate", smoothing=0.2)
    rates = adapt_lif(net, params, inputs, 200, cfg).rate_hz
    assert np.mean(rates[100:]) == pytest.approx(10.0, rel=0.03)


def test_a_target_beyond_the_refractory_limit_is_refused():
    """n_ref = 10 at dt = 1 ms allows at most 1000 / 11 = 90.9 Hz: a 150 Hz target drove every
    threshold to its lower bound and the rate stayed at 81 Hz, unsaid."""
    from infodyn.learning.hooks import lif_adaptation_hook

    net = LIF(n_in=5, n_rec=4, n_out=1, n_ref=10)
    cfg = LIFAdaptationConfig(target_rate_hz=150.0, rule="rate")
    with pytest.raises(InputError, match=r"out of reach.*n_ref=10.*90.91 Hz"):
        adapt_lif(net, net.init(seed=0), np.zeros((50, 5)), 1, cfg)
    with pytest.raises(InputError, match="out of reach"):
        lif_adaptation_hook(cfg).init(net, net.init(seed=0))
    adapt_lif(net, net.init(seed=0), np.zeros((50, 5)), 1, LIFAdaptationConfig(target_rate_hz=90.0))


def test_the_gain_waits_while_the_rate_is_far_below_the_target():
    """The relative error never falls below -1, so its clip stopped marking a rate far below
    the target: at 30 % of a 50 Hz target the gain rose (1.16) where the log rule's band, m
    within exp(+-max_step/eta_theta) of m*, keeps it (0.43-2.3 m* at the defaults)."""
    z = np.zeros((400, 1))
    z[::67, 0] = 1  # 6 spikes in 400 ms: 15 Hz, 30 % of the target
    cfg = LIFAdaptationConfig(target_rate_hz=50.0, window_ms=20.0, smoothing=1.0)
    assert lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)["gain"][0] == 1.0
    z = np.zeros((400, 1))
    z[::25, 0] = 1  # 16 spikes in 400 ms: 40 Hz, within reach
    assert lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)["gain"][0] != 1.0


def test_the_max_entropy_fano_target_is_the_truncated_geometric_law():
    """A count that a window caps at ``top`` spikes has the maximum-entropy law ``P(n) ~ q^n``
    on ``{0, ..., top}``: its Fano factor, from a brute-force solve of q here, and 1 + m where
    the cap takes no mass (the geometric law's, exactly)."""
    from scipy.optimize import brentq

    from infodyn.learning.adaptation import max_count, max_entropy_fano

    def by_hand(m, top):
        n = np.arange(top + 1.0)

        def law(log_q):
            p = np.exp(n * log_q - max(0.0, top * log_q))
            return p / p.sum()

        log_q = brentq(lambda t: law(t) @ n - m, -40.0, 40.0, xtol=1e-15, rtol=1e-15)
        p = law(log_q)
        return (p @ (n - m) ** 2) / m

    for m, top in ((1.2, 4), (0.8, 2), (3.0, 5), (0.5, 1), (2.0, 30)):
        assert max_entropy_fano(m, top) == pytest.approx(by_hand(m, top), rel=1e-9)
    assert max_entropy_fano(0.2, 20) == 1.2  # the old target where nothing caps the count
    assert max_entropy_fano(500.0, 1000) == pytest.approx(1002 / 6, rel=1e-9)  # q = 1: uniform
    for m, top in ((3.9999, 4), (99.9, 100)):  # near the top: the mirrored law's variance
        assert max_entropy_fano(m, top) == pytest.approx(by_hand(m, top), rel=1e-9)
    assert max_entropy_fano(10**9 - 0.25, 10**9) == pytest.approx(0.25 * 1.25 / 10**9)
    assert max_entropy_fano(0.0, 4) == 1.0 and max_entropy_fano(4.0, 4) == 0.0
    assert (max_count(20, 0), max_count(20, 4), max_count(20, 10), max_count(21, 4)) == (
        20,
        4,
        2,
        5,
    )


def test_max_entropy_adaptation_reaches_a_rate_that_a_refractory_period_caps():
    """n_ref = 4 caps a 20-ms window at 4 spikes: the geometric law's Fano factor 1 + m* = 2.2
    at 60 Hz (1.2 spikes a window) was out of any count's reach; the gains rose to their bound
    and the rate stayed at 84 Hz. The target is the law on {0..4} (F* = 1.33)."""
    x = filtered_noise_spikes(1000, 40, mean_rate=20, contrast=0.8, seed=2)
    net = LIF(n_in=40, n_rec=10, n_out=1, in_scale=3.0, n_ref=4)
    r = adapt_lif(net, net.init(seed=0), x, 150, LIFAdaptationConfig(target_rate_hz=60.0))
    assert r.fano_target == pytest.approx(1.3276, abs=1e-4)
    assert np.mean(r.rate_hz[-20:]) == pytest.approx(60.0, rel=0.08), r.rate_hz[-20:]
    assert np.max(r.state["gain"]) < 20.0, r.state["gain"]


def test_a_gain_is_not_raised_against_a_pinned_threshold():
    """A unit whose threshold sits at its upper bound: raising its gain raises a rate no
    threshold can bring back down."""
    z = np.zeros((400, 1))
    z[::25, 0] = 1  # 40 Hz for 50: within reach, counts regular (F < F*): the gain would rise
    cfg = LIFAdaptationConfig(target_rate_hz=50.0, smoothing=1.0)
    free = lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)
    assert free["gain"][0] > 1.0
    pinned = {**init_lif_adaptation(1), "theta": np.array([cfg.theta_range[1]])}
    z_high = np.zeros((400, 1))
    z_high[::16, 0] = 1  # 62.5 Hz for 50: the threshold would rise, but it is at its bound
    assert lif_adaptation_update(pinned, z_high, 1.0, cfg)["gain"][0] == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # a raw ZeroDivisionError, 2.7 read as 2, -10 spikes a window, NaN read as 0
        (lambda: _update_with_n_ref(-1), "n_ref must be a whole number >= 0"),
        (lambda: _update_with_n_ref(2.7), "n_ref must be a whole number >= 0"),
        (lambda: max_count(20, -3), "n_ref must be a whole number >= 0"),
        (lambda: max_entropy_fano(np.nan, 4), "mean must be a finite number"),
        (lambda: max_entropy_fano(1.0, None), "top must be a whole number"),
        (lambda: max_entropy_fano(5.0, 4), "exceeds the most a window holds"),
        (lambda: max_entropy_fano(5e8, 10**9), "not solved beyond 100,000"),  # 7.5 GiB tried
        # 500 Hz with n_ref = 4 at dt = 1 ms: 10 spikes a window of at most 4 (F* = 0, log 0)
        (lambda: _update_with_n_ref(4, rate=500.0), r"n_ref=4 steps of 1 ms allows at most 200 Hz"),
    ],
)
def test_the_refractory_cap_inputs_are_checked(call, message):
    with pytest.raises(InputError, match=message):
        call()


def _update_with_n_ref(n_ref, rate=10.0):
    z = np.zeros((100, 3))
    return lif_adaptation_update(
        init_lif_adaptation(3), z, 1.0, LIFAdaptationConfig(target_rate_hz=rate), n_ref=n_ref
    )


def test_a_target_at_the_refractory_cap_leaves_the_gain_alone():
    """200 Hz with n_ref = 4: every window full, F* = 0, no spread to shape. log(0) warned every
    update and drove the gain down by max_step each time."""
    z = np.zeros((400, 2))
    z[::5] = 1  # 200 Hz: at the cap
    cfg = LIFAdaptationConfig(target_rate_hz=200.0, smoothing=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = lif_adaptation_update(init_lif_adaptation(2), z, 1.0, cfg, n_ref=4)
    assert np.array_equal(new["gain"], np.ones(2))


def test_a_gain_is_not_lowered_against_a_threshold_pinned_at_its_lower_bound():
    """Counts too variable (F > F*) lower the gain, and the rate with it; with the threshold at
    its lower bound nothing could bring the rate back up."""
    z = np.zeros((400, 1))
    z[:60, 0] = 1  # three full windows of 20 steps, then none: 150 Hz, F = 17.9 >> F* = 3
    cfg = LIFAdaptationConfig(target_rate_hz=100.0, smoothing=1.0)
    assert lif_adaptation_update(init_lif_adaptation(1), z, 1.0, cfg)["gain"][0] < 1.0
    pinned = {**init_lif_adaptation(1), "theta": np.array([cfg.theta_range[0]])}
    z_at = np.zeros((400, 1))
    z_at[:40, 0] = 1  # two full windows: 100 Hz, at the target (no threshold step), F = 18.9
    new = lif_adaptation_update(pinned, z_at, 1.0, cfg)
    assert new["theta"][0] == cfg.theta_range[0]  # still pinned
    assert new["gain"][0] == 1.0


def test_a_target_a_rounding_below_the_cap_is_the_cap():
    """dt = 0.15 ms, n_ref = 4, 15-ms windows: 1333.3 Hz is one spike every 5 steps, but
    rate * window * dt came out as 19.999999999999996 for a cap of 20: F* = 1.8e-16, not 0, and
    every update drove the gain down by max_step (0.472 after three)."""
    z = np.zeros((1000, 2))
    z[::5] = 1
    cfg = LIFAdaptationConfig(target_rate_hz=1000 / (0.15 * 5), window_ms=15.0, smoothing=1.0)
    state = init_lif_adaptation(2)
    for _ in range(3):
        state = lif_adaptation_update(state, z, 0.15, cfg, n_ref=4)
    assert np.array_equal(state["gain"], np.ones(2))

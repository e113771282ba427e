"""Training with the information objective raises the measured I(stimulus; response)."""

import numpy as np
import pytest

from infodyn.criticality import branching_ratio
from infodyn.experiments.channel import (
    StimulusSet,
    gaussian_total_correlation,
    make_loss,
    response_information,
    train_network,
)
from infodyn.experiments.channel.measures import network_measures
from infodyn.network import LIF


def test_infomax_training_beats_untrained_and_rate_only_at_the_same_rate():
    net = LIF(
        n_in=12, n_rec=8, n_out=4, tau_m=20.0, tau_out=20.0, n_ref=2, in_scale=2.0, rec_scale=0.5
    )
    stim = StimulusSet.constant(4, 60, 12, max_rate=40.0, seed=1)
    p0 = net.init(seed=1)
    x_test, lab_test = stim.trials(120, seed=999)  # held-out noise realisations

    def measure(params):
        z = net.simulate(params, x_test, engine="jax").z
        info = response_information(z, lab_test, start=20, bin_steps=40, n_shuffles=10)
        return info["mi_bits"], float(z[:, 20:].mean() * 1000.0)

    mi0, r_untrained = measure(p0)
    out = {}
    for cond in ("rate", "info"):
        res = train_network(
            net,
            p0,
            stim,
            lambda labels, c=cond: make_loss(c, r_untrained, 3e-2, 1.0, "infomax", labels),
            n_iterations=80,
            trials_per_stimulus=8,
            response_start=20,
            lr=3e-3,
            train=("w_in", "w_rec", "w_out"),
            seed=1,
        )
        out[cond] = measure(res.params)
        assert np.isfinite(res.history[-1]["loss"])
    (mi_rate, r_rate), (mi_info, r_info) = out["rate"], out["info"]
    # same mean rate (both trained to the untrained network's rate) ...
    assert abs(r_info - r_rate) < 0.3 * r_rate, (r_info, r_rate)
    # ... but more information about the stimulus (shuffle-corrected plug-in, bits)
    assert mi_info > 1.5 * max(mi0, mi_rate), (mi0, mi_rate, mi_info)


def test_decorrelation_training_lowers_total_correlation_at_the_same_rate():
    net = LIF(
        n_in=12, n_rec=8, n_out=4, tau_m=20.0, tau_out=20.0, n_ref=2, in_scale=2.0, rec_scale=1.5
    )
    stim = StimulusSet.constant(4, 60, 12, max_rate=40.0, seed=1)
    p0 = net.init(seed=1)
    x_test, lab_test = stim.trials(100, seed=999)

    def measure(params):
        z = net.simulate(params, x_test, engine="jax").z
        info = response_information(z, lab_test, start=20, bin_steps=5, n_shuffles=1)
        tc_g = gaussian_total_correlation(z, start=20)
        return info["tc_bits"], tc_g, float(z[:, 20:].mean() * 1000.0)

    _, _, r_untrained = measure(p0)
    out = {}
    for cond in ("rate", "info"):
        res = train_network(
            net,
            p0,
            stim,
            lambda labels, c=cond: make_loss(c, r_untrained, 3e-2, 20.0, "decorrelation", labels),
            n_iterations=80,
            trials_per_stimulus=8,
            response_start=20,
            lr=3e-3,
            train=("w_in", "w_rec"),
            seed=1,
        )
        out[cond] = measure(res.params)
    (tc_rate, tcg_rate, r_rate), (tc_info, tcg_info, r_info) = out["rate"], out["info"]
    assert abs(r_info - r_rate) < 0.3 * r_rate, (r_info, r_rate)
    # the trained quantity (Gaussian TC of 1-ms spike vectors) on held-out trials ...
    assert tcg_info < 0.5 * tcg_rate, (tcg_rate, tcg_info)
    # ... and the plug-in TC of 8-unit words in 5-ms bins, which the penalty never sees
    assert tc_info < 0.85 * tc_rate, (tc_rate, tc_info)


@pytest.mark.parametrize("seed", [2, 4])
def test_lif_adaptation_runs_alongside_eprop_and_holds_the_rate(seed):
    """Infomax alone (no rate term) with threshold/gain homeostasis running beside e-prop: the
    adapted network ends near the target rate; the same training without it does not. (The
    threshold rule is an integral controller; e-prop keeps pushing the rate up, a ramp, so a
    faster controller, eta_theta = 1, keeps the offset small.) After 40 updates the offset is
    still up to ~75 % of the target by seed (14-44 Hz for 25 over seeds 0-7, plain 36-149 Hz):
    a 25 % bound held for seed 2 alone and flipped with a rounding of Adam's bias correction."""
    from infodyn.learning.adaptation import LIFAdaptationConfig
    from infodyn.learning.info_objectives import InfoMaxBound

    net = LIF(
        n_in=12, n_rec=8, n_out=4, tau_m=20.0, tau_out=20.0, n_ref=2, in_scale=2.0, rec_scale=0.5
    )
    stim = StimulusSet.constant(4, 60, 12, max_rate=40.0, seed=seed)
    p0 = net.init(seed=seed)
    x_test, _ = stim.trials(50, seed=999)
    target = 25.0
    rates = {}
    for name, adaptation in (
        ("plain", None),
        (
            "adapted",
            LIFAdaptationConfig(target_rate_hz=target, window_ms=20.0, eta_theta=1.0, max_step=0.5),
        ),
    ):
        res = train_network(
            net,
            p0,
            stim,
            lambda labels: InfoMaxBound(),
            n_iterations=40,
            trials_per_stimulus=4,
            response_start=20,
            lr=3e-3,
            train=("w_in", "w_rec", "w_out"),
            seed=seed,
            adaptation=adaptation,
        )
        net_m, params_m, prep = res.network(net)
        z = net_m.simulate(params_m, prep(x_test), engine="jax").z
        rates[name] = float(z.mean() * 1000.0)
        if adaptation is not None:
            assert res.adaptation["n_updates"] == 40
    assert target / 2 < rates["adapted"] < 2 * target, rates
    assert abs(rates["plain"] - target) > 3 * abs(rates["adapted"] - target), rates


def _raster(seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.random((12, 60, 6)) < 0.15).astype(np.uint8)
    z[:, :10] = 1  # everything fires before the scored window
    return z, np.repeat([0, 1], 6)


def test_channel_rate_counts_the_scored_window_only():
    z, labels = _raster()
    m = network_measures(
        z, labels, 1.0, 10, {"bin_steps": 10, "subset_size": 4, "n_subsets": 1, "n_shuffles": 1}
    )
    assert m["rate_hz"] == pytest.approx(z[:, 10:].mean() * 1000.0)
    assert m["rate_hz"] != pytest.approx(z.mean() * 1000.0, rel=0.2)  # the whole trial's rate


def test_channel_m_naive_is_the_naive_estimator():
    z, labels = _raster(1)
    rng = np.random.default_rng(3)
    # a slowly varying rate per trial: the activity is autocorrelated (m well above 0)
    rate = np.clip(0.3 + np.cumsum(rng.normal(0, 0.05, (12, 50)), axis=1), 0.02, 0.9)
    z[:, 10:] = (rng.random((12, 50, 6)) < rate[:, :, None]).astype(np.uint8)
    act = z[:, 10:].sum(axis=2)
    m = network_measures(
        z, labels, 1.0, 10, {"bin_steps": 10, "subset_size": 4, "n_subsets": 1, "n_shuffles": 1}
    )
    naive = branching_ratio(act, method="naive", dt=1.0, n_boot=0)
    mr = branching_ratio(act, method="mr", dt=1.0, n_boot=0)
    assert m["m_naive"] == pytest.approx(float(naive.m))
    assert m["m"] == pytest.approx(float(mr.m))


def test_bottleneck_gamma_reaches_the_objective():
    loss = make_loss("info", 10.0, 1e-2, 1.0, "bottleneck", np.array([0, 1, 0, 1]), gamma=0.7)
    (ib,) = [t for t in loss.terms if hasattr(t, "gamma")]
    assert ib.gamma == 0.7

"""The stages of the images pipeline (infodyn.experiments.pipeline: image, stimulus, training,
analysis and response-energy stages) on tiny inputs: units, windows, seeds and splits."""

import importlib
import math
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from infodyn.data.spikes import SpikeTrain
from infodyn.energy import Words
from infodyn.errors import InputError, make_rng
from infodyn.experiments.config import validate
from infodyn.experiments.pipeline.analysis import analyse_responses, information_analysis
from infodyn.experiments.pipeline.config import AnalysisSection, PipelineConfig, TrainingSection
from infodyn.experiments.pipeline.image_stage import image_energy_stage
from infodyn.experiments.pipeline.response_energy import response_energy
from infodyn.experiments.pipeline.stimulus_stage import stimulus_stage
from infodyn.experiments.pipeline.training_stage import training_loss
from infodyn.experiments.rundir import RunDir

TINY = {
    "images": {"images": ["camera", "grass"], "sizes": [4], "n_patches": 1500},
    "energy": {
        "n_samples": 100,
        "denoise_patterns": 40,
        "denoise_flips": [1, 2],
        "max_words_units": 8,
    },
    "stimulus": {"n_stimuli": 3, "trial_ms": 60, "response_start_ms": 20},
    "network": {"n_rec": 20, "tau_m": 20.0, "v_th": 0.03, "n_ref": 2},
    "training": {"iterations": 3, "batch_size": 2},
    "analysis": {"n_trials": 24},
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    an_mod = importlib.import_module("infodyn.experiments.pipeline.analysis")
    re_mod = importlib.import_module("infodyn.experiments.pipeline.response_energy")

    cfg = validate(PipelineConfig, TINY)
    run = RunDir(tmp_path_factory.mktemp("ana") / "run")
    stim = stimulus_stage(cfg, run)
    calls = {}

    def rec(name, f):
        def wrapped(*a, **k):
            calls[name] = (a, k)
            return f(*a, **k)

        return wrapped

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(re_mod, "fit_energy", rec("fit", re_mod.fit_energy))
        mp.setattr(re_mod, "heldout_report", rec("heldout", re_mod.heldout_report))
        mp.setattr(an_mod, "binary_words", rec("words", an_mod.binary_words))
        ana = analyse_responses(stim.net, stim.params0, stim.task, stim.grey, cfg, "before", run)
    x, labels = stim.task.draw(make_rng(cfg.analysis.seed), cfg.analysis.n_trials)
    trace = stim.net.simulate(stim.params0, x, engine="jax")
    return SimpleNamespace(cfg=cfg, stim=stim, ana=ana, trace=trace, labels=labels, calls=calls)


def test_analysis_rates_are_in_hz(analysed):
    z = np.asarray(analysed.trace.z, dtype=np.float64)
    dt = analysed.stim.net.dt
    per_unit = z.sum(axis=(0, 1)) / (z.shape[0] * z.shape[1] * dt / 1000.0)  # spikes per second
    assert analysed.ana.numbers["mean_rate_hz"] == pytest.approx(per_unit.mean(), rel=1e-9)
    assert analysed.ana.numbers["mean_rate_hz"] > 1.0


def test_branching_bin_defaults_to_refractory_period_plus_one_step(analysed):
    """[analysis] branching_bin_ms = None: (n_ref + 1) steps; here n_ref = 2, dt = 1 ms."""
    crit = analysed.ana.numbers["criticality"]
    assert crit["branching_bin_ms"] == 3 * analysed.stim.net.dt


def test_decisions_use_the_response_window_only(analysed):
    """The readout is averaged over the response window [start, T) only: a readout that
    favours another stimulus before the window must not count."""

    labels = np.tile(np.arange(3), 8)
    y = np.zeros((24, 60, 3))
    y[np.arange(24), :20, (labels + 1) % 3] = 10.0  # before the window: the wrong stimulus
    y[np.arange(24), 20:, labels] = 1.0  # in the window: the right one
    z = (np.random.default_rng(0).random((24, 60, 20)) < 0.1).astype(np.uint8)
    task = SimpleNamespace(start=20, n_out=3)
    net = SimpleNamespace(n_rec=20)
    info, _, dec = information_analysis(
        y, labels, z.mean(axis=(0, 1)) * 1000.0, SpikeTrain.from_dense(z), task, net, analysed.cfg
    )
    assert info["decoder_accuracy"] == 1.0 and np.array_equal(dec, labels)
    assert info["mi_stimulus_decision_bits_plugin"] == pytest.approx(math.log2(3))
    # a perfect decoder: Miller-Madow adds (K-1)/(2 N ln 2) to log2 K; capped at H(S)
    assert info["mi_stimulus_decision_bits_bias_corrected"] == pytest.approx(math.log2(3))
    extra = 2 / (2 * 24 * math.log(2))
    uncapped = info["mi_stimulus_decision_bits_bias_corrected_uncapped"]
    assert uncapped == pytest.approx(math.log2(3) + extra)


def test_stimulus_entropy_is_log2_of_the_number_of_stimuli(analysed):
    info = analysed.ana.numbers["information"]
    assert info["stimulus_entropy_bits"] == pytest.approx(math.log2(3))


def test_response_words_are_of_the_most_active_units(analysed):
    """The words are of the max_words_units (8) most active units over the fresh trials."""
    z = np.asarray(analysed.trace.z)
    rates = z.mean(axis=(0, 1))
    units = np.asarray(analysed.calls["words"][1]["units"])
    assert len(units) == 8 == analysed.ana.numbers["information"]["response_words"]["n_units"]
    others = np.setdiff1d(np.arange(len(rates)), units)
    assert rates[units].min() >= rates[others].max(), (rates[units], rates[others])


def test_response_memory_frequencies_are_the_top_ones_in_order(tmp_path, analysed):
    """memory_frequencies_top: the most frequent memories, most frequent first. Words drawn
    from three well-separated patterns visited with frequencies 0.6, 0.3 and 0.1."""

    rng = np.random.default_rng(0)
    pats = np.array(
        [
            [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
        ],
        np.uint8,
    )
    n_trials, per = 40, 50
    which = rng.choice(3, size=n_trials * per, p=[0.6, 0.3, 0.1])
    X = pats[which] ^ (rng.random((n_trials * per, 12)) < 0.03).astype(np.uint8)
    trial = np.repeat(np.arange(n_trials), per)
    words = Words(
        X=X,
        trial=trial,
        bin=np.tile(np.arange(per), n_trials),
        units=np.arange(12),
        bin_ms=5.0,
        window=1,
    )
    labels = np.arange(n_trials) % 3
    grey = rng.random((3, 16))
    out = response_energy(words, labels, grey, analysed.cfg, "t", RunDir(tmp_path / "r"))
    freq = out["memory_frequencies_top"]
    assert len(freq) >= 2, out
    assert all(a >= b for a, b in zip(freq, freq[1:], strict=False)), freq
    assert freq[0] > 0.4 and sum(freq) <= 1.0 + 1e-12
    # a memory per trial, drawn independently of its stimulus: 40 trials, not 2000 words, are
    # the samples, so the plug-in MI is inflated by chance; the null shuffles whole trials and
    # is of that size (a shuffle of words would give about 0.001 bits)
    per_trial = np.repeat(rng.choice(3, size=n_trials), per)
    words.X[:] = pats[per_trial] ^ (rng.random((n_trials * per, 12)) < 0.03).astype(np.uint8)
    out = response_energy(words, labels, grey, analysed.cfg, "t2", RunDir(tmp_path / "r2"))
    plug = out["mi_memory_stimulus_bits_plugin"]
    null = plug - out["mi_memory_stimulus_bits_trial_shuffle_corrected"]
    assert 0.02 < null < 0.2 and plug > 0.01, (plug, null)


def test_response_words_held_out_by_trial(analysed):
    """First 3/4 of the 24 trials train, the last 6 are held out: no word in both sets."""
    _, tr, te = analysed.calls["heldout"][0]
    n_words = analysed.ana.numbers["response_energy"]["n_words"]
    assert len(tr) + len(te) == n_words
    assert len(te) * 24 == n_words * 6


def test_response_word_fit_has_the_documented_l2_floor(analysed):
    """[energy] docstring: the response-word fit uses l2 >= 1e-4 (here [energy] l2 = 0)."""
    assert analysed.cfg.energy.l2 == 0.0
    assert analysed.calls["fit"][1]["l2"] == pytest.approx(1e-4)


def test_exponential_decay_flag_allows_small_negative_slopes_only(monkeypatch):
    """r_k must be positive at lag 1, never above r_1, and not below -r_1 / 4."""
    import infodyn.experiments.pipeline.analysis as an_mod

    def fake(r_k):
        return lambda counts, method="mr", **k: SimpleNamespace(
            m=0.9,
            tau=10.0,
            m_ci=(0.8, 1.0),
            meaningful=True,
            fits={},
            fits_disagree=False,
            r_k=np.asarray(r_k),
        )

    z = (np.random.default_rng(0).random((4, 60, 5)) < 0.2).astype(np.uint8)
    net = SimpleNamespace(n_ref=2, dt=1.0, n_rec=5)
    flags = []
    for r_k in ([1.0, 0.5, -0.2], [1.0, 0.5, -0.3], [1.0, 1.1, 0.5], [-0.1, -0.2, 0.0]):
        monkeypatch.setattr(an_mod, "branching_ratio", fake(r_k))
        crit = an_mod.criticality_analysis(z, SpikeTrain.from_dense(z), net, AnalysisSection())
        flags.append(crit.numbers["exponential_decay_plausible"])
    assert flags == [True, False, False, False]


def test_pipeline_branching_ratio_is_bias_corrected_on_its_short_trials():
    # trials of 70 bins against tau of a few bins: the plain MR fit is biased low (the
    # estimator's own warning says so); the pipeline reports the corrected m, the plain beside
    import infodyn.criticality as C
    import infodyn.experiments.pipeline.analysis as an_mod

    act = C.simulate_branching_process(0.7, 1.5, 210, trials=60, seed=4)  # (60, 210) counts
    rng = np.random.default_rng(4)
    z = np.zeros((60, 210, 40), dtype=np.uint8)  # each event a unit of 40 (one step's bin)
    for trial, step in zip(*np.nonzero(act), strict=True):
        z[trial, step, rng.choice(40, size=min(int(act[trial, step]), 40), replace=False)] = 1
    net = SimpleNamespace(n_ref=2, dt=1.0, n_rec=40)
    an = AnalysisSection()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crit = an_mod.criticality_analysis(z, SpikeTrain.from_dense(z), net, an).numbers
        counts = z.reshape(60, 70, 3, 40).sum(axis=(2, 3)).astype(float)
        ref = C.branching_ratio(counts, dt=3.0, seed=an.seed, bias_correction=True)
        plain = C.branching_ratio(counts, dt=3.0, seed=an.seed)
    assert crit["bias_corrected"] and crit["m"] == pytest.approx(ref.m, rel=1e-12)
    assert crit["m_uncorrected"] == pytest.approx(plain.m, rel=1e-12) and plain.m < ref.m
    assert not any("bias_correction" in w for w in crit["warnings"])


def test_pipeline_branching_ratio_near_one_falls_back_to_the_plain_fit():
    # m = 0.95 on 70-bin trials: the first-order correction does not hold (NaN); the headline
    # m was null exactly where training aims (m -> 1). The plain fit stands, said so.
    import infodyn.criticality as C
    import infodyn.experiments.pipeline.analysis as an_mod

    act = C.simulate_branching_process(0.95, 3.0, 70, trials=80, seed=2)
    z = np.zeros((80, 70, 60), dtype=np.uint8)
    rng = np.random.default_rng(2)
    for trial, step in zip(*np.nonzero(act), strict=True):
        z[trial, step, rng.choice(60, size=min(int(act[trial, step]), 60), replace=False)] = 1
    net = SimpleNamespace(n_ref=0, dt=1.0, n_rec=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crit = an_mod.criticality_analysis(z, SpikeTrain.from_dense(z), net, AnalysisSection())
        crit = crit.numbers
        corrected = C.branching_ratio(act.astype(float), bias_correction=True, n_boot=0)
    assert not np.isfinite(corrected.m)  # the case this test is about
    assert crit["bias_corrected"] is False and np.isfinite(crit["m"])
    assert crit["m"] == crit["m_uncorrected"]
    assert any("correction does not hold" in w for w in crit["warnings"])


@pytest.fixture(scope="module")
def image_stage_pl(tmp_path_factory):
    cfg = validate(
        PipelineConfig,
        {**TINY, "energy": {**TINY["energy"], "method": "pl"}, "stages": ["image_energy"]},
    )
    import infodyn.experiments.pipeline.image_stage as im_mod

    run = RunDir(tmp_path_factory.mktemp("img") / "run")
    seen = {}
    real_h, real_d = im_mod.heldout_report, im_mod.denoising_rows

    def heldout(model, train, test, **k):
        seen["test"] = np.array(test)
        return real_h(model, train, test, **k)

    def denoise(model, ind, pats, *a, **k):
        seen["pats"] = np.array(pats)
        return real_d(model, ind, pats, *a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(im_mod, "heldout_report", heldout)
        mp.setattr(im_mod, "denoising_rows", denoise)
        res = image_energy_stage(cfg, 4, run)
    res.seen = seen
    return res, cfg


def test_image_stage_fits_with_the_configured_method(image_stage_pl):
    res, _ = image_stage_pl
    assert res.model.fit_info["method"] == "pl"


def test_image_stage_has_the_histogram_bits_up_to_4x4(image_stage_pl):
    """module docstring: "(up to 4x4) the smoothed histogram"."""
    res, cfg = image_stage_pl
    assert "bits_per_patch_histogram_test" in res.numbers
    assert res.numbers["histogram_pseudocount"] == cfg.energy.pseudocount


def test_image_stage_train_and_test_counts(image_stage_pl):
    """held_out = 0.25 of the patches (by region): the test set is the smaller one."""
    res, cfg = image_stage_pl
    n_tr, n_te = res.numbers["n_train"], res.numbers["n_test"]
    assert 0.1 < n_te / (n_tr + n_te) < 0.4 and n_tr > n_te
    # by region, every image has held-out patches (split = "image" names the ones it drew)
    assert res.numbers["test_images"] == sorted(cfg.images.images)


def test_image_stage_denoises_held_out_patches(image_stage_pl):
    """The denoising test corrupts the first denoise_patterns held-out patches."""
    res, cfg = image_stage_pl
    n = cfg.energy.denoise_patterns
    assert np.array_equal(res.seen["pats"], res.seen["test"][:n])


def test_image_stage_refuses_flat_pixels_with_advice_a_config_can_follow(tmp_path):
    """The fit's own message advised allow_constant=True, which no config can pass."""
    flat = tmp_path / "flat.npy"
    np.save(flat, np.full((20, 20), 0.5))
    images = {**TINY.get("images", {}), "images": [str(flat)], "min_contrast": 0.0}
    cfg = validate(PipelineConfig, {**TINY, "images": images, "stages": ["image_energy"]})
    with pytest.raises(InputError, match="16 of the 16 pixels .* raise \\[images\\] min_contrast"):
        image_energy_stage(cfg, 4, RunDir(tmp_path / "run"))


def test_stimulus_patches_are_distinct(tmp_path):
    """n_stimuli patches drawn without replacement from the pool: no stimulus twice."""

    # seed 6: drawing 64 of 1280 with replacement would repeat two patches (seeds 1, 2 do not)
    data = {**TINY, "stimulus": {**TINY["stimulus"], "n_stimuli": 64, "seed": 6}}
    stim = stimulus_stage(validate(PipelineConfig, data), RunDir(tmp_path / "r"))
    assert len(np.unique(stim.grey, axis=0)) == 64


def test_stimulus_patches_are_distinct_patches_on_a_small_image(tmp_path):
    # a 6x6 image has 9 positions of 4x4: the pool repeats them, and two of four stimuli were
    # one patch while H(S) = 2 bits was reported
    rng = np.random.default_rng(0)
    tiny = tmp_path / "tiny.npy"
    np.save(tiny, rng.random((6, 6)))
    images = {**TINY["images"], "images": [str(tiny)]}
    data = {**TINY, "images": images, "stimulus": {**TINY["stimulus"], "size": 4, "n_stimuli": 4}}
    stim = stimulus_stage(validate(PipelineConfig, data), RunDir(tmp_path / "r"))
    assert len(np.unique(stim.grey, axis=0)) == 4
    many = {**data, "stimulus": {**data["stimulus"], "n_stimuli": 12}}
    with pytest.raises(
        InputError, match="give 9 4x4 patches of distinct contrast .* n_stimuli = 12"
    ):
        stimulus_stage(validate(PipelineConfig, many), RunDir(tmp_path / "r2"))


def test_patches_that_encode_alike_are_one_stimulus(tmp_path):
    """On a linear ramp every 4x4 patch has the same contrast pattern: the encoder (each patch's
    own mean and s.d.) gives all of them the same rates, and three of four 'distinct' stimuli
    drove the network alike while H(S) = 2 bits was reported."""
    ramp = tmp_path / "ramp.npy"
    np.save(ramp, np.tile(np.linspace(0.0, 1.0, 16), (16, 1)))
    images = {**TINY["images"], "images": [str(ramp)], "min_contrast": 0.0}
    stimulus = {**TINY["stimulus"], "size": 4, "n_stimuli": 2, "min_contrast": 0.0}
    data = {**TINY, "images": images, "stimulus": stimulus}
    with pytest.raises(InputError, match="give 1 4x4 patches of distinct contrast"):
        stimulus_stage(validate(PipelineConfig, data), RunDir(tmp_path / "r"))


def test_stimulus_contrast_floor_is_its_own_key_and_named(tmp_path):
    # the stage raised [images] min_contrast to a hidden 0.05 and named a key set to 0
    rng = np.random.default_rng(0)
    flat = tmp_path / "flat.npy"
    np.save(flat, 0.5 + 0.03 * rng.random((40, 40)))  # grey range 0.03: no 4x4 s.d. of 0.05
    images = {**TINY["images"], "images": [str(flat)], "min_contrast": 0.0}
    data = {**TINY, "images": images, "stimulus": {**TINY["stimulus"], "size": 4}}
    with pytest.raises(InputError, match=r"^\[stimulus\] min_contrast = 0.05 exceeds"):
        stimulus_stage(validate(PipelineConfig, data), RunDir(tmp_path / "r"))
    data["stimulus"]["min_contrast"] = 0.001
    stim = stimulus_stage(validate(PipelineConfig, data), RunDir(tmp_path / "r2"))
    assert stim.grey.std(axis=1).min() >= 0.001


def test_config_refuses_what_the_stages_found_after_the_image_stage():
    with pytest.raises(InputError, match=r"base_rate_hz \+ gain_hz = 5002 Hz exceeds one spike"):
        validate(PipelineConfig, {"stimulus": {"gain_hz": 5000.0}})
    with pytest.raises(InputError, match="binarize = 'sign' needs whitening"):
        validate(PipelineConfig, {"images": {"binarize": "sign"}})
    validate(PipelineConfig, {"images": {"binarize": "sign", "whiten": "dog"}})


@pytest.mark.parametrize(("base", "gain"), [(2.0, 0.0), (0.0, 30.0)])
def test_stimulus_rates_are_base_plus_gain(tmp_path, base, gain):
    """ON/OFF rate = base + gain * clip(c, 0, 2) / 2: gain 0 gives base everywhere; base 0
    gives rates in [0, gain] with a silent channel of each ON/OFF pair."""

    data = {**TINY, "stimulus": {**TINY["stimulus"], "base_rate_hz": base, "gain_hz": gain}}
    stim = stimulus_stage(validate(PipelineConfig, data), RunDir(tmp_path / "r"))
    if gain == 0:
        assert np.all(stim.rates == base)
    else:
        n = stim.grey.shape[1]
        on, off = stim.rates[:, :n], stim.rates[:, n:]
        assert stim.rates.min() == 0.0 and stim.rates.max() <= gain
        assert np.all(np.minimum(on, off) == 0.0)


def test_training_loss_has_the_terms_with_weight_above_zero():
    loss = training_loss(TrainingSection(rate_weight=0.0, variance_target=7.0))
    assert len(loss.terms) == 2
    (var,) = [t for t in loss.terms if hasattr(t, "s_target")]
    assert var.s_target == 7.0
    with pytest.raises((InputError, ValueError), match="every loss weight is zero"):
        training_loss(TrainingSection(rate_weight=0.0, variance_weight=0.0, info_weight=0.0))


@pytest.mark.parametrize("info_weight", [1.0, 3.0])
def test_training_summary_and_info_bound(tmp_path, monkeypatch, info_weight):
    """info_bound_bits = H(S) - CE (bits); the summary holds the means of the first and last
    tenth of the iterations. The Trainer is replaced by a stub with a known history. The
    history's terms are weighted: the bound read info_weight x CE (-> 2 - 1.5 at weight 3)."""

    ts = importlib.import_module("infodyn.experiments.pipeline.training_stage")

    n_it = 20
    history = [
        {
            "iteration": i + 1,
            "loss": float(i),
            "mean_rate_hz": 10.0 + i,
            "loss_infomax_xent_bits": info_weight * 0.5,
            "error_rate": 0.5,
            "branching": 1.0,
        }
        for i in range(n_it)
    ]

    saved = []  # where and how often it checkpoints: every tenth (a SIGKILL lost it all)

    class FakeTrainer:
        def __init__(self, net, task, loss, opts, **k):
            self.state = SimpleNamespace(params={"w_rec": np.zeros((2, 2))}, iteration=0)
            self.opts = opts

        def fit(self, n, out=None, resume=False, progress=False, callback=None):
            saved.append((Path(out).name, self.opts.checkpoint_every, resume))
            for r in history:
                self.state.iteration = r["iteration"]
                callback(self, r)
            return [dict(r) for r in history]

    monkeypatch.setattr(ts, "Trainer", FakeTrainer)
    monkeypatch.setattr(
        ts.pf,
        "training_figure",
        lambda h, tr: __import__("infodyn.plotting", fromlist=["pyplot"]).pyplot().figure(),
    )
    stim = SimpleNamespace(net=None, task=SimpleNamespace(n_out=4), params0={})
    out = ts.training_stage(
        TrainingSection(iterations=n_it, info_weight=info_weight),
        stim,
        RunDir(tmp_path / "r"),
        lambda s, f: None,
    )
    assert all(r["info_bound_bits"] == pytest.approx(2.0 - 0.5) for r in out.history)
    assert out.summary["loss_first_2"] == pytest.approx(0.5)  # mean of 0, 1
    assert out.summary["loss_last_2"] == pytest.approx(18.5)  # mean of 18, 19
    assert out.summary["mean_rate_hz_last_2"] == pytest.approx(28.5)
    assert saved == [("training", 2, False)]


def test_a_partial_network_table_keeps_the_pipelines_other_defaults():
    """n_rec = 60 alone replaced the table: LIF's tau_m = 30 ms and no refractory period ran,
    where the docs (and config init) give the pipeline's 20 ms and n_ref = 2."""
    cfg = validate(PipelineConfig, {"network": {"n_rec": 60}})
    net = cfg.build_network()
    assert (net.n_rec, net.tau_m, net.n_ref, net.v_th) == (60, 20.0, 2, 0.03)
    assert validate(PipelineConfig, {}).network == cfg.network | {"n_rec": 100}


def test_no_oscillation_note_for_a_refused_estimate():
    """m = NaN (a silent network, activity decaying within a lag) was said to "oscillate"."""
    from infodyn.experiments.pipeline.analysis import criticality_notes

    crit = {"m": float("nan"), "exponential_decay_plausible": False, "fraction_negative_r_k": 0}
    # (no oscillation said; that m was not resolved is, with its reason where one was warned)
    assert criticality_notes({"criticality": crit}, "after training") == [
        "Network after training: m not resolved."
    ]
    crit["m"] = 0.4
    assert "do not decay" in criticality_notes({"criticality": crit}, "after training")[0]


@pytest.mark.parametrize(
    ("section", "said"),
    [
        (
            {"analysis": {"branching_bin_ms": 2.5}},
            r"\[analysis\] branching_bin_ms=2.5 must be a whole",
        ),
        ({"energy": {"word_bin_ms": 2.5}}, r"\[energy\] word_bin_ms=2.5 must be a whole"),
        # longer than a trial: refused in the analysis, after the image stages, naming no key
        (
            {"energy": {"word_bin_ms": 500.0}},
            r"\[energy\] word_bin_ms = 500 ms is longer than a trial \(\[stimulus\] trial_ms",
        ),
        (
            {"analysis": {"branching_bin_ms": 1000.0}},
            r"\[analysis\] branching_bin_ms = 1000 ms is longer than a trial",
        ),
        (
            {"training": {"rate_weight": 0.0, "variance_weight": 0.0, "info_weight": 0.0}},
            r"\[training\] every loss weight is zero",
        ),
    ],
)
def test_network_stage_options_are_checked_when_the_config_is_read(section, said):
    """These failed after the image stages had run (a bin of 2.5 ms was rounded to 2, unsaid)."""
    with pytest.raises(InputError, match=said):
        validate(PipelineConfig, {**TINY, **section})


def test_the_network_stage_saves_sparse_and_private_weights(tmp_path):
    """A k_in network (sparse w_rec) or private inputs (sparse w_in): save_npz refused the
    SparseWeights after every stage had run, and the run's results were lost."""
    from infodyn.experiments.pipeline.network_stage import network_stage
    from infodyn.network import SparseWeights, load_params

    network = {**TINY["network"], "n_rec": 32, "connectivity": "sparse", "k_in": 5}
    network["input_connectivity"] = "private"  # n_in = 2 x 4 x 4 = 32 ON/OFF channels
    data = {**TINY, "network": network, "training": {"iterations": 1, "batch_size": 2}}
    run = RunDir(tmp_path / "run")
    network_stage(validate(PipelineConfig, data), run, lambda *a: None)
    params = load_params(run.path / "network_params.npz")
    assert isinstance(params["w_rec"], SparseWeights) and params["w_rec"].nnz == 32 * 5
    assert isinstance(params["w_in"], SparseWeights) and params["w_in"].nnz == 32

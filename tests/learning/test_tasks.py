"""Tasks built on stimulus sets: natural-image patches with fixational drift, frozen stimuli."""

import numpy as np
import pytest

import infodyn as idn
from infodyn.learning import tasks
from infodyn.learning.tasks import (
    EvidenceAccumulation,
    PatchTask,
    PatternGeneration,
    StimulusTrials,
)
from infodyn.network.encoders import StimulusSet, encode_patches


def test_patch_task_with_drift_follows_the_gaze():
    img = idn.data.builtin_image("camera")
    rows, cols = np.array([100, 300]), np.array([50, 200])
    grey = np.stack([img[r : r + 4, c : c + 4].ravel() for r, c in zip(rows, cols, strict=True)])
    rates = encode_patches(grey, 2.0, 60.0)
    gaze = {
        "images": [img, img],
        "rows": rows,
        "cols": cols,
        "size": 4,
        "drift": 1.0,
        "base_hz": 2.0,
        "gain_hz": 60.0,
    }
    still = PatchTask(rates, 400, 50)
    moving = PatchTask(rates, 400, 50, gaze=gaze)
    labels = np.array([0, 1, 1, 0])
    r_still = still.rates(np.random.default_rng(0), labels)
    np.testing.assert_array_equal(r_still, np.broadcast_to(rates[labels][:, None], (4, 400, 32)))
    r = moving.rates(np.random.default_rng(0), labels)
    np.testing.assert_allclose(r[:, 0], rates[labels])  # the gaze starts on the stimulus
    # every step shows a patch within 2 pixels of the stimulus, and the gaze does move
    for b, k in enumerate(labels):
        near = [
            encode_patches(
                img[rows[k] + dr : rows[k] + dr + 4, cols[k] + dc : cols[k] + dc + 4].ravel()[None],
                2.0,
                60.0,
            )[0]
            for dr in range(-2, 3)
            for dc in range(-2, 3)
        ]
        d = np.min([np.abs(r[b] - n).max(axis=1) for n in near], axis=0)
        assert np.all(d < 1e-9)
        assert len(np.unique(r[b], axis=0)) > 3
    x, lab = moving.draw(np.random.default_rng(0), 8)
    assert x.shape == (8, 400, 32) and set(np.unique(x)) <= {0.0, 1.0}


def test_patch_task_target_and_error_rate():
    rates = np.array([[10.0, 20.0], [20.0, 10.0], [15.0, 15.0]])
    task = PatchTask(rates, 30, 10)
    x, target = task.batch(np.random.default_rng(0), 6)
    assert x.shape == (6, 30, 2) and target.shape == (6, 30, 3)
    assert np.all(target[:, :10] == 0)  # only the response window is scored
    labels = target.sum(axis=1).argmax(axis=-1)
    y = np.zeros((6, 30, 3))
    y[np.arange(6), :, labels] = 1.0  # a perfect readout
    assert task.metrics(y, target)["error_rate"] == 0.0
    y[0, :, labels[0]] = 0.0
    y[0, :, (labels[0] + 1) % 3] = 1.0
    assert task.metrics(y, target)["error_rate"] == 1 / 6


def test_stimulus_trials_batches_repeat_the_stimuli_with_fresh_noise():
    stim = StimulusSet.constant(3, 40, 5, seed=0)
    task = StimulusTrials(stim, n_out=3, n_per_stimulus=2, start=10)
    draw = task.sampler(seed=4)
    (x0, t0), (x1, t1) = draw(0), draw(1)
    np.testing.assert_array_equal(task.labels, [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(t0, t1)  # same stimuli every iteration ...
    assert not np.array_equal(x0, x1)  # ... fresh noise
    np.testing.assert_array_equal(x0, stim.trials(2, seed=4 * 100_003)[0])
    assert t0.sum(axis=1).argmax(axis=-1).tolist() == task.labels.tolist()
    assert task.metrics(None, t0) == {}


def test_evidence_noise_channels_fire_at_the_noise_rate():
    ev = EvidenceAccumulation(n_cues=1, delay_ms=50.0, recall_ms=50.0, noise_rate_hz=20.0)
    x, _ = ev.batch(np.random.default_rng(0), 64)
    assert x[:, :, 30:40].mean() == pytest.approx(0.02, abs=0.002)


@pytest.mark.parametrize("block", [1, 700, 3 * 8000 + 5, 1 << 18])
def test_evidence_batches_drawn_in_blocks_are_one_draws_numbers(monkeypatch, block):
    """Spikes drawn a block of trials at a time (one trial a block, three, or all nine; a trial
    is 8,000 draws) equal those of one whole-batch draw against whole-batch rates (how batches
    were drawn before, 2.2 GB an array at 3,000 trials), so seeded runs keep their inputs."""
    ev = EvidenceAccumulation(n_cues=3, delay_ms=30.0, recall_ms=20.0, channels_per_group=4)
    monkeypatch.setattr(tasks, "DRAW_BLOCK", block)
    x, target = ev.batch(np.random.default_rng(5), 9)
    rng = np.random.default_rng(5)  # the whole-batch draw, written out here
    favoured = rng.integers(0, 2, size=(9, 1))
    sides = np.where(rng.random((9, 3)) < ev.p_group, 1 - favoured, favoured)
    rate = np.zeros(x.shape)
    rate[:, :, 12:] = ev.noise_rate_hz
    for k in range(3):
        for trial in range(9):
            side = sides[trial, k]
            rate[trial, 150 * k : 150 * k + 100, 4 * side : 4 * side + 4] = ev.cue_rate_hz
    rate[:, ev.n_steps - 20 :, 8:12] = ev.cue_rate_hz
    expected = (rng.random(x.shape) < rate / 1000.0).astype(np.float64)
    assert x.dtype == np.float64 and x.shape == (9, 3 * 150 + 30 + 20, 16)
    np.testing.assert_array_equal(x, expected)
    assert x[:, :, 12:].mean() == pytest.approx(0.01, abs=0.003)  # the noise channels fire
    np.testing.assert_array_equal(target.sum(axis=(1, 2)), np.ones(9))


def test_poisson_rates_of_a_later_block_are_checked(monkeypatch):
    monkeypatch.setattr(tasks, "DRAW_BLOCK", 6)  # two rows of 3 a block: row 5 in the third

    def rates(lo, hi):
        return np.where(np.arange(lo, hi)[:, None] == 5, -1.0, 10.0)

    with pytest.raises(idn.InputError, match="rates must be >= 0 Hz"):
        tasks._poisson(np.random.default_rng(0), rates, (8, 3), 1.0)
    x = tasks._poisson(np.random.default_rng(0), 1000.0, (8, 3), 1.0)
    np.testing.assert_array_equal(x, np.ones((8, 3)))


def test_poisson_memory_counts_the_batch_not_a_whole_block(monkeypatch):
    """A batch smaller than a block is charged its own size (it was charged a whole 2^18-draw
    block, 4.25 MiB); an impossible rate is said before the memory is counted."""
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    x, _ = idn.learning.RateTask(n_in=10, n_steps=100).batch(np.random.default_rng(0), 4)
    assert x.shape == (4, 100, 10)
    with pytest.raises(idn.InputError, match="needs"):
        idn.learning.RateTask(n_in=1000, n_steps=1000).batch(np.random.default_rng(0), 4)
    with pytest.raises(idn.InputError, match="rates must be >= 0 Hz"):
        tasks._poisson(np.random.default_rng(0), -3.0, (10**6, 10**6), 1.0)


def test_evidence_error_reads_the_recall_window_only():
    """A readout that favours the wrong side before the recall and the right one during it
    makes no error."""
    ev = EvidenceAccumulation(n_cues=1, delay_ms=20.0, recall_ms=20.0)
    _, tgt = ev.batch(np.random.default_rng(1), 8)
    labels = tgt.sum(axis=1).argmax(axis=-1)
    y = np.zeros_like(tgt)
    y[np.arange(8), :, 1 - labels] = 10.0  # wrong, strongly, everywhere ...
    recall = tgt.sum(axis=(0, 2)) > 0
    y[:, recall] = 0.0
    y[np.arange(8)[:, None], np.nonzero(recall)[0][None, :], labels[:, None]] = 1.0  # ... but here
    assert ev.metrics(y, tgt)["error"] == 0.0


def test_pattern_generation_periods_are_in_ms():
    """At dt = 0.5 ms, 2000 steps are 1000 ms: the spectrum still peaks at 1, 2, 3 and 5
    cycles per sequence (periods 1000, 500, 333, 200 ms); nmse = mse / var(target)."""
    pg = PatternGeneration(n_in=3, n_steps=2000, dt=0.5)
    _, y = pg.batch(np.random.default_rng(0), 1)
    spec = np.abs(np.fft.rfft(y[0, :, 0]))
    assert set(np.argsort(spec)[-4:]) == {1, 2, 3, 5}
    shifted = y + 0.5
    assert pg.metrics(shifted, y)["nmse"] == pytest.approx(0.25 / np.var(y), rel=1e-12)


def test_patch_task_scores_the_response_window_only():
    rates = np.array([[10.0, 20.0], [20.0, 10.0]])
    task = PatchTask(rates, 20, 10)
    _, target = task.batch(np.random.default_rng(0), 4)
    labels = target.sum(axis=1).argmax(axis=-1)
    y = np.zeros((4, 20, 2))
    y[np.arange(4), :10, 1 - labels] = 100.0  # wrong before the window
    y[np.arange(4), 10:, labels] = 1.0  # right inside it
    assert task.metrics(y, target)["error_rate"] == 0.0

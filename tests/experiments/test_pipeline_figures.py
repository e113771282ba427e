"""The natural-image pipeline's figures (infodyn.experiments.pipeline.figures) draw the numbers
they claim: each test reads the data back from the figure's artists and compares it with the same
quantity computed here another way (a loop, a closed form, or the input itself)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from infodyn.experiments.pipeline import figures as F
from infodyn.plotting import pyplot


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot().close("all")


def test_confusion_figure_shows_p_decision_given_stimulus():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    decisions = np.array([0, 1, 0, 1, 1, 3, 2, 3, 3])
    fig = F.confusion_figure(labels, decisions, k=4, tag="after")
    shown = fig.axes[0].images[0].get_array()
    expected = np.zeros((4, 4))
    for s in range(4):
        n = np.sum(labels == s)
        for d in range(4):
            expected[s, d] = np.sum((labels == s) & (decisions == d)) / n if n else 0.0
    np.testing.assert_allclose(shown, expected)
    assert shown[3].sum() == 0.0  # a stimulus never shown: an empty row, not NaN
    np.testing.assert_allclose(shown[:3].sum(axis=1), 1.0)
    np.testing.assert_array_equal(fig.axes[0].get_xticks(), [0, 1, 2, 3])  # classes, not 0.5s


def test_couplings_figure_averages_couplings_by_pixel_offset():
    size = 3
    rng = np.random.default_rng(0)
    field = rng.normal(size=(2 * size - 1, 2 * size - 1))  # one coupling per offset (dy, dx)
    n = size * size
    J = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                dy, dx = j // size - i // size, j % size - i % size
                J[i, j] = field[dy + size - 1, dx + size - 1]
    fig = F.couplings_figure(SimpleNamespace(J=J), size)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), J)
    shown = np.ma.filled(fig.axes[1].images[0].get_array(), np.nan)
    expected = field.copy()
    expected[size - 1, size - 1] = np.nan  # no pixel is its own neighbour
    np.testing.assert_allclose(shown, expected)
    # a J that is not translation invariant: the mean over the pairs at each offset
    J2 = rng.normal(size=(n, n))
    shown2 = np.ma.filled(
        F.couplings_figure(SimpleNamespace(J=J2), size).axes[1].images[0].get_array(), np.nan
    )
    right = [J2[i, i + 1] for i in range(n) if i % size != size - 1]  # offset (0, +1)
    assert shown2[size - 1, size] == pytest.approx(np.mean(right))


def test_avalanche_figure_tail_is_the_fitted_power_law_with_the_tail_share():
    rng = np.random.default_rng(1)
    sizes = np.concatenate([rng.integers(1, 4, 300), np.floor(4 * rng.pareto(0.5, 200) + 4)])
    durations = rng.integers(1, 30, 500)
    fits = {"sizes": SimpleNamespace(alpha=1.5, xmin=4.0), "durations": None}
    av = SimpleNamespace(sizes=sizes.astype(int), durations=durations)
    fig = F.avalanche_figure(av, fits, tag="after")
    points, line = fig.axes[0].lines
    u, c = np.unique(sizes, return_counts=True)
    np.testing.assert_allclose(points.get_xdata(), u)
    np.testing.assert_allclose(points.get_ydata(), c / len(sizes))
    x, p = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata())
    assert x.min() == 4 and set(x) == set(u[u >= 4])
    slopes = np.diff(np.log(p)) / np.diff(np.log(x))
    np.testing.assert_allclose(slopes, -1.5)  # P(x) ~ x^-alpha
    assert p.sum() == pytest.approx(np.mean(sizes >= 4))  # the tail's share of all avalanches
    assert len(fig.axes[1].lines) == 1  # no fit for the durations: their points only
    assert str(len(sizes)) in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_memories_figure_bars_are_shares_of_held_out_patches():
    size = 2
    memories = np.array([[1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 1, 1]])
    energies = np.array([-3.0, -2.0, -0.5])
    counts = np.array([6, 3, 1])
    fig = F.memories_figure(memories, energies, counts, size)
    bars = [b.get_height() for b in fig.axes[1].patches]
    np.testing.assert_allclose(bars, [0.6, 0.3, 0.1])
    np.testing.assert_allclose(fig.axes[2].lines[0].get_ydata(), energies)
    empty = F.memories_figure(memories, energies, np.zeros(3), size)  # nothing descended: no NaN
    np.testing.assert_array_equal([b.get_height() for b in empty.axes[1].patches], 0.0)


def test_rates_figure_histograms_every_unit_and_marks_the_target():
    before = np.array([0.0, 1.0, 2.0, 2.5, 9.0])
    after = np.array([4.0, 5.0, 5.0, 6.0, 5.5])
    fig = F.rates_figure(before, after, target=5.0)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == len(before) + len(after)
    assert ax.lines[0].get_xdata()[0] == 5.0
    labels = " | ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "before: mean 2.90 Hz" in labels and "after: mean 5.10 Hz" in labels
    only = F.rates_figure(before, None, target=20.0).axes[0]
    assert sum(p.get_height() for p in only.patches) == len(before)
    edges = [p.get_x() + p.get_width() for p in only.patches]
    assert max(edges) == pytest.approx(20.0 * 1.05, rel=1e-6)  # the bins reach past the target


@pytest.mark.parametrize("corrected", [False, True])
def test_branching_figure_draws_each_fit_as_b_m_to_the_k_plus_c(corrected):
    """Each fit as b m^k + c over the lags; bias-corrected, also the slopes it expects of the
    trials (ExpFit.observed), which the points follow."""
    import warnings

    import infodyn.criticality as C

    act = C.simulate_branching_process(0.9, 10.0, 300, trials=10, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        br = C.branching_ratio(act, dt=4.0, kmax=20, n_boot=0, bias_correction=corrected)
    ax = F.branching_figure(br, "before").axes[0]
    lines = [ln for ln in ax.lines if len(ln.get_xdata()) == len(br.k)]
    dashed = [ln for ln in lines if ln.get_linestyle() == "--"]
    solid = [ln for ln in lines if ln.get_linestyle() == "-"]
    assert len(solid) == 2 and len(dashed) == (2 if corrected else 0)
    for f, ln in zip(br.fits.values(), solid, strict=True):
        np.testing.assert_array_equal(ln.get_xdata(), br.k)
        want = f.observed if corrected else f.b * f.m ** br.k.astype(float) + f.c
        np.testing.assert_allclose(ln.get_ydata(), want)
    for f, ln in zip(br.fits.values(), dashed, strict=corrected):
        np.testing.assert_allclose(ln.get_ydata(), f.b * f.m ** br.k.astype(float) + f.c)
    assert "bins of 4 ms" in ax.get_xlabel()


def test_training_figure_plots_every_loss_term_and_gaps_for_missing_branching():
    history = [
        {
            "iteration": i,
            "loss_task": 1.0 / (i + 1),
            "loss_rate": 0.1,
            "mean_rate_hz": 3.0 + i,
            "branching": None if i == 1 else 0.9,
            "error_rate": 0.5 - 0.1 * i,
        }
        for i in range(4)
    ]
    fig = F.training_figure(history, SimpleNamespace(rate_target_hz=5.0))
    losses, rate, branching, info = fig.axes
    assert sorted(ln.get_label() for ln in losses.lines) == ["rate", "task"]
    np.testing.assert_allclose(rate.lines[0].get_ydata(), [3, 4, 5, 6])
    assert rate.lines[1].get_ydata()[0] == 5.0  # the target line
    b = np.asarray(branching.lines[0].get_ydata(), float)
    assert np.isnan(b[1]) and np.all(b[[0, 2, 3]] == 0.9)
    assert [ln.get_label() for ln in info.lines] == ["decoding error"]


def test_stimuli_figure_splits_rates_into_on_and_off_images():
    size, k = 2, 3
    grey = np.arange(k * 4, dtype=float).reshape(k, 4)
    rates = np.arange(k * 8, dtype=float).reshape(k, 8)
    fig = F.stimuli_figure(grey, rates, size)
    axes = np.asarray(fig.axes).reshape(3, k)
    for j in range(k):
        np.testing.assert_array_equal(axes[0, j].images[0].get_array(), grey[j].reshape(2, 2))
        np.testing.assert_array_equal(axes[1, j].images[0].get_array(), rates[j, :4].reshape(2, 2))
        np.testing.assert_array_equal(axes[2, j].images[0].get_array(), rates[j, 4:].reshape(2, 2))
    assert axes[1, 0].images[0].get_clim() == (0, rates.max())
    assert "max 23 Hz" in fig.texts[0].get_text()


def test_denoising_figure_draws_only_methods_every_row_has():
    rows = [
        {"k": 1, "bits_wrong_after_posterior_pairwise": 0.2, "bits_wrong_after_memory_descent": 1},
        {"k": 3, "bits_wrong_after_posterior_pairwise": 0.9},
    ]
    ax = F.denoising_figure(rows, 4).axes[0]
    assert [ln.get_label() for ln in ax.lines] == [
        "corrupted (k flips)",
        "posterior descent, pairwise prior",
    ]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.2, 0.9])
    # on top: a prior that cleans nothing draws its line on the corrupted one, and hid it
    assert ax.lines[0].get_zorder() > ax.lines[1].get_zorder()


def test_energy_trajectory_figure_times_colours_and_transitions():
    E = np.array([-1.0, -2.0, -2.5, -0.5])
    labels = np.array([0, 0, -1, 2])
    T = np.array([[0.5, 0.5], [0.0, 1.0]])
    fig = F.energy_trajectory_figure(E, labels, bin_ms=5.0, transition=T)
    a1, a2 = fig.axes[:2]
    np.testing.assert_allclose(a1.lines[0].get_xdata(), [0, 5, 10, 15])
    # one colour a memory, named in a legend (the colours had none)
    names = [t.get_text() for t in a1.get_legend().get_texts()]
    assert names == ["no memory", "memory 0", "memory 2"]
    for points, at in zip(a1.collections, ([2], [0, 1], [3]), strict=True):
        np.testing.assert_allclose(points.get_offsets(), np.c_[5.0 * np.array(at), E[at]])
    np.testing.assert_array_equal(a2.images[0].get_array(), T)
    assert [t.get_position()[0] for t in a2.get_xticklabels()] == [0, 1]  # whole ticks
    none = F.energy_trajectory_figure(E, labels, bin_ms=5.0, transition=None)
    assert not none.axes[1].axison


def test_grids_show_the_patches_in_order():
    size = 2
    train = SimpleNamespace(grey=np.arange(12.0).reshape(3, 4), values=np.ones((3, 4)))
    samples, ind = np.zeros((5, 4)), np.eye(4)
    fig = F.patches_figure(train, samples, ind, size)
    grid = np.ma.filled(fig.axes[0].images[0].get_array(), np.nan)
    for j in range(3):  # patch j at column j of the first row of the grid (padding 1)
        np.testing.assert_array_equal(grid[1:3, 1 + 3 * j : 3 + 3 * j], train.grey[j].reshape(2, 2))
    response = F.response_memories_figure(
        np.array([[1, 0, 1], [0, 1, 1]]),
        np.array([[0.1, 0.2, 0.3, 0.4], [np.nan] * 4]),
        np.array([7, 0]),
        np.array([0.75, 0.25]),
        size,
    )
    top = response.axes[:2]
    assert [a.get_title() for a in top] == ["75%", "25%"]
    np.testing.assert_array_equal(top[0].images[0].get_array()[:, 0], [1, 0, 1])
    bottom = response.axes[2:]
    np.testing.assert_allclose(bottom[0].images[0].get_array(), [[0.1, 0.2], [0.3, 0.4]])
    assert not bottom[1].images  # no events: no triggered average drawn

"""Run figures (infodyn.experiments.figures): the raster's rate trace on runs shorter than its
10 ms smoothing window (n_steps = 5 at dt = 1 was an internal error after the run, as was a
dt of 1e-300 ms)."""

from __future__ import annotations

import numpy as np
import pytest

from infodyn.data.spikes import SpikeTrain
from infodyn.experiments.figures import raster_figure


@pytest.mark.parametrize(("n_steps", "dt"), [(5, 1.0), (1, 1.0), (40, 1e-300), (300, 0.1)])
def test_raster_rate_has_one_value_per_step(n_steps, dt):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    z = (rng.random((n_steps, 4)) < 0.3).astype(np.uint8)
    fig = raster_figure(SpikeTrain.from_dense(z, dt=dt))
    (line,) = fig.axes[1].get_lines()
    rate = line.get_ydata()
    assert rate.shape == (n_steps,) and np.all(np.isfinite(rate))
    if n_steps == 300:  # 100 steps of 0.1 ms smoothed: the mean rate is kept inside
        mid = rate[60:240].mean()
        assert mid == pytest.approx(z[60:240].mean() * 1000.0 / dt, rel=0.15)
    plt.close(fig)


def test_raster_rate_is_smoothed_over_10_ms():
    z = np.zeros((300, 1), np.uint8)
    z[150, 0] = 1
    fig = raster_figure(SpikeTrain.from_dense(z, dt=0.1))
    rate = fig.axes[1].get_lines()[0].get_ydata()
    assert np.count_nonzero(rate) == 100  # 10 ms / 0.1 ms steps
    assert rate.sum() * 0.1 / 1000.0 == pytest.approx(1.0)  # one spike in all


def test_raster_shows_max_units_units():
    z = np.zeros((20, 4), np.uint8)
    z[5, :] = 1
    fig = raster_figure(SpikeTrain.from_dense(z), max_units=2)
    units = fig.axes[0].get_lines()[0].get_ydata()
    assert sorted(units) == [0, 1]


def test_a_steady_rate_stays_steady_to_the_edges_and_the_window_is_named():
    """The 10-ms mean padded zeros past the ends: a steady 25 Hz fell to about half in the
    first and last 5 ms; a raster of the first 2000 of 3000 ms did not say so."""
    z = (np.random.default_rng(0).random((3000, 200)) < 0.025).astype(np.uint8)  # 25 Hz
    fig = raster_figure(SpikeTrain.from_dense(z))
    rate = fig.axes[1].get_lines()[0].get_ydata()
    for edge in (rate[:3], rate[-3:], rate[900:1100]):  # (padding gave ~12.5 Hz at the ends)
        assert 0.8 * 25 < edge.mean() < 1.2 * 25
    assert "first 2000 of 3000 ms" in fig.axes[0].get_title()


@pytest.mark.parametrize("case", ["no spikes", "one step", "a few"])
def test_raster_axes_span_the_units_and_time_of_its_title(case):
    """The axes fitted what spiked: with no spike (or one step) the unit axis ran -0.05 to 0.05
    and time went negative, though the title said 50 units."""
    import matplotlib.pyplot as plt

    z = np.zeros((1 if case == "one step" else 200, 50), np.uint8)
    if case == "a few":
        z[[10, 20], [3, 7]] = 1
    fig = raster_figure(SpikeTrain.from_dense(z, dt=0.5))
    ax, ax2 = fig.axes
    assert ax.get_ylim() == (-0.5, 49.5) and ax.get_xlim() == (0.0, z.shape[0] * 0.5)
    assert ax2.get_ylim()[0] == 0.0
    said = [t.get_text() for t in ax.texts]
    assert said == (["no spikes"] if case != "a few" else [])
    plt.close(fig)

"""Shared figure helpers (infodyn.plotting)."""

import numpy as np

from infodyn.experiments.info_run import pairwise_mi_figure
from infodyn.plotting import label_matrix_ticks, pyplot


def test_matrix_ticks_name_the_units_not_their_positions():
    """info --units 40-59 labelled its MI matrix 0..19 at half steps: the brightest cell of
    units 41 and 51 read "unit 1", "unit 11"."""
    ids = np.arange(40, 60)
    fig = pairwise_mi_figure(np.eye(20), "bits", ids)
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        ticks, labels = axis.get_ticklocs(), axis.get_ticklabels()
        assert np.all(ticks == np.round(ticks)) and ticks.min() == 0 and ticks.max() == 19
        assert [t.get_text() for t in labels] == [str(40 + int(t)) for t in ticks]
    fig, ax = pyplot().subplots()
    label_matrix_ticks(ax, [0, 1, 3], axes="y")  # bit 2 dropped: the third row is bit 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "3"]
    pyplot().close("all")


def test_a_large_mi_matrix_is_drawn_as_block_means_without_copies_of_it():
    # the whole matrix drawn took ~100 bytes a pair (940 MB at 3,000 units), beyond what
    # infodyn info's memory check counts
    import tracemalloc

    n = 1500
    mi = np.random.default_rng(0).random((n, n))
    mi = (mi + mi.T) / 2
    tracemalloc.start()
    try:
        fig = pairwise_mi_figure(mi, "bits")
        fig.canvas.draw()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 80e6, peak  # drawing the whole matrix took about 225 MB here
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (750, 750)
    want = np.nanmean(np.where(np.eye(n, dtype=bool), np.nan, mi)[:2, 2:4])
    assert abs(image[0, 1] - want) < 1e-12
    counts = fig.axes[1].patches[0].get_data().values
    assert counts.sum() == n * (n - 1) // 2  # every pair once
    pyplot().close("all")

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

"""Gaze paths over an image (infodyn.data.gaze)."""

from __future__ import annotations

import numpy as np
import pytest

from infodyn.data.gaze import saccade_path
from infodyn.data.image_files import builtin_image
from infodyn.errors import InputError


def test_saccade_path_fixations_drift_and_patches():
    p = saccade_path("camera", size=4, n_fixations=6, fixation_steps=(50, 80), drift=0.3, seed=2)
    q = saccade_path("camera", size=4, n_fixations=6, fixation_steps=(50, 80), drift=0.3, seed=2)
    np.testing.assert_array_equal(p.grey, q.grey)
    T = len(p.row)
    assert 300 <= T <= 480 and p.grey.shape == (T, 16)
    img = builtin_image("camera")
    for t in range(0, T, 7):
        np.testing.assert_array_equal(
            p.grey[t].reshape(4, 4), img[p.row[t] : p.row[t] + 4, p.col[t] : p.col[t] + 4]
        )
    step = np.abs(np.diff(p.row)) + np.abs(np.diff(p.col))
    same = np.diff(p.fixation) == 0
    assert np.all(step[same] <= 1)  # drift: one pixel at a time within a fixation
    assert 0.24 < np.mean(step[same] == 1) < 0.36  # moves with probability drift (n ~ 390)
    for f in range(6):
        sel = p.fixation == f
        assert np.ptp(p.row[sel]) <= 4 and np.ptp(p.col[sel]) <= 4  # within max_offset = 2
    assert np.all(p.row <= 512 - 4) and np.all(p.col <= 512 - 4)
    fixed = saccade_path("camera", n_fixations=1, fixation_steps=20, drift=0.0, start=(10, 20))
    assert np.all(fixed.row == 10) and np.all(fixed.col == 20)


def test_saccade_options_are_checked():
    """n_fixations=2.5 and fixation_steps=150.0 were raw TypeErrors; start=(1, 2, 3) was taken
    as (1, 2)."""
    import pytest

    from infodyn.errors import InputError

    bad = [
        ({"n_fixations": 2.5}, "n_fixations must be a whole number"),
        ({"fixation_steps": 150.0}, "fixation_steps must be a whole number"),
        ({"fixation_steps": (50, 20)}, "a range lo <= hi"),
        ({"fixation_steps": (1, 2, 3)}, "a step count or a range"),
        ({"start": (1, 2, 3)}, r"start must be a \(row, column\) pair"),
        ({"fixation_steps": 0}, "fixation_steps must be a whole number >= 1"),
    ]
    for kwargs, message in bad:
        with pytest.raises(InputError, match=message):
            saccade_path("camera", **{"n_fixations": 2, "fixation_steps": 10, **kwargs})
    path = saccade_path("camera", n_fixations=2, fixation_steps=np.int64(10), drift=0.0, seed=0)
    assert len(path.row) == 20


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(drift=True), "drift must be a probability"),  # a drift of 1
        (dict(drift="0.3"), "drift must be a probability"),  # a raw TypeError
        (dict(max_offset=2.5), "max_offset must be a whole number"),
    ],
)
def test_saccade_path_options_take_numbers(kw, message):
    with pytest.raises(InputError, match=message):
        saccade_path("camera", size=4, n_fixations=2, fixation_steps=10, **kw)


def test_a_fractional_start_is_refused():
    from infodyn.data.gaze import saccade_path

    img = np.random.default_rng(0).random((20, 20))
    with pytest.raises(InputError, match="whole pixels"):  # it started at (1, 2), unsaid
        saccade_path(img, 4, 10, start=(1.5, 2.7), seed=0)


def test_a_folder_of_several_images_is_refused_in_one_line(tmp_path):
    """A folder of two images: "too many values to unpack (expected 1)"."""
    from PIL import Image

    for k in range(2):
        Image.fromarray(np.full((16, 16), 40 * k + 10, np.uint8)).save(tmp_path / f"{k}.png")
    with pytest.raises(InputError, match="one image, this holds 2"):
        saccade_path(str(tmp_path), size=4, n_fixations=2, seed=0)


def test_the_gaze_moves_with_probability_drift_and_names_its_arguments():
    """A step drawn among all four neighbours was dropped where it left the box, so drift = 1
    moved at 2/3 of the steps (size 2, max_offset 1); a neighbour is now drawn among those
    allowed. seed=None drew another path at each call; a NaN image was named "images[0]"."""
    image = np.random.default_rng(0).random((64, 64))
    g = saccade_path(image, size=2, n_fixations=50, fixation_steps=40, drift=1.0, seed=0)
    same = np.diff(g.fixation) == 0
    assert np.all((np.abs(np.diff(g.row)) + np.abs(np.diff(g.col)))[same] == 1)
    still = saccade_path(image, size=2, n_fixations=3, fixation_steps=20, drift=1.0, max_offset=0)
    assert np.all(np.diff(still.row)[np.diff(still.fixation) == 0] == 0)  # nowhere to go
    with pytest.raises(InputError, match="seed must be a whole number"):
        saccade_path(image, seed=None)
    bad = image.copy()
    bad[3, 3] = np.nan
    with pytest.raises(InputError, match="^image contains NaN"):
        saccade_path(bad)
    with pytest.raises(InputError, match=r"needs 0 <= row <= 60 and 0 <= column <= 60"):
        saccade_path(image[:64, :64], size=4, start=(61, 0))

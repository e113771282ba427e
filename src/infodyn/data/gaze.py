"""Patches seen along a saccade-like gaze path over one image (a natural-image stimulus in time).

The gaze jumps (saccades) between fixation points drawn uniformly over the image; during each
fixation it drifts one pixel at a time to a random neighbour (fixational eye movements), staying
near the fixation point and inside the image. :mod:`infodyn.learning.tasks` builds its
natural-movie task on these paths; :mod:`infodyn.data.images` cuts patches at random positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infodyn.data.image_files import ImageSpec, load_images
from infodyn.errors import array_or_none, is_finite_number, make_rng, require, whole_number

_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass
class GazePath:
    """Patches seen along a gaze path: ``grey`` (T, size*size), top-left ``row``/``col`` (T,)
    and the ``fixation`` index of each step (T,)."""

    grey: np.ndarray
    row: np.ndarray
    col: np.ndarray
    fixation: np.ndarray
    size: int


def saccade_path(
    image: ImageSpec,
    size: int = 4,
    n_fixations: int = 10,
    fixation_steps: int | tuple[int, int] = (100, 300),
    drift: float = 0.1,
    seed: int = 0,
    start: tuple[int, int] | None = None,
    max_offset: int | None = None,
) -> GazePath:
    """The patches under a saccade-like gaze path over one image.

    The gaze jumps (saccades) between ``n_fixations`` fixation points drawn uniformly over the
    image (the first at ``start`` when given). Each fixation lasts ``fixation_steps`` steps (or
    a uniform integer in the given range) during which the gaze drifts: at every step it moves
    by one pixel with probability ``drift`` (fixational eye movements), to a neighbour drawn
    uniformly among the four that stay within ``max_offset`` pixels of the fixation point
    (default: ``size // 2``) and inside the image (it stays where none does).
    ``seed``: a whole number >= 0 (None drew a different path each call).
    """
    require(  # None drew from the OS: another path at every call
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0,
        f"seed must be a whole number >= 0, got {seed!r:.40}",
    )
    loaded = load_images([image], what="image")
    require(  # a folder of two: "too many values to unpack"
        len(loaded) == 1,
        f"{image}: saccade_path follows one image, this holds {len(loaded)}; name one of them",
    )
    ((name, grey),) = loaded
    H, W = grey.shape
    size = whole_number(size, "size", minimum=1)  # 0 gave empty patches
    require(H >= size and W >= size, f"{name}: image {grey.shape} is smaller than the patch")
    n_fixations = whole_number(n_fixations, "n_fixations", minimum=1)  # 2.5: a raw TypeError
    require(  # True was a drift of 1
        is_finite_number(drift) and 0.0 <= drift <= 1.0,
        f"drift must be a probability in [0, 1], got {drift!r}",
    )
    if max_offset is not None:  # -1 never drifted; 2.5 and 1e300 were taken
        max_offset = whole_number(max_offset, "max_offset")
    require(
        max_offset is None or max_offset >= 0, f"max_offset must be >= 0 pixels, got {max_offset}"
    )
    steps = array_or_none(fixation_steps)  # a ragged list: NumPy's "inhomogeneous shape"
    require(steps is not None, f"fixation_steps must be a step count or a range (lo, hi), got "
            f"{fixation_steps!r:.60}")  # fmt: skip
    one = steps.ndim == 0  # np.int64(5) was not "an int"; 150.0 a raw TypeError
    span = (fixation_steps, fixation_steps) if one else tuple(fixation_steps)
    require(len(span) == 2, f"fixation_steps must be a step count or a range (lo, hi), got {span}")
    lo, hi = (whole_number(v, "fixation_steps", minimum=1) for v in span)
    require(lo <= hi, f"fixation_steps must be a range lo <= hi, got {span}")
    if start is not None:  # (1, 2, 3) was taken as (1, 2)
        pair = array_or_none(start)
        require(  # (1.5, 2.7) started at (1, 2), unsaid
            pair is not None
            and pair.shape == (2,)
            and all(is_finite_number(v) and float(v).is_integer() for v in pair.tolist()),
            f"start must be a (row, column) pair of whole pixels, got {start!r}",
        )
    reach = size // 2 if max_offset is None else int(max_offset)
    rng = make_rng(seed)
    rows, cols, fix = [], [], []
    for f in range(n_fixations):
        if f == 0 and start is not None:
            r0, c0 = int(start[0]), int(start[1])
            require(
                0 <= r0 <= H - size and 0 <= c0 <= W - size,
                f"start {(r0, c0)} is outside the image: a patch of {size} at (row, column) "
                f"needs 0 <= row <= {H - size} and 0 <= column <= {W - size}",
            )
        else:
            r0, c0 = int(rng.integers(0, H - size + 1)), int(rng.integers(0, W - size + 1))
        n = int(rng.integers(lo, hi + 1))
        moves = rng.random(n) < drift
        picks = rng.random(n)
        r, c = r0, c0
        for t in range(n):
            if t > 0 and moves[t]:  # a neighbour drawn among those allowed (a step drawn
                # among all four and dropped where it left the box moved 2/3 as often as said)
                allowed = [
                    (r + dr, c + dc)
                    for dr, dc in _NEIGHBOURS
                    if abs(r + dr - r0) <= reach
                    and abs(c + dc - c0) <= reach
                    and 0 <= r + dr <= H - size
                    and 0 <= c + dc <= W - size
                ]
                if allowed:  # none: max_offset = 0, or an image one patch wide and high
                    r, c = allowed[int(picks[t] * len(allowed))]
            rows.append(r)
            cols.append(c)
            fix.append(f)
    row, col = np.array(rows), np.array(cols)
    off = np.arange(size)
    patches = grey[row[:, None, None] + off[None, :, None], col[:, None, None] + off[None, None, :]]
    return GazePath(patches.reshape(len(row), -1), row, col, np.array(fix), size)

"""Natural-image patches: grey-level images, seeded patch sampling, whitening, binarisation.

Images
    The built-in images ship inside installed packages, so nothing is downloaded:
    scikit-image ``camera``, ``astronaut``, ``coffee``, ``chelsea``, ``rocket`` and the textures
    ``grass``, ``gravel``, ``brick``; scikit-learn's sample images ``china`` and ``flower``.
    Colour images become grey levels with the ITU-R BT.709 luminance weights
    ``Y = 0.2125 R + 0.7154 G + 0.0721 B`` (as ``skimage.color.rgb2gray``); grey levels are
    scaled to [0, 1] (uint8 / 255, uint16 / 65535; signed integers must be >= 0 and count as
    8-bit levels up to 255, else 16-bit ones up to 65535; float images are taken as they are).
    A user's own images are file paths (PNG, JPEG, TIFF, BMP, GIF, ``.npy`` arrays, anything
    Pillow/imageio reads), folders (every non-hidden file in them, sorted by name) or arrays.

Sampling
    Patch positions are drawn uniformly over the valid top-left corners of all images, so each
    image contributes in proportion to its area. The same ``seed`` gives the same patches.
    ``min_contrast`` rejects patches whose grey-level standard deviation is below it (flat sky,
    saturated regions).

Held-out splits
    ``split="region"``: each image is cut into a left part (training patches) and a right part
    (held-out patches, the last ``held_out`` fraction of its columns); no patch crosses the cut,
    and with difference-of-Gaussians whitening a guard band of the surround kernel's radius r
    (:func:`dog_radius`, ``int(4 sigma_surround + 0.5)`` pixels) lies on each side of the cut:
    training patches end r columns before it and held-out ones start r after it, and the
    filtered image is scaled by the std of its columns before ``cut - r``, so no held-out pixel
    influences a training patch and no training pixel a held-out one, apart from the common
    scale (with one band, both read the r columns after the cut).
    ``split="image"``: whole images are held out (``round(held_out * n_images)``, at least one,
    chosen with the seed; or the images named in ``held_out``).

Whitening
    ``"zca"``: ``W = U diag((lambda + eps)^-1/2) U^T`` from the eigen-decomposition
    ``C = U diag(lambda) U^T`` of the training patches' pixel covariance (Bell & Sejnowski 1997);
    ``eps = zca_epsilon * mean(lambda)`` regularises the weakest directions. Patches are centred
    on the training pixel means; the held-out patches use the training ``W`` (no leakage).
    The whitened training covariance is ``U diag(lambda / (lambda + eps)) U^T`` (identity as
    ``eps -> 0``).
    ``"dog"``: each image is filtered by a difference of Gaussians,
    ``I * (G_sigma_c - G_sigma_s)`` (centre-surround, the retina's approximate whitening filter
    for the 1/f^2 power spectrum of natural images; Atick & Redlich 1992), then divided by its
    standard deviation; patches are cut from the filtered image. The default
    ``dog_sigmas = (0.5, 1.5)`` pixels halves the correlation of neighbouring pixels and all
    but removes it two pixels apart, more so along rows than columns, since the built-in images
    hold more vertical structure (10^4 4x4 patches, seed 0: side by side 0.96 -> 0.51 and
    0.91 -> 0.00 two apart; one above the other 0.96 -> 0.59 and 0.92 -> 0.19).

Binarisation (patterns ``x`` in {0,1}^(size*size) for the energy model)
    ``"mean"``: ``x_i = 1`` where the grey level is above the patch's own mean (the whitened
    value when a whitening is chosen). Every patch that is not flat has between 1 and
    ``size^2 - 1`` ones; a flat patch is all zeros (use ``min_contrast > 0`` to exclude them).
    On the default images (4x4, no whitening, seed 0, 10,000 patches) the fraction of ones is
    0.489 and 1.2 % of patches are flat (0.501 and none with ``min_contrast=0.02``).
    ``"sign"``: ``x_i = 1`` where the whitened value is positive; needs ``whiten``. The ones per
    patch are no longer constrained. Whitened natural images are centred but skewed (sparse,
    heavy-tailed responses), so the fraction of ones is a little below one half after ZCA
    (0.447, every pixel between 0.43 and 0.46) and close to it after DoG (0.504).
    ``tests/data/test_images.py`` checks these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np

from infodyn.data.image_files import (  # noqa: F401 - re-exported: the old home of these names
    BUILTIN_IMAGES,
    SKIMAGE_IMAGES,
    SKLEARN_IMAGES,
    ImageSpec,
    builtin_image,
    load_images,
    read_image,
    to_grey,
)
from infodyn.data.whitening import (  # noqa: F401 - re-exported: the old home of these names
    ZCAWhitener,
    binarize_patches,
    dog_filter,
    dog_radius,
)
from infodyn.errors import (
    is_finite_number,
    require,
    require_choice,
    require_flag,
    whole_number,
)
from infodyn.memory import require_memory

#: the difference-of-Gaussians whitening's (centre, surround) sigmas by default, in pixels
DOG_SIGMAS = (0.5, 1.5)

# ---------------------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------------------


@dataclass
class Patches:
    """Patches with their provenance. ``values`` is what :func:`natural_patches` returns."""

    values: np.ndarray  # (n, size*size): binary uint8, whitened or grey float64
    grey: np.ndarray  # (n, size*size) grey levels in [0, 1] at the same places
    image: np.ndarray  # (n,) index into image_names
    row: np.ndarray  # (n,) top-left row
    col: np.ndarray  # (n,) top-left column
    image_names: list[str]
    size: int
    whitened: np.ndarray | None = None  # (n, size*size) before binarisation, when whitened
    whitener: ZCAWhitener | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.values)

    def as_images(self, which: str = "values") -> np.ndarray:
        """``values``/``grey``/``whitened`` reshaped to (n, size, size)."""
        return np.asarray(getattr(self, which)).reshape(-1, self.size, self.size)


class PatchSplit(NamedTuple):
    """Training and held-out patches (arrays, or :class:`Patches` with ``details=True``)."""

    train: Any
    test: Any


@dataclass
class _Source:
    index: int  # position in the loaded image list
    grey: np.ndarray
    work: np.ndarray  # what patches are cut from: grey, or DoG-filtered grey
    col_lo: int  # allowed top-left columns [col_lo, col_hi]
    col_hi: int
    size: int

    @property
    def n_positions(self) -> int:
        rows = self.grey.shape[0]
        return max(0, rows - self.size + 1) * max(0, self.col_hi - self.col_lo + 1)


def _draw(
    sources: list[_Source], size: int, n: int, rng: np.random.Generator, min_contrast: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` patches uniformly over all valid positions of ``sources``."""
    counts = np.array([s.n_positions for s in sources], dtype=np.float64)
    require(counts.sum() > 0, f"no room for {size}x{size} patches in the chosen images")
    p = counts / counts.sum()
    idx_out, r_out, c_out, g_out, w_out = [], [], [], [], []
    have, tries, drawn, passed = 0, 0, 0, 0
    off = np.arange(size)
    most = max(64, 2**22 // (size * size))  # a round's draws: at most 64 MB of patches
    while have < n:
        tries += 1
        require(  # none in 10^6 positions: the rounds after them would find none either
            tries <= 100 and not (drawn >= 10**6 and passed == 0),
            f"could not find {n} patches with contrast >= {min_contrast}: {passed:,} of "
            f"{drawn:,} random positions had it; lower min_contrast or use images with more "
            "texture",
        )
        # 1.3x the missing patches a round for 50 rounds (as before: the same patches for a
        # seed), then rounds drawn for the acceptance seen (the fixed rounds gave up at ~5 %
        # acceptance with thousands of valid positions left)
        m = max(64, int(1.3 * (n - have)) + 16)
        if tries > 50:
            m = min(max(m, int(1.3 * (n - have) / max(passed / drawn, 1e-4)) + 16), most)
        img = rng.choice(len(sources), size=m, p=p)
        rows = np.empty(m, dtype=np.int64)
        cols = np.empty(m, dtype=np.int64)
        grey = np.empty((m, size * size))
        work = np.empty((m, size * size))
        for k, s in enumerate(sources):
            sel = np.flatnonzero(img == k)
            if sel.size == 0:
                continue
            rr = rng.integers(0, s.grey.shape[0] - size + 1, size=sel.size)
            cc = rng.integers(s.col_lo, s.col_hi + 1, size=sel.size)
            rows[sel], cols[sel] = rr, cc
            ri = rr[:, None, None] + off[None, :, None]
            ci = cc[:, None, None] + off[None, None, :]
            grey[sel] = s.grey[ri, ci].reshape(sel.size, -1)
            work[sel] = s.work[ri, ci].reshape(sel.size, -1)
        keep = grey.std(axis=1) >= min_contrast if min_contrast > 0 else np.ones(m, bool)
        drawn, passed = drawn + m, passed + int(keep.sum())
        keep_idx = np.flatnonzero(keep)[: n - have]
        idx_out.append(img[keep_idx])
        r_out.append(rows[keep_idx])
        c_out.append(cols[keep_idx])
        g_out.append(grey[keep_idx])
        w_out.append(work[keep_idx])
        have += keep_idx.size
    return (
        np.concatenate(idx_out),
        np.concatenate(r_out),
        np.concatenate(c_out),
        np.concatenate(g_out),
        np.concatenate(w_out),
    )


def natural_patches(
    size: int = 4,
    n: int = 10000,
    seed: int = 0,
    images: ImageSpec | Sequence[ImageSpec] | None = None,
    whiten: Literal["zca", "dog"] | None = None,
    binarize: Literal["mean", "sign"] | None = None,
    held_out: float | Sequence[str] | None = None,
    split: Literal["region", "image"] = "region",
    n_test: int | None = None,
    min_contrast: float = 0.0,
    dog_sigmas: tuple[float, float] = DOG_SIGMAS,
    zca_epsilon: float = 1e-2,
    details: bool = False,
) -> Any:
    """Square patches of natural images, flattened row by row to (n, size*size).

    Parameters
    ----------
    size, n, seed
        Patch side in pixels, number of (training) patches, random seed (same seed, same patches).
    images
        ``None`` (all :data:`BUILTIN_IMAGES`), or names / file paths / folders / arrays.
    whiten
        ``None``, ``"zca"`` (fitted on the training patches) or ``"dog"`` (difference of
        Gaussians with ``dog_sigmas = (centre, surround)`` pixels, applied to whole images).
    binarize
        ``None`` (real values), ``"mean"`` (1 above the patch's own mean) or ``"sign"`` (1 where
        the whitened value is positive; needs ``whiten``). Binary patches are uint8.
    held_out
        ``None``: return one array. A fraction in (0, 1): also return held-out patches from the
        last ``held_out`` of each image's columns (``split="region"``) or from a fraction of
        whole images (``split="image"``). A list of image names: hold out those images.
    n_test
        Number of held-out patches (default ``round(n * held_out)``, or ``n // 4`` for a list).
    min_contrast
        Reject patches whose grey-level standard deviation is below this.
    details
        Return :class:`Patches` objects (grey levels, positions, source images) instead of arrays.

    Returns
    -------
    An (n, size*size) array, or ``PatchSplit(train, test)`` when ``held_out`` is given.
    """
    details = require_flag("details", details)
    size = whole_number(size, "size", minimum=1)  # True was a 1 x 1 patch
    n = whole_number(n, "n", minimum=1)
    require_choice("whiten", whiten, (None, "zca", "dog"))
    require_choice("binarize", binarize, (None, "mean", "sign"))
    require(
        not (binarize == "sign" and whiten is None),
        "binarize='sign' needs whitening (whiten='zca' or 'dog'); use binarize='mean' otherwise",
    )
    require(  # a 1 x 1 patch is its own mean: every word was 0, silently
        not (binarize == "mean" and size == 1),
        "binarize='mean' compares each pixel with its patch's mean, which a 1 x 1 patch equals "
        "(every bit 0): use size >= 2, or whitening with binarize='sign'",
    )
    require_choice("split", split, ("region", "image"))
    require(
        is_finite_number(min_contrast) and min_contrast >= 0,
        f"min_contrast must be a finite number >= 0, got {min_contrast!r}",
    )
    seed = whole_number(seed, "seed")  # -1 or 1.5: raw errors in SeedSequence
    if n_test is not None:
        n_test = whole_number(n_test, "n_test", minimum=1)
        require(held_out is not None, "n_test needs held_out (which patches to test on)")
    if isinstance(held_out, str):  # "camera" was read as the names c, a, m, e, r, a
        held_out = [held_out]
    elif isinstance(held_out, np.floating | np.integer):
        held_out = float(held_out)
    require(  # None: "object of type 'NoneType' has no len()"
        isinstance(dog_sigmas, tuple | list | np.ndarray) and len(dog_sigmas) == 2,
        f"dog_sigmas must be (centre, surround) pixels, got {dog_sigmas!r}",
    )
    require(
        is_finite_number(zca_epsilon) and zca_epsilon >= 0,
        f"zca_epsilon must be a finite number >= 0, got {zca_epsilon}",  # inf: all zeros
    )
    rows = n + (n_test or 0)
    require_memory(  # grey and working copies, kept and drawn, whitened, binarised (10^6 8x8
        64.0 * size * size * rows + 2**26,  # patches took 3.4 GB), and the images' filtering
        f"{rows:,} patches of {size}x{size} pixels",
        "draw fewer patches (n, n_test) or smaller ones",
    )
    loaded = load_images(images)
    reach = max(0.5 * float(np.ptp(g)) for _, g in loaded)  # no patch's std exceeds it
    require(  # 2.5 on grey levels in [0, 1] drew for a minute before it gave up
        min_contrast <= reach,
        f"min_contrast = {min_contrast:g} exceeds what any patch of these images can reach "
        + (
            "(they are flat: one grey level each, no patch has any contrast)"
            if reach == 0
            else f"(half their range of grey levels, {reach:g})"
        ),
    )
    names = [name for name, _ in loaded]
    region = held_out is not None and split == "region" and isinstance(held_out, float | int)

    def work(g: np.ndarray) -> np.ndarray:  # a region split scales by the training part's std
        if whiten != "dog":
            return g
        # the std of the columns whose filtered values read training pixels only
        cut = (
            max(_region_cut(g.shape[1], held_out) - dog_radius(dog_sigmas[1]), 1)
            if region
            else None
        )
        return dog_filter(g, *dog_sigmas, columns=slice(0, cut) if region else slice(None))

    work_imgs = [work(g) for _, g in loaded]
    guard = dog_radius(dog_sigmas[1]) if whiten == "dog" else 0

    train_src, test_src = _split_sources(loaded, work_imgs, size, held_out, split, guard, seed)
    if held_out is not None and n_test is None:
        n_test = round(n * held_out) if isinstance(held_out, float) else max(1, n // 4)
        require(n_test >= 1, f"n * held_out is below one test patch ({n} x {held_out}); set n_test")

    ss = np.random.SeedSequence(seed)
    rng_train, rng_test = (np.random.default_rng(s) for s in ss.spawn(2))
    train = _make(train_src, names, size, n, rng_train, min_contrast)
    test = _make(test_src, names, size, n_test, rng_test, min_contrast) if test_src else None

    if whiten == "zca":
        zca = ZCAWhitener.fit(train.whitened, zca_epsilon)
        for part in (train, test):
            if part is not None:
                part.whitened = zca.transform(part.whitened)
                part.whitener = zca
    for part in (train, test):
        if part is None:
            continue
        if whiten is None:
            part.whitened = None
            base = part.grey
        else:
            base = part.whitened
        part.values = binarize_patches(base, binarize) if binarize else base.copy()
    if test is None:
        return train if details else train.values
    if details:
        return PatchSplit(train, test)
    return PatchSplit(train.values, test.values)


def _make(
    sources: list[_Source],
    names: list[str],
    size: int,
    n: int,
    rng: np.random.Generator,
    min_contrast: float,
) -> Patches:
    idx, rows, cols, grey, work = _draw(sources, size, n, rng, min_contrast)
    image = np.array([s.index for s in sources], dtype=np.int64)[idx]
    return Patches(
        values=work,
        grey=grey,
        image=image,
        row=rows,
        col=cols,
        image_names=names,
        size=size,
        whitened=work,
    )


def _split_sources(
    loaded: list[tuple[str, np.ndarray]],
    work_imgs: list[np.ndarray],
    size: int,
    held_out: float | Sequence[str] | None,
    split: str,
    guard: int,
    seed: int,
) -> tuple[list[_Source], list[_Source]]:
    def src(i: int, lo: int, hi: int) -> _Source:
        return _Source(i, loaded[i][1], work_imgs[i], lo, hi, size)

    def full(i: int) -> _Source:
        return src(i, 0, loaded[i][1].shape[1] - size)

    for name, g in loaded:
        require(
            g.shape[0] >= size and g.shape[1] >= size,
            f"{name}: image {g.shape} is smaller than a {size}x{size} patch",
        )
    k = len(loaded)
    if held_out is None:
        return [full(i) for i in range(k)], []
    if not isinstance(held_out, (float, int)):
        require(  # 1j: "not iterable"; an array: "truth value ... is ambiguous"
            isinstance(held_out, list | tuple) and all(isinstance(w, str) for w in held_out),
            f"held_out must be a fraction or a list of image names, got {held_out!r:.60}",
        )
        wanted = list(held_out)
        names = [n for n, _ in loaded]
        missing = [w for w in wanted if w not in names]
        require(not missing, f"held_out names {missing} are not among the images {names}")
        test_ids = {names.index(w) for w in wanted}
        require(0 < len(test_ids) < k, "held_out must leave at least one training image")
        return (
            [full(i) for i in range(k) if i not in test_ids],
            [full(i) for i in sorted(test_ids)],
        )
    f = float(held_out)
    require(0 < f < 1, f"held_out must be a fraction in (0, 1), got {held_out}")
    if split == "image":
        require(k >= 2, "split='image' needs at least two images")
        n_test_imgs = min(k - 1, max(1, round(f * k)))
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        test_ids = set(rng.choice(k, size=n_test_imgs, replace=False).tolist())
        return (
            [full(i) for i in range(k) if i not in test_ids],
            [full(i) for i in sorted(test_ids)],
        )
    train, test = [], []
    for i, (_name, g) in enumerate(loaded):
        width = g.shape[1]
        cut = _region_cut(width, f)
        has_train, has_test = region_room(width, f, size, guard)
        if has_train:
            train.append(src(i, 0, cut - guard - size))
        if has_test:
            test.append(src(i, cut + guard, width - size))
    side = "training" if not train else "held-out"
    require(
        train and test,
        f"held_out={f} leaves no room for {size}x{size} patches on the {side} side of any image's "
        "cut",
    )
    return train, test


def region_room(width: int, held_out: float, size: int, guard: int) -> tuple[bool, bool]:
    """Whether a region split (``held_out`` of the columns) of an image ``width`` pixels wide
    has room for a ``size`` patch on its training side, ending ``guard`` pixels before the cut,
    and on its held-out side, starting ``guard`` pixels after it."""
    cut = _region_cut(width, held_out)
    return cut - guard - size >= 0, cut + guard <= width - size


def _region_cut(width: int, held_out: float) -> int:
    """The first held-out column of a region split of an image ``width`` pixels wide."""
    return int(round(width * (1.0 - float(held_out))))


def patch_grid(patches: np.ndarray, size: int, n_cols: int = 16, pad: int = 1) -> np.ndarray:
    """Tile (k, size*size) patches into one image (for figures); padding is NaN."""
    P = np.asarray(patches, dtype=np.float64).reshape(-1, size, size)
    k = len(P)
    n_rows = max(1, math.ceil(k / n_cols))
    cols = min(n_cols, max(k, 1))
    out = np.full((n_rows * (size + pad) + pad, cols * (size + pad) + pad), np.nan)
    for j, p in enumerate(P):
        r, c = divmod(j, cols)
        y, x = pad + r * (size + pad), pad + c * (size + pad)
        out[y : y + size, x : x + size] = p
    return out

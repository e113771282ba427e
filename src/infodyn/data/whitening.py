"""Whitening and binarisation of image patches (the "Whitening" and "Binarisation" sections of
:mod:`infodyn.data.images`): difference-of-Gaussians filtering of whole images (Atick & Redlich
1992), ZCA whitening of patches (Bell & Sejnowski 1997), and patterns in {0,1} from patches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.ndimage import gaussian_filter

from infodyn.errors import (
    InputError,
    finite_reals,
    is_finite_number,
    require,
    require_choice,
)


def dog_filter(
    image: np.ndarray,
    sigma_center: float = 0.5,
    sigma_surround: float = 1.5,
    columns: slice = slice(None),
) -> np.ndarray:
    """Difference-of-Gaussians filtered image ``I * (G_c - G_s)``, divided by its std (over
    ``columns`` of it: the training part of a region split).

    Boundaries are reflected (``scipy.ndimage.gaussian_filter`` mode "reflect"; kernels cut at
    4 sigma, a radius of :func:`dog_radius` pixels). The filter has zero response to a constant
    image, which therefore gives zeros, and to a constant region: responses within the
    convolution's rounding (at most 3 eps of the largest |grey level| for sigmas 0.3-6 pixels)
    are set to exactly 0, below ``1e-14`` of it (a flat region at 7 of the 256 8-bit grey
    levels, 45/255 among them, came out about 1e-16 positive, and ``binarize="sign"`` made it
    all ones).
    """
    require(  # True was a centre of 1 pixel, "a" a raw TypeError
        is_finite_number(sigma_center)
        and is_finite_number(sigma_surround)
        and 0 < sigma_center < sigma_surround,
        f"dog_sigmas must satisfy 0 < centre < surround (finite numbers), got "
        f"({sigma_center!r}, {sigma_surround!r})",
    )
    require(isinstance(columns, slice), f"columns must be a slice of columns, got {columns!r}")
    img = finite_reals(image, "image")
    require(
        img.ndim == 2 and img.size > 0,
        f"image must be a non-empty 2-D array (rows, columns), got shape {img.shape}",
    )
    require(  # 10**30 was "Maximum allowed size exceeded" (a kernel of 4 sigma)
        sigma_surround <= 4 * max(img.shape),
        f"sigma_surround ({sigma_surround:g} pixels) must be at most 4 times the image's size",
    )
    out = gaussian_filter(img, sigma_center, mode="reflect") - gaussian_filter(
        img, sigma_surround, mode="reflect"
    )
    largest = float(np.abs(img).max())
    out[np.abs(out) <= 1e-14 * largest] = 0.0
    sd = out[:, columns].std()
    if sd <= 1e-12 * max(1.0, largest):  # flat image: no contrast at all
        return np.zeros_like(out)
    return out / sd


def dog_radius(sigma_surround: float) -> int:
    """Pixels from a pixel that the surround Gaussian reaches (scipy's ``int(4 sigma + 0.5)``):
    the guard band of a region split (``ceil(3 sigma)`` was a pixel short at sigma = 1.5)."""
    return int(4.0 * float(sigma_surround) + 0.5)


@dataclass(frozen=True)
class ZCAWhitener:
    """ZCA whitening ``y = W (x - mean)``, ``W = U diag((lambda + eps)^-1/2) U^T``."""

    mean: np.ndarray
    matrix: np.ndarray
    eigenvalues: np.ndarray
    epsilon: float

    @classmethod
    def fit(cls, X: np.ndarray, epsilon: float = 1e-2) -> ZCAWhitener:
        """Fit on (samples, pixels) data; ``epsilon`` is relative to the mean eigenvalue."""
        X = finite_reals(X, "X")
        require(X.ndim == 2, f"X must be (patches, pixels), got shape {X.shape}")
        require(  # (it gave no counts, and no key to raise)
            X.shape[0] > X.shape[1],
            f"ZCA needs more patches than pixels: {X.shape[0]} patches of {X.shape[1]} pixels; "
            "draw more patches (n, [images] n_patches) or use smaller ones",
        )
        require(is_finite_number(epsilon) and epsilon >= 0, "zca_epsilon must be a number >= 0")
        mean = X.mean(axis=0)
        C = np.atleast_2d(np.cov(X - mean, rowvar=False, bias=True))  # one pixel: 0-d
        lam, U = np.linalg.eigh(C)
        lam = np.clip(lam, 0.0, None)
        eps = epsilon * float(lam.mean())
        require(  # epsilon is relative to the mean eigenvalue: 0 for flat patches, where
            float(lam.max(initial=0.0)) > 0,  # "use zca_epsilon > 0" could not help
            "ZCA: the patches are flat (every pixel constant): nothing to whiten; use images "
            "with contrast, or min_contrast > 0",
        )
        # an eigenvalue within round-off of 0 (n eps_machine of the largest, as numpy's
        # matrix_rank) is 0: its sign came out either way, and a rank-deficient covariance was
        # refused or whitened to 1e7-sized weights by the seed
        floor = lam.size * np.finfo(np.float64).eps * float(lam.max())
        rank = int(np.count_nonzero(lam > floor))
        require(  # "use zca_epsilon > 0" was said to an epsilon of 1e-16 too
            np.all(lam + eps > floor),
            f"ZCA: singular patch covariance (rank {rank} of {lam.size} pixels); use a "
            f"zca_epsilon above {floor / float(lam.mean()):.1e} (the default is 1e-2)",
        )
        W = (U / np.sqrt(lam + eps)) @ U.T
        return cls(mean=mean, matrix=W, eigenvalues=lam, epsilon=eps)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Whitened ``X`` (samples, pixels): ``(X - mean) W^T``. ``X`` must be finite real numbers
        with this whitener's number of pixels (``"3"`` was broadcast as a scalar)."""
        X = finite_reals(X, "X")
        n = self.mean.shape[-1]
        require(X.ndim == 2 and X.shape[1] == n, f"X must be (samples, {n}), got shape {X.shape}")
        return (X - self.mean) @ self.matrix.T


def binarize_patches(X: np.ndarray, method: Literal["mean", "sign"]) -> np.ndarray:
    """Binary patterns (uint8) from (patches, pixels) values.

    ``"mean"``: 1 where a pixel is above its own patch's mean, and a flat patch all 0s (the
    mean of 9 pixels of 29 rounds below 29, and the patch came out all 1s, for 30 of 256 grey
    levels); ``"sign"``: 1 where it is > 0 (a flat region whitened by :func:`dog_filter` is
    exactly 0, so all 0s).
    """
    X = finite_reals(X, "X")
    require(X.ndim == 2, f"X must be (patches, pixels), got shape {X.shape}")
    require_choice("method", method, ("mean", "sign"))
    if method == "mean":
        above = X > X.mean(axis=1, keepdims=True)
        if X.size:
            above[np.ptp(X, axis=1) == 0] = False
        return above.astype(np.uint8)
    if method == "sign":
        return (X > 0).astype(np.uint8)
    raise InputError(f"binarize must be None, 'mean' or 'sign', got {method!r}")

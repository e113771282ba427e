"""Natural-image patches: reproducibility, provenance, splits, whitening, binarisation, files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from infodyn.data import images as im
from infodyn.errors import InputError


def test_builtin_images_load_as_grey_in_unit_range():
    for name in im.BUILTIN_IMAGES:
        g = im.builtin_image(name)
        assert g.ndim == 2 and g.shape[0] >= 300 and g.shape[1] >= 300, name
        assert 0.0 <= g.min() and g.max() <= 1.0 and g.std() > 0.02, name
        assert not g.flags.writeable


def test_builtin_images_equal_the_packages_own_loaders_in_grey():
    import importlib.util
    from pathlib import Path

    import imageio.v3 as iio
    import skimage.data
    from skimage.color import rgb2gray

    # scikit-learn's load_sample_image reads these files (importing sklearn.datasets is slow)
    sk_dir = Path(importlib.util.find_spec("sklearn").origin).parent / "datasets" / "images"
    for name in im.BUILTIN_IMAGES:
        if name in im.SKIMAGE_IMAGES:
            raw = getattr(skimage.data, name)()
        else:
            raw = iio.imread(sk_dir / f"{name}.jpg")
        ref = rgb2gray(raw) if raw.ndim == 3 else raw / 255.0
        np.testing.assert_allclose(im.builtin_image(name), ref, atol=1e-12, err_msg=name)


def test_same_seed_same_patches_other_seed_other_patches():
    a = im.natural_patches(size=4, n=500, seed=3, binarize="mean")
    b = im.natural_patches(size=4, n=500, seed=3, binarize="mean")
    c = im.natural_patches(size=4, n=500, seed=4, binarize="mean")
    np.testing.assert_array_equal(a, b)
    assert a.shape == (500, 16) and a.dtype == np.uint8
    assert np.mean(a != c) > 0.3
    s1 = im.natural_patches(size=8, n=300, seed=1, whiten="zca", held_out=0.25)
    s2 = im.natural_patches(size=8, n=300, seed=1, whiten="zca", held_out=0.25)
    np.testing.assert_array_equal(s1.train, s2.train)
    np.testing.assert_array_equal(s1.test, s2.test)
    assert s1.train.shape == (300, 64) and s1.test.shape == (75, 64)


def test_patches_are_the_image_pixels_at_their_recorded_places():
    p = im.natural_patches(size=5, n=200, seed=0, images=["camera", "china"], details=True)
    for k in range(len(p)):
        img = im.builtin_image(p.image_names[p.image[k]])
        r, c = p.row[k], p.col[k]
        np.testing.assert_array_equal(p.as_images("grey")[k], img[r : r + 5, c : c + 5])
    np.testing.assert_array_equal(p.values, p.grey)
    # both images are used, in proportion to their number of valid positions
    n_cam = (512 - 4) ** 2
    n_china = (427 - 4) * (640 - 4)
    frac = np.mean(p.image == 0)
    assert abs(frac - n_cam / (n_cam + n_china)) < 0.1


def test_region_split_never_overlaps_and_dog_adds_a_guard_band():
    for whiten, guard in ((None, 0), ("dog", 5)):
        s = im.natural_patches(size=4, n=400, seed=2, held_out=0.3, whiten=whiten, details=True)
        for k in range(len(s.train.image_names)):
            width = im.builtin_image(s.train.image_names[k]).shape[1]
            cut = round(width * 0.7)
            tr = s.train.col[s.train.image == k]
            te = s.test.col[s.test.image == k]
            assert np.all(tr + 4 <= cut)
            if te.size:
                assert np.all(te >= cut + guard)


def test_image_split_holds_out_whole_images():
    s = im.natural_patches(size=4, n=300, seed=5, held_out=0.3, split="image", details=True)
    train_imgs, test_imgs = set(s.train.image.tolist()), set(s.test.image.tolist())
    assert train_imgs and test_imgs and not (train_imgs & test_imgs)
    assert len(test_imgs) == 3  # round(0.3 * 10)
    named = im.natural_patches(size=4, n=100, seed=0, held_out=["gravel"], details=True)
    assert {named.test.image_names[i] for i in named.test.image} == {"gravel"}
    assert "gravel" not in {named.train.image_names[i] for i in named.train.image}
    assert len(named.test) == 25


def test_mean_binarisation_statistics_as_documented():
    p = im.natural_patches(size=4, n=10000, seed=0, binarize="mean", details=True)
    X, G = p.values, p.grey
    flat = np.ptp(G, axis=1) == 0  # all 0s (a flat patch's mean may round below its pixels)
    ref = ((G > G.mean(axis=1, keepdims=True)) & ~flat[:, None]).astype(np.uint8)
    np.testing.assert_array_equal(X, ref)
    ones = X.sum(axis=1)
    assert np.all(ones[flat] == 0)
    assert np.all((ones[~flat] >= 1) & (ones[~flat] <= 15))
    assert abs(X.mean() - 0.489) < 0.005
    assert abs(flat.mean() - 0.012) < 0.004
    q = im.natural_patches(size=4, n=10000, seed=0, binarize="mean", min_contrast=0.02)
    assert np.all(q.sum(axis=1) >= 1) and abs(q.mean() - 0.501) < 0.005


def test_sign_binarisation_statistics_as_documented():
    z = im.natural_patches(size=4, n=10000, seed=0, whiten="zca", binarize="sign")
    assert abs(z.mean() - 0.447) < 0.003
    assert 0.42 < z.mean(axis=0).min() and z.mean(axis=0).max() < 0.47
    d = im.natural_patches(size=4, n=10000, seed=0, whiten="dog", binarize="sign")
    assert abs(d.mean() - 0.504) < 0.003
    w = im.natural_patches(size=4, n=2000, seed=0, whiten="zca", details=True)
    np.testing.assert_array_equal(
        im.binarize_patches(w.whitened, "sign"), (w.whitened > 0).astype(np.uint8)
    )


def test_zca_is_the_inverse_square_root_of_the_covariance():
    from scipy.linalg import sqrtm

    X = im.natural_patches(size=4, n=5000, seed=1)
    zca = im.ZCAWhitener.fit(X, epsilon=0.0)
    Y = zca.transform(X)
    np.testing.assert_allclose(np.cov(Y, rowvar=False, bias=True), np.eye(16), atol=1e-8)
    np.testing.assert_allclose(zca.matrix, zca.matrix.T, atol=1e-10)
    # independent path: the ZCA matrix is the inverse principal square root C^(-1/2)
    C = np.cov(X, rowvar=False, bias=True)
    ref = (X - X.mean(axis=0)) @ np.real(sqrtm(np.linalg.inv(C))).T
    np.testing.assert_allclose(Y, ref, atol=1e-6)
    # regularised: covariance U diag(lam / (lam + eps)) U^T
    reg = im.ZCAWhitener.fit(X, epsilon=0.05)
    lam, U = np.linalg.eigh(np.cov(X, rowvar=False, bias=True))
    expect = (U * (lam / (lam + 0.05 * lam.mean()))) @ U.T
    np.testing.assert_allclose(np.cov(reg.transform(X), rowvar=False, bias=True), expect, atol=1e-8)


def test_whitening_decorrelates_neighbouring_pixels():
    raw = im.natural_patches(size=4, n=5000, seed=0)
    dog = im.natural_patches(size=4, n=5000, seed=0, whiten="dog")
    zca = im.natural_patches(size=4, n=5000, seed=0, whiten="zca")

    def neighbour_corr(P):
        P = P.reshape(-1, 4, 4)
        return np.corrcoef(P[:, :, 1].ravel(), P[:, :, 2].ravel())[0, 1]

    assert neighbour_corr(raw) > 0.85
    assert abs(neighbour_corr(zca)) < 0.15
    assert neighbour_corr(dog) < 0.65 * neighbour_corr(raw)
    far = dog.reshape(-1, 4, 4)
    assert abs(np.corrcoef(far[:, :, 0].ravel(), far[:, :, 2].ravel())[0, 1]) < 0.1


def test_dog_filter_equals_explicit_kernel_convolution():
    from scipy.signal import fftconvolve

    img = im.builtin_image("camera")
    sc, ss = 0.5, 1.5
    r = np.arange(-12, 13)
    yy, xx = np.meshgrid(r, r, indexing="ij")

    def gauss(s):
        g = np.exp(-(xx**2 + yy**2) / (2 * s * s))
        return g / g.sum()

    inner = (slice(20, -20), slice(20, -20))
    ref = fftconvolve(img, gauss(sc) - gauss(ss), mode="same")[inner]
    ours = im.dog_filter(img, sc, ss)[inner]
    # the filter output is divided by its whole-image std; compare up to that one scale
    scale = np.dot(ours.ravel(), ref.ravel()) / np.dot(ref.ravel(), ref.ravel())
    np.testing.assert_allclose(ours, scale * ref, atol=2e-2)
    assert np.corrcoef(ours.ravel(), ref.ravel())[0, 1] > 0.999
    assert np.all(im.dog_filter(np.full((40, 40), 0.3)) == 0)


def test_a_flat_region_is_zero_after_dog_and_all_zeros_after_sign():
    """A flat region beside texture, at each 8-bit grey level: its DoG response (beyond the
    surround's reach of the texture) was rounding, about 1e-16, positive at 7 levels (45/255
    among them), so ``binarize="sign"`` made those regions all ones; it is exactly 0 now, and
    the textured half is untouched."""
    rng = np.random.default_rng(0)
    texture = rng.uniform(0, 1, (40, 20))
    reach = im.dog_radius(1.5)
    for level in range(256):
        img = np.hstack([np.full((40, 20), level / 255), texture])
        dog = im.dog_filter(img, 0.5, 1.5)
        assert np.all(dog[:, : 20 - reach] == 0), level
        assert np.all(dog[:, 20 + reach :] != 0), level
    img = np.hstack([np.full((40, 20), 45 / 255), texture])
    patches = im.natural_patches(
        size=4, n=500, seed=0, images=[img], whiten="dog", binarize="sign", details=True
    )
    flat = patches.col + 4 <= 20 - reach
    assert flat.sum() > 50 and not patches.values[flat].any()
    assert 0.3 < patches.values[~flat & (patches.col >= 20 + reach)].mean() < 0.7
    # a one-level edge of a 16-bit-sized image far out in the surround is a response, not
    # rounding (8e-9 against values of 3e4; a cut at 1e-12 of the largest level dropped it)
    img = np.full((60, 60), 30000.0)
    img[30:, 30:] -= 1
    img[:8, :8] += 50
    assert im.dog_filter(img)[24, 24] > 0


def test_user_files_and_folders(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    grey = (rng.random((40, 50)) * 255).astype(np.uint8)
    rgb = (rng.random((30, 30, 3)) * 255).astype(np.uint8)
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(grey).save(folder / "a.png")
    Image.fromarray(rgb).save(folder / "b.tif")
    np.save(folder / "c.npy", grey.astype(np.float64) / 255.0)
    (folder / ".hidden").write_text("ignored")
    loaded = im.load_images([folder])
    assert [n.rsplit("/", 1)[-1] for n, _ in loaded] == ["a.png", "b.tif", "c.npy"]
    np.testing.assert_allclose(loaded[0][1], grey / 255.0)
    np.testing.assert_allclose(loaded[1][1], (rgb / 255.0) @ [0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(loaded[2][1], grey / 255.0)
    X = im.natural_patches(size=4, n=50, seed=0, images=[folder, "camera"], binarize="mean")
    assert X.shape == (50, 16)

    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(InputError, match="broken.png: not a readable image"):
        im.natural_patches(size=4, n=10, images=[folder])
    (folder / "broken.png").unlink()
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="notes.txt: not a readable image"):
        im.load_images(folder)
    (folder / "notes.txt").unlink()
    (folder / "c.npy").write_bytes((folder / "c.npy").read_bytes()[:-8])  # one pixel short
    with pytest.raises(InputError, match=r"c.npy: its header declares float64 .* cut short"):
        im.load_images(folder)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(binarize="sign"), "needs whitening"),
        (dict(whiten="pca"), "whiten must be"),
        (dict(binarize="median"), "binarize must be"),
        (dict(images=["nonexistent_picture"]), "neither a built-in image"),
        (dict(size=600, images=["camera"]), "smaller than a 600x600 patch"),
        (dict(held_out=1.5), "fraction in"),
        (dict(held_out=["moon"]), "not among the images"),
        (dict(images=["camera"], held_out=0.5, split="image"), "at least two images"),
        (dict(min_contrast=0.45, n=10), "lower min_contrast"),  # possible, never found
        (dict(min_contrast=0.9, n=10), "exceeds what any patch of these images can reach"),
        (dict(n=0), "n must be"),
    ],
)
def test_bad_input_raises_one_clear_error(kwargs, message):
    args = dict(size=4, n=100, seed=0) | kwargs
    with pytest.raises(InputError, match=message):
        im.natural_patches(**args)


def test_patch_grid_tiles_patches():
    P = np.arange(5 * 16).reshape(5, 16)
    g = im.patch_grid(P, 4, n_cols=3)
    assert g.shape == (2 * 5 + 1, 3 * 5 + 1)
    np.testing.assert_array_equal(g[1:5, 1:5], P[0].reshape(4, 4))
    np.testing.assert_array_equal(g[6:10, 6:10], P[4].reshape(4, 4))
    assert np.isnan(g[6:10, 11:15]).all()


def test_image_with_too_many_pixels_is_refused_by_name(tmp_path):
    """A PNG header declaring 60000 x 60000 pixels: Pillow's DecompressionBombError, not an
    OSError, was a traceback (the CLI's 'internal error')."""
    import struct
    import zlib

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(InputError, match="bomb.png: too many pixels to read safely"):
        im.load_images(tmp_path / "bomb.png")


def _small_image(rows=6, cols=20, seed=3):
    return np.random.default_rng(seed).random((rows, cols))


def test_every_top_left_corner_of_a_small_image_is_drawn():  # kills I09, I10
    """5x5 image, 4x4 patches: the valid top-left corners are rows {0, 1} x cols {0, 1};
    positions are drawn uniformly over them, so 400 patches hit all four."""
    p = im.natural_patches(size=4, n=400, seed=0, images=[_small_image(5, 5)], details=True)
    assert set(zip(p.row.tolist(), p.col.tolist(), strict=True)) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_region_split_boundaries_on_a_small_image():  # kills I13, I14, I15
    """Width 20, held_out=0.25: cut = round(20 * 0.75) = 15. Training patches (4 wide) start at
    columns 0..11 (end before the cut), held-out ones at 15 + guard .. 16; DoG's guard, on each
    side of the cut, is the surround kernel's radius int(4 * 1.5 + 0.5) = 6 pixels (it was
    ceil(3 * 1.5) = 5, one short), leaving no held-out room at all (15 + 6 > 16), an error."""
    img = _small_image(6, 20)
    s = im.natural_patches(size=4, n=600, seed=1, images=[img], held_out=0.25, details=True)
    assert set(s.train.col.tolist()) == set(range(0, 12))
    assert set(s.test.col.tolist()) == {15, 16}
    with pytest.raises(InputError, match="leaves no room for 4x4 patches on the held-out side"):
        im.natural_patches(size=4, n=50, images=[img], held_out=0.25, whiten="dog")
    s = im.natural_patches(
        size=4,
        n=600,
        seed=1,
        images=[_small_image(6, 40)],
        held_out=0.25,
        whiten="dog",
        details=True,
    )
    # width 40: cut = 30, training columns 0..20 (ending 6 before the cut), held-out columns 36
    assert set(s.train.col.tolist()) == set(range(0, 21))
    assert set(s.test.col.tolist()) == {36}


def test_no_held_out_pixel_reaches_a_training_patch_through_the_dog_filter():
    """The DoG image was scaled by the std of the whole image, and the guard (5 px) was a pixel
    short of the surround kernel (6 px): a held-out column changed training values by 0.12."""
    img = _small_image(30, 80)
    kw = dict(size=4, n=200, seed=3, held_out=0.25, whiten="dog", binarize=None, details=True)
    base = im.natural_patches(images=[img], **kw).train.values
    for col in (60, 60 + 5, 60 + 6, 79):  # every held-out column, the guard band's included
        changed = img.copy()
        changed[:, col] = 1.0 - changed[:, col]
        np.testing.assert_array_equal(im.natural_patches(images=[changed], **kw).train.values, base)


def test_no_pixel_reaches_both_sides_of_a_dog_region_split():
    """Training patches ended at the cut and held-out ones started 6 px after it: the DoG values
    of both read the 6 columns after the cut (and the scale too), so the held-out patches were
    not independent of the training ones. Now a band lies on each side: no training column
    reaches a held-out patch's values, and no held-out column a training patch's."""
    img = _small_image(30, 80)
    kw = dict(size=4, n=200, seed=3, held_out=0.25, whiten="dog", binarize=None, details=True)
    ref = im.natural_patches(images=[img], **kw)
    cut = 60  # round(80 * 0.75); guard dog_radius(1.5) = 6
    assert ref.train.col.max() + 4 <= cut - 6 and ref.test.col.min() >= cut + 6
    for col in range(0, cut):  # every training column: the held-out values stay, up to scale
        changed = img.copy()
        changed[:, col] = 1.0 - changed[:, col]
        test = im.natural_patches(images=[changed], **kw).test.values
        # the filtered image is scaled by its training part's std: the same up to that factor
        ratio = test / np.where(ref.test.values == 0, 1.0, ref.test.values)
        nonzero = ref.test.values != 0
        np.testing.assert_allclose(ratio[nonzero], ratio[nonzero].flat[0], rtol=1e-9)


def test_dog_filter_output_has_unit_standard_deviation():  # kills I02
    """dog_filter: I * (G_c - G_s), divided by its std (docstring) - written with scipy here."""
    img = _small_image(12, 15, seed=4) * 0.1  # low contrast: raw DoG std far from 1
    raw = gaussian_filter(img, 0.5, mode="reflect") - gaussian_filter(img, 1.5, mode="reflect")
    out = im.dog_filter(img)
    assert out.std() == pytest.approx(1.0)
    np.testing.assert_allclose(out, raw / raw.std())


def test_image_split_always_leaves_a_training_image():  # kills I16
    """split="image": round(0.9 * 2) = 2 images would leave none to train on; at most
    n_images - 1 are held out, so each of the two images is on one side."""
    a, b = _small_image(8, 8, seed=5), _small_image(8, 8, seed=6)
    s = im.natural_patches(size=4, n=20, images=[a, b], held_out=0.9, split="image", details=True)
    assert len(set(s.train.image.tolist())) == 1 and len(set(s.test.image.tolist())) == 1
    assert set(s.train.image.tolist()) | set(s.test.image.tolist()) == {0, 1}


def test_patches_are_found_where_few_positions_have_contrast():
    """A flat 500 x 500 image with one textured 60 x 60 square: 1.6 % of the positions pass
    min_contrast, and the sampler gave up after 50 rounds of 1.3x the missing patches ("lower
    min_contrast"). Rounds now draw for the acceptance seen; a flat image is refused before any
    draw (no patch of it can reach the contrast), and so is a contrast beyond half the images'
    range of grey levels, which is measured (float images keep their own scale: 20 on 0..255
    is a fine contrast)."""
    rng = np.random.default_rng(0)
    img = np.full((500, 500), 0.5)
    img[100:160, 100:160] = rng.random((60, 60))
    patches = im.natural_patches(4, 1000, images=[img], min_contrast=0.02, binarize=None)
    assert patches.shape == (1000, 16) and patches.std(axis=1).min() > 0
    with pytest.raises(InputError, match="exceeds what any patch of these images can reach"):
        im.natural_patches(4, 10, images=[np.full((40, 40), 0.5)], min_contrast=0.02)
    wide = rng.random((64, 64)) * 255.0
    assert im.natural_patches(4, 10, images=[wide], min_contrast=20.0).shape == (10, 16)


def test_zca_transform_checks_what_it_whitens():
    # "3" was broadcast as a scalar patch, NaN whitened to NaN, 3 pixels of a 4-pixel fit a
    # raw matmul error
    X = np.random.default_rng(0).normal(size=(200, 4))
    zca = im.ZCAWhitener.fit(X, epsilon=0.0)
    for bad, message in [
        ("3", "X must be real numbers"),
        (np.full((2, 4), np.nan), "NaN"),
        (np.zeros((2, 3)), r"X must be \(samples, 4\)"),
    ]:
        with pytest.raises(InputError, match=message):
            zca.transform(bad)
    np.testing.assert_allclose(
        np.cov(zca.transform(X), rowvar=False, bias=True), np.eye(4), atol=1e-10
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # True was a 1 x 1 patch or a centre of 1 pixel; text a raw TypeError; -1 a column
        (lambda img: im.natural_patches(size=True, n=2, images=[img]), "size must be a whole"),
        (lambda img: im.natural_patches(size=2, n=2.5, images=[img]), "n must be a whole"),
        (lambda img: im.dog_filter(img, sigma_center=True), "dog_sigmas must satisfy"),
        (lambda img: im.dog_filter(img, sigma_center="a"), "dog_sigmas must satisfy"),
        (lambda img: im.dog_filter(img, columns=-1), "columns must be a slice"),
    ],
)
def test_patch_options_take_numbers_of_their_kind(call, message):
    img = np.random.default_rng(0).random((16, 16))
    with pytest.raises(InputError, match=message):
        call(img)


def test_a_rank_deficient_covariance_is_refused_whatever_the_round_off():
    """A pixel that is a combination of two others: the smallest eigenvalue is 0 up to
    round-off, whose sign decided between the error and weights of 1e7 (seeds 0-19)."""
    outcomes = set()
    for seed in range(20):
        X = np.random.default_rng(seed).normal(size=(500, 6))
        X = np.c_[X, X[:, 0] + 0.3 * X[:, 1]]
        with pytest.raises(InputError, match=r"singular patch covariance \(rank 6 of 7"):
            im.ZCAWhitener.fit(X, epsilon=0.0)
        with pytest.raises(InputError, match=r"use a zca_epsilon above \d\.\de-\d+ \(the default"):
            im.ZCAWhitener.fit(X, epsilon=1e-18)  # > 0, but below round-off
        outcomes.add(float(np.abs(im.ZCAWhitener.fit(X, epsilon=1e-3).matrix).max()) < 1e3)
    assert outcomes == {True}  # regularised, the same data whitens with bounded weights


@pytest.mark.parametrize("bad", ["a", [[1.0, 2.0], [3.0]], {}, 1 + 2j])
def test_image_arrays_that_are_not_real_numbers_are_one_line(bad):
    # NumPy's "could not convert string to float" and "float() argument must be ..." were raw
    from infodyn.data.images import ZCAWhitener, binarize_patches, dog_filter
    from infodyn.errors import InputError

    for call in (
        lambda: dog_filter(bad),
        lambda: ZCAWhitener.fit(bad),
        lambda: binarize_patches(bad, "mean"),
    ):
        with pytest.raises(InputError, match="must be"):
            call()


def test_image_shapes_and_zca_epsilon_are_checked():
    from infodyn.data.images import ZCAWhitener, binarize_patches, dog_filter
    from infodyn.errors import InputError

    with pytest.raises(InputError, match="image must be a non-empty 2-D array"):
        dog_filter(3.0)  # an IndexError
    with pytest.raises(InputError, match="X must be \\(patches, pixels\\)"):
        binarize_patches(3.0, "mean")  # an AxisError
    X = np.random.default_rng(0).normal(size=(50, 4))
    with pytest.raises(InputError, match="zca_epsilon must be a number >= 0"):
        ZCAWhitener.fit(X, epsilon="0.1")  # a TypeError comparing text with 0
    with pytest.raises(InputError, match="100 patches of 144 pixels; draw more patches"):
        ZCAWhitener.fit(np.random.default_rng(0).normal(size=(100, 144)))  # (no counts)


def test_one_pixel_patches_whiten_and_refuse_mean_binarisation():
    """One pixel: np.cov gave a 0-d covariance and ZCA a raw LinAlgError; binarize='mean' gave
    all-zero words (a 1 x 1 patch equals its own mean)."""
    x = np.random.default_rng(0).normal(3.0, 2.0, (500, 1))
    zca = im.ZCAWhitener.fit(x, epsilon=0.0)
    y = zca.transform(x)
    assert y.mean() == pytest.approx(0.0, abs=1e-12) and y.var() == pytest.approx(1.0)
    assert im.natural_patches(1, 200, whiten="zca", seed=0).shape == (200, 1)
    with pytest.raises(InputError, match="a 1 x 1 patch equals"):
        im.natural_patches(1, 100, binarize="mean")


def test_n_test_without_held_out_and_zca_of_flat_patches_are_named():
    with pytest.raises(InputError, match="n_test needs held_out"):  # ignored before
        im.natural_patches(4, 100, n_test=5)
    flat = np.full((30, 30), 0.5)
    with pytest.raises(InputError, match="the patches are flat"):  # "use zca_epsilon > 0"
        im.natural_patches(4, 100, images=[flat], whiten="zca")


def test_patches_beyond_the_free_memory_are_refused_before_any_is_drawn(monkeypatch):
    """natural_patches(size=16, n=10**6) was a raw "Unable to allocate 2.48 GiB" (size 8:
    3.4 GB taken for a 0.5 GB result, under any limit)."""
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "100M")
    with pytest.raises(MemoryPreflightError, match="1,000,000 patches of 16x16 pixels needs"):
        im.natural_patches(size=16, n=10**6)
    assert im.natural_patches(size=4, n=1000).shape == (1000, 16)


@pytest.mark.parametrize("level", [29, 200, 65000])
def test_a_flat_patch_binarises_to_zeros(level):
    """The mean of a flat patch's pixels rounds below them for some levels (29 of 9 pixels),
    and the patch came out all 1s: a flat patch is all 0s."""
    from infodyn.data.images import binarize_patches

    for size in (3, 5, 8):
        flat = np.full((2, size * size), float(level))
        assert not binarize_patches(flat, "mean").any()
    np.testing.assert_array_equal(
        binarize_patches(np.array([[1.0, 2.0, 3.0]]), "mean"), [[0, 0, 1]]
    )

"""Image files: the built-in images (inside scikit-image and scikit-learn, nothing is
downloaded), a user's own files and folders, and their conversion to grey levels in [0, 1]: the
weights of scikit-image's ``rgb2gray``, 0.2125 R + 0.7154 G + 0.0721 B (within 2e-4 of the
0.2126 / 0.7152 / 0.0722 of ITU-R Recommendation BT.709-6, 2015, item 3.2), applied to the
stored, gamma-encoded values: luma Y', not linear luminance, so spectra, kurtosis and contrast
are those of the encoded grey levels. See :mod:`infodyn.data.images` for the whole
description."""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from infodyn.data.npy import npy_header, read_npy
from infodyn.errors import InputError, is_choice, reading, require, require_finite
from infodyn.memory import require_memory

SKIMAGE_IMAGES = ("camera", "astronaut", "coffee", "chelsea", "rocket", "grass", "gravel", "brick")
SKLEARN_IMAGES = ("china", "flower")
BUILTIN_IMAGES = SKIMAGE_IMAGES + SKLEARN_IMAGES

ImageSpec = str | os.PathLike | np.ndarray
_LUMA = np.array([0.2125, 0.7154, 0.0721])
TIFF_SUFFIXES = (".tif", ".tiff")


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def to_grey(image: np.ndarray, name: str = "image") -> np.ndarray:
    """A 2-D float64 grey-level image in [0, 1] (for integer input) from grey, RGB or RGBA.

    Unsigned integers are divided by their type's maximum (uint8 / 255, uint16 / 65535);
    signed integers (``np.array([[0, 128, 255]])`` is int64; Pillow's 32-bit mode "I") carry no
    range of their own, so they must be >= 0 and are read as 8-bit levels when none exceeds 255,
    else as 16-bit ones (up to 65535); floats are taken as they are.
    """
    a = np.asarray(image)
    # before any conversion: text was a raw ValueError in astype
    require(a.dtype.kind in "uifb", f"{name}: image values must be numbers, got {a.dtype}")
    if a.ndim == 3 and a.shape[2] in (3, 4):
        grey = (a[..., :3].astype(np.float64) / _integer_scale(a, name)) @ _LUMA
    elif a.ndim == 3 and a.shape[2] in (1, 2):
        grey = a[..., 0].astype(np.float64) / _integer_scale(a, name)
    elif a.ndim == 2:
        grey = a.astype(np.float64) / _integer_scale(a, name)
    else:
        raise InputError(f"{name}: expected a 2-D grey or (H, W, 3|4) colour image, got {a.shape}")
    require(grey.size > 0, f"{name}: the image has no pixels (shape {a.shape})")
    require_finite(name, grey)
    return grey


def _integer_scale(a: np.ndarray, name: str) -> float:
    """The grey level that maps to 1 (see :func:`to_grey`); 1 for floats and booleans."""
    if a.dtype.kind == "u":
        return float(np.iinfo(a.dtype).max)
    if a.dtype.kind != "i" or a.size == 0:
        return 1.0
    # int8 -128 became -1.0 and an int64 array of 0..255 all but 0 (divided by 2^63 - 1)
    lo, hi = int(a.min()), int(a.max())
    require(lo >= 0, f"{name}: grey levels must be >= 0, got {lo} ({a.dtype})")
    require(
        hi <= 65535,
        f"{name}: signed-integer grey levels up to {hi} have no known range (8-bit: 0..255, "
        "16-bit: 0..65535); give floats in [0, 1] or an unsigned integer type",
    )
    return 255.0 if hi <= 255 else 65535.0


def _package_file(package: str, *parts: str) -> Path | None:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


@functools.cache
def _builtin(name: str) -> np.ndarray:
    # read the files directly: importing sklearn.datasets costs seconds
    if name in SKIMAGE_IMAGES:
        ext = "jpg" if name == "rocket" else "png"
        path = _package_file("skimage", "data", f"{name}.{ext}")
    else:
        path = _package_file("sklearn", "datasets", "images", f"{name}.jpg")
    if path is not None:
        raw = _read_pil(path)
    elif name in SKIMAGE_IMAGES:
        import skimage.data

        raw = getattr(skimage.data, name)()
    else:
        from sklearn.datasets import load_sample_image

        raw = load_sample_image(f"{name}.jpg")
    grey = to_grey(raw, name)
    grey.setflags(write=False)
    return grey


def builtin_image(name: str) -> np.ndarray:
    """One of :data:`BUILTIN_IMAGES` as a read-only grey-level float64 array in [0, 1]."""
    require(
        is_choice(name, BUILTIN_IMAGES),
        f"unknown built-in image {name!r}; choose from {', '.join(BUILTIN_IMAGES)}",
    )
    return _builtin(name)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read one image file as grey levels; an unreadable file raises InputError naming it."""
    with reading(path, "image"):  # cut short, unreadable or too large: one InputError
        return _read_image(Path(path))


def _read_image(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError(f"{path}: no such image file")
    if path.suffix.lower() == ".npy":
        return to_grey(read_npy(path, "the image", "crop or downscale it"), str(path))

    try:
        raw = _read_tiff(path) if path.suffix.lower() in TIFF_SUFFIXES else _read_pil(path)
    except Image.DecompressionBombError as exc:  # not an OSError: was a traceback
        raise InputError(
            f"{path}: too many pixels to read safely ({_short(exc)}); downscale or crop it"
        ) from None
    except InputError:  # (a ValueError) the reader's own refusal, whole
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        if "imagecodecs" in str(exc):  # it read "not a readable image (<COMPRESSION.LZW: 5>
            raise InputError(  # requires the 'imagecodecs' package)"
                f"{path}: its compression needs the imagecodecs package to be read whole: "
                "pip install imagecodecs, or save it uncompressed"
            ) from None
        raise InputError(f"{path}: not a readable image ({_short(exc)})") from None
    return to_grey(raw, str(path))


def _read_tiff(path: Path) -> np.ndarray:
    """A TIFF: Pillow reads what it reads whole (:func:`_pillow_whole`: 8-bit images of any
    kind, its compressions, palettes, CMYK, white-is-zero, the pixel guard; one-sample 16-bit
    and float32 grey); tifffile reads the rest with every bit (16-bit colour, of which Pillow
    kept the high byte: 400 grey levels became 2; 16-bit grey + alpha, float16/float64,
    32-bit integers; LZW and JPEG compression of those need the ``imagecodecs`` package), and
    a first page that is a thumbnail. More than one full-size page is refused (the first was
    read, unsaid); reduced-size pages (thumbnails) do not count. Both paths turn the image by
    its Orientation tag: Pillow's as it reads, tifffile's by :func:`exif_oriented` (it was
    read as stored). An uncompressed one-sample page turned a quarter (5-8) goes to tifffile:
    Pillow kept its stored shape and scrambled its pixels; a palette one is refused."""
    try:
        with tifffile.TiffFile(path) as tif:
            full = [p for p in tif.pages if not getattr(p, "is_reduced", False)]
            _one_frame(path, len(full))
            page = full[0] if full else tif.pages[0]
            tag = page.tags.get(274)  # Orientation, which tifffile does not apply
            orientation = int(tag.value) if tag is not None else 1
            # Pillow turns a page by its tag, but an uncompressed one-sample page turned by 90
            # degrees (5-8) kept its stored shape: scrambled pixels (compressed ones, which
            # libtiff decodes, came out right)
            quarter_turn = (
                orientation in (5, 6, 7, 8)
                and page.samplesperpixel == 1
                and page.compression == tifffile.COMPRESSION.NONE
            )
            require(
                not (quarter_turn and page.photometric == tifffile.PHOTOMETRIC.PALETTE),
                f"{path}: an uncompressed palette TIFF turned a quarter (Orientation "
                f"{orientation}), which Pillow reads scrambled and tifffile without its "
                "colours; save it upright, compressed (LZW), or as grey or RGB",
            )
            if _pillow_whole(page) and not quarter_turn:  # (its frame: a thumbnail may
                return _read_pil(path, frames=False, frame=page.index)  # come first; turned)
            pixels = page.imagewidth * page.imagelength
            limit = Image.MAX_IMAGE_PIXELS  # None: the guard lifted, as Pillow's users do
            require(  # Pillow's guard, which this path skips: a small file can declare a lot
                limit is None or pixels <= 2 * limit,
                f"{path}: too many pixels to read safely ({pixels:,}); downscale or crop it",
            )
            a = page.asarray()
            planar = page.planarconfig == tifffile.PLANARCONFIG.SEPARATE
            if page.photometric == tifffile.PHOTOMETRIC.MINISWHITE:  # 0 is white
                top = np.iinfo(a.dtype).max if a.dtype.kind in "ui" else 1.0
                a = ~a if a.dtype.kind == "b" else top - a
    except tifffile.TiffFileError as exc:  # not a TIFF after all: Pillow's message said so
        raise InputError(f"{path}: not a readable image ({_short(exc)})") from None
    return exif_oriented(np.moveaxis(a, 0, -1) if planar and a.ndim == 3 else a, orientation)


def exif_oriented(a: np.ndarray, orientation: int) -> np.ndarray:
    """Rows and columns (axes 0, 1) as a viewer shows them under the TIFF/EXIF Orientation tag
    (TIFF 6.0, tag 274; CIPA DC-008-2012, 4.6.4): 1 as stored, 2 mirrored left-right, 3 turned
    180 degrees, 4 mirrored top-bottom, 5 transposed, 6 turned 90 degrees clockwise, 7
    transposed across the other diagonal, 8 turned 90 degrees counter-clockwise. Another value
    (0, 9 or more: written by no camera) leaves the array as stored, as Pillow does."""
    if orientation in (5, 6, 7, 8):  # a quarter turn: transposed, then as 1-4 (6: 5 mirrored
        a, orientation = a.swapaxes(0, 1), orientation - 4  # left-right is clockwise)
    rows, cols = {2: (1, -1), 3: (-1, -1), 4: (-1, 1)}.get(orientation, (1, 1))
    return a[::rows, ::cols]


def _pillow_whole(page: Any) -> bool:
    """Whether Pillow reads this TIFF page without losing bits or the samples' meaning."""
    dtype, samples = np.dtype(page.dtype) if page.dtype is not None else None, page.samplesperpixel
    if dtype is None or dtype.kind == "b" or (dtype.itemsize == 1 and dtype.kind == "u"):
        return True  # 1- and 8-bit unsigned: any kind (int8 was read as unsigned, wrapped)
    if samples != 1 or page.photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        return False  # 16-bit colour, grey + alpha; 16-bit white-is-zero (Pillow: not inverted)
    return dtype in (np.dtype(np.uint16), np.dtype(np.int16), np.dtype(np.float32))


def _one_frame(path: Path, n_frames: int) -> None:
    require(
        n_frames <= 1,
        f"{path}: holds {n_frames} images (pages or frames) and is refused; give one image a file",
    )


def _png_bits(path: Path) -> tuple[int, int] | None:
    """A PNG's bit depth and colour type from its header (None for another file)."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _netpbm_max(path: Path) -> tuple[bytes, int] | None:
    """A colour or grey Netpbm file's magic number and maxval from its header (None for
    another file): four whitespace-separated tokens, ``#`` comments to the end of a line (of
    any length: a header past a first block of bytes hid the maxval)."""
    tokens: list[bytes] = []
    with open(path, "rb") as fh:
        if fh.read(2) not in (b"P2", b"P3", b"P5", b"P6"):
            return None
        fh.seek(0)
        token, comment = b"", False
        while len(tokens) < 4 and (c := fh.read(1)):
            if comment:
                comment = c not in b"\r\n"
            elif c == b"#" or c.isspace():
                if token:
                    tokens.append(token)
                token, comment = b"", c == b"#"
            else:
                token += c
    if len(tokens) < 4 or not tokens[3].isdigit():
        return None
    return tokens[0][:2], int(tokens[3])


def _read_pil(path: Path, frames: bool = True, frame: int = 0) -> np.ndarray:
    """Pillow's reading of ``frame``; ``frames``: refuse an animation (a camera JPEG's MPF
    preview or gain map is no second image: frame 0 is the photograph)."""
    bits = _png_bits(path)
    require(  # colour types 2 (RGB), 4 (grey + alpha), 6 (RGBA) at 16 bits
        bits is None or not (bits[0] == 16 and bits[1] in (2, 4, 6)),
        f"{path}: a 16-bit colour PNG, of which Pillow reads only the high 8 bits of each "
        "channel; save it as a TIFF (read whole) or as a 16-bit grey PNG",
    )
    netpbm = _netpbm_max(path)
    require(  # Pillow reads P3/P6 at maxval > 255 as 8-bit RGB: 20 grey levels of 64 were left
        netpbm is None or not (netpbm[0] in (b"P3", b"P6") and netpbm[1] > 255),
        f"{path}: a colour PPM of maxval {netpbm and netpbm[1]}, of which Pillow keeps only "
        "8 bits a channel; save it as a TIFF (read whole) or as a 16-bit grey PGM",
    )
    with Image.open(path) as im:
        if frames and im.format != "MPO":
            _one_frame(path, getattr(im, "n_frames", 1))
        if frame:
            im.seek(frame)
        im.load()
        # as a viewer shows it: a phone's JPEG stores its rows sideways with an EXIF
        # orientation, and was read with rows and columns swapped (couplings transposed);
        ImageOps.exif_transpose(im, in_place=True)
        if im.mode.startswith("I;16"):  # 16-bit grey in either byte order (I;16B: TIFFs in
            return np.asarray(im).astype(np.uint16)  # "MM" order; convert("RGB") clipped at 255)
        if netpbm is not None and im.mode == "I":  # a PGM of maxval > 255, which Pillow scales
            return np.asarray(im).astype(np.uint16)  # to 0..65535 (a dark one read as 8-bit)
        if im.mode not in ("L", "RGB", "RGBA", "I", "F", "LA", "1"):
            im = im.convert("RGB")
        return np.asarray(im)  # mode "I" (16-bit data in int32): to_grey's signed-integer rule


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


def _no_such_image(item: Any) -> InputError:
    return InputError(
        f"{item}: neither a built-in image ({', '.join(BUILTIN_IMAGES)}) "
        "nor an existing file or folder"
    )


def check_image_sources(images: Any) -> None:
    """Refuse, without reading them, names that are neither built-in images nor existing files
    or folders (what :func:`load_images` would refuse after the work before it)."""
    for item in [images] if isinstance(images, str | os.PathLike) else list(images or []):
        if isinstance(item, str) and item in BUILTIN_IMAGES:
            continue
        if isinstance(item, str | os.PathLike) and not Path(item).exists():
            raise _no_such_image(item)


def load_images(
    images: ImageSpec | Sequence[ImageSpec] | None = None,
    what: str = "images",
) -> list[tuple[str, np.ndarray]]:
    """Resolve an image specification into ``[(name, grey image), ...]``.

    ``None`` gives every built-in image. Otherwise each item is a built-in name, an image file,
    a folder (every non-hidden regular file in it, sorted; each must be a readable image) or an
    array. Names are the built-in name, the file path, or ``array<i>``. ``what`` names the
    argument in messages (``"image"``: one image, named without an index).
    """
    if images is None:
        images = list(BUILTIN_IMAGES)
    elif isinstance(images, (str, os.PathLike, np.ndarray)):
        images = [images]
    elif not isinstance(images, Iterable):  # 2.5 or 1j: "'complex' object is not iterable"
        raise InputError(
            f"images must be a built-in name, an image file or folder, an array, or a list of "
            f"them, got {images!r:.60}"
        )
    out: list[tuple[str, np.ndarray]] = []
    seen: dict[str, str] = {}  # each image once: a second copy put its pixels on both sides

    def once(name: str, key: str) -> None:
        require(
            key not in seen,
            f"{name} is given twice ({seen.get(key)} and {name}): its patches would be both "
            "trained on and held out; give each image once",
        )
        seen[key] = name

    def label(i: int) -> str:
        return what if what == "image" else f"{what}[{i}]"

    for i, item in enumerate(images):
        if isinstance(item, np.ndarray):
            out.append((f"array{i}", to_grey(item, label(i))))
        elif isinstance(item, str) and item in BUILTIN_IMAGES:
            once(item, f"builtin:{item}")
            out.append((item, builtin_image(item)))
        elif isinstance(item, (str, os.PathLike)):
            path = Path(item)
            if path.is_dir():
                files = sorted(
                    p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                )
                require(len(files) > 0, f"{path}: image folder is empty")
                for p in files:
                    once(str(p), os.path.realpath(p))
                out.extend((str(p), p) for p in files)  # read below, their sizes checked first
            elif path.exists():
                once(str(path), os.path.realpath(path))
                out.append((str(path), path))
            else:
                raise _no_such_image(item)
        else:
            raise InputError(
                f"{label(i)}: expected a built-in name, an image file or folder, or an array, "
                f"got {type(item).__name__}"
            )
    require(len(out) > 0, "no images given")
    check_decoded_memory([src for _, src in out if isinstance(src, Path)])
    return [(name, read_image(src) if isinstance(src, Path) else src) for name, src in out]


#: bytes a pixel of an image file costs once read (its grey levels kept in float64, and the
#: decoded pixels and conversions while it is read; measured: six 3000 x 3000 RGB files took
#: 1.5 GB in `infodyn images`, 13-20 bytes a pixel in natural_patches, unchecked)
DECODED_BYTES_PER_PIXEL = 24


def check_decoded_memory(paths: list[Path]) -> None:
    """Refuse image files whose pixels, read, would not fit in the free memory, from their
    headers (a folder of 40 photos of 24 megapixels needed about 20 GB)."""
    pixels = sum(_pixels(p) or 0 for p in paths)
    require_memory(
        DECODED_BYTES_PER_PIXEL * pixels,
        f"{len(paths):,} image file{'s' * (len(paths) != 1)} ({pixels / 1e6:,.1f} megapixels) "
        "read as grey levels",
        "use fewer or smaller images (crop or downscale them)",
    )


def _pixels(path: Path) -> int | None:
    """The pixels of an image file from its header (None where it cannot say: the reading
    reports that)."""
    try:
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fh:
                header = npy_header(fh)
            return None if header is None else int(np.prod(header[0][:2]))
        with warnings.catch_warnings():  # the reading warns about a huge image, once
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return int(image.size[0]) * int(image.size[1])
    except Exception:  # noqa: BLE001 - any failure is the reader's to report, with its words
        return None

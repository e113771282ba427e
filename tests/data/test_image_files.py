"""Reading images as grey levels (infodyn.data.image_files): integer scales and colour."""

import numpy as np
import pytest

from infodyn.data.image_files import to_grey
from infodyn.errors import InputError


def test_to_grey_scales_uint16_and_drops_alpha():  # kills G02, G03
    """Module docstring: uint16 / 65535; colour (RGB or RGBA) -> 0.2125 R + 0.7154 G + 0.0721 B,
    the alpha channel ignored."""
    np.testing.assert_allclose(
        to_grey(np.array([[0, 65535, 32768]], np.uint16)), [[0.0, 1.0, 32768 / 65535]]
    )
    rgba = np.array([[[255, 0, 0, 17], [0, 255, 0, 255], [0, 0, 255, 0]]], np.uint8)
    np.testing.assert_allclose(to_grey(rgba), [[0.2125, 0.7154, 0.0721]])


def test_signed_integer_images_are_read_as_8_or_16_bit_levels():
    # np.array([[0, 128, 255]]) is int64: it was divided by 2^63 - 1 (a flat black image), and
    # int8 -128 became -1.0, outside [0, 1], with no error
    np.testing.assert_allclose(to_grey(np.array([[0, 128, 255]])), [[0.0, 128 / 255, 1.0]])
    np.testing.assert_allclose(
        to_grey(np.array([[0, 256, 65535]], np.int32)), [[0.0, 256 / 65535, 1.0]]
    )
    rgb = np.zeros((1, 2, 3), np.int16)
    rgb[0, 1] = 255
    np.testing.assert_allclose(to_grey(rgb), [[0.0, 1.0]])
    with pytest.raises(InputError, match=r"^img: grey levels must be >= 0, got -128 \(int8\)"):
        to_grey(np.array([[-128, 0]], np.int8), "img")
    with pytest.raises(InputError, match="up to 70000 have no known range"):
        to_grey(np.array([[0, 70000]]), "img")


def test_a_16_bit_png_read_by_pillow_as_int32_keeps_its_scale(tmp_path):
    from PIL import Image

    from infodyn.data.image_files import read_image

    levels = np.array([[0, 1000], [30000, 65535]], np.uint16)
    Image.fromarray(levels).save(tmp_path / "deep.png")
    np.testing.assert_allclose(read_image(tmp_path / "deep.png"), levels / 65535.0)


def test_a_big_endian_16_bit_tiff_keeps_its_levels(tmp_path):
    """Pillow opens 16-bit grey TIFFs in Motorola byte order as mode I;16B, which went through
    convert("RGB"): every level above 255 became 255, a nearly white image without a word."""
    from PIL import Image

    from infodyn.data.image_files import read_image

    levels = np.array([[0, 1000], [30000, 65535]], np.uint16)
    Image.frombytes("I;16B", (2, 2), levels.astype(">u2").tobytes()).save(tmp_path / "mm.tif")
    assert Image.open(tmp_path / "mm.tif").mode == "I;16B"
    np.testing.assert_allclose(read_image(tmp_path / "mm.tif"), levels / 65535.0)

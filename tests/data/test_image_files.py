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


def _png16(path, pixels):
    """A 16-bit RGB PNG written by hand (Pillow cannot write one): header, one zlib stream of
    unfiltered rows, end."""
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    h, w, _ = pixels.shape
    rows = b"".join(b"\x00" + pixels[r].astype(">u2").tobytes() for r in range(h))
    head = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows))
    path.write_bytes(png + chunk(b"IEND", b""))


def test_16_bit_colour_keeps_its_levels_or_is_refused(tmp_path):
    """A 16-bit RGB TIFF or PNG came back with Pillow's high byte only: 400 grey levels of a
    low-contrast image became 2, without a word."""
    import tifffile

    from infodyn.data.image_files import read_image

    rng = np.random.default_rng(0)
    grey = (20000 + rng.random((8, 8)) * 400).astype(np.uint16)
    rgb = np.stack([grey] * 3, axis=2)
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb)
    np.testing.assert_allclose(read_image(tmp_path / "rgb16.tif"), grey / 65535.0, rtol=1e-12)
    planes = np.moveaxis(rgb, 2, 0)  # photometric named: later tifffiles write (3, 8, 8) as greys
    tifffile.imwrite(tmp_path / "planar.tif", planes, photometric="rgb", planarconfig="separate")
    np.testing.assert_allclose(read_image(tmp_path / "planar.tif"), grey / 65535.0, rtol=1e-12)
    tifffile.imwrite(tmp_path / "f64.tif", grey / 65535.0)  # Pillow: "cannot identify"
    np.testing.assert_allclose(read_image(tmp_path / "f64.tif"), grey / 65535.0)
    _png16(tmp_path / "rgb16.png", rgb)
    with pytest.raises(InputError, match="a 16-bit colour PNG.*save it as a TIFF"):
        read_image(tmp_path / "rgb16.png")


def test_an_image_file_of_several_pages_or_frames_is_refused(tmp_path):
    import tifffile
    from PIL import Image

    from infodyn.data.image_files import read_image

    g = np.arange(64, dtype=np.uint8).reshape(8, 8)
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([g, g]))
    with pytest.raises(InputError, match="holds 2 images"):  # the first page was read
        read_image(tmp_path / "stack.tif")
    frames = [Image.fromarray(g), Image.fromarray(255 - g)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(InputError, match="holds 2 images"):
        read_image(tmp_path / "anim.gif")
    (tmp_path / "fake.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(InputError, match="not a readable image"):
        read_image(tmp_path / "fake.tif")


def test_an_image_given_twice_is_refused(tmp_path):
    """A second copy (the same name, file, or a file and its folder) put the image's patches in
    training and held out: held out only the first copy of "camera", trained on the other."""
    from PIL import Image

    from infodyn.data.image_files import load_images

    with pytest.raises(InputError, match="camera is given twice"):
        load_images(["camera", "camera"])
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(tmp_path / "a.png")
    with pytest.raises(InputError, match="given twice"):
        load_images([tmp_path, tmp_path / "a.png"])
    with pytest.raises(InputError, match="given twice"):
        load_images([tmp_path / "a.png", tmp_path / "." / "a.png"])
    assert len(load_images([tmp_path, "camera"])) == 2


def test_tiffs_that_pillow_reads_whole_stay_with_pillow(tmp_path):
    """LZW/JPEG-compressed, palette and white-is-zero TIFFs (tifffile alone could not decode
    the first without imagecodecs, and read the others' raw samples); a camera JPEG with an
    MPF preview is one photograph; a TIFF with a thumbnail page is one image."""
    import tifffile
    from PIL import Image

    from infodyn.data.image_files import read_image

    ramp = np.tile(np.linspace(0, 255, 16).astype(np.uint8), (8, 1))
    grey = ramp / 255.0
    Image.fromarray(np.stack([ramp] * 3, 2)).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    np.testing.assert_allclose(read_image(tmp_path / "lzw.tif"), grey, atol=1e-3)
    Image.fromarray(ramp).convert("P").save(tmp_path / "pal.tif")
    np.testing.assert_allclose(read_image(tmp_path / "pal.tif"), grey, atol=0.05)
    tifffile.imwrite(tmp_path / "white.tif", 255 - ramp, photometric="miniswhite")
    np.testing.assert_allclose(read_image(tmp_path / "white.tif"), grey, atol=1e-12)
    small = Image.fromarray(ramp[:4, :4])
    Image.fromarray(ramp).save(tmp_path / "photo.jpg", format="MPO", save_all=True,
                               append_images=[small])  # fmt: skip
    assert read_image(tmp_path / "photo.jpg").shape == (8, 16)
    with tifffile.TiffWriter(tmp_path / "thumb.tif") as tw:
        tw.write(ramp)
        tw.write(ramp[:4, :8], subfiletype=1)  # a reduced-resolution page
    np.testing.assert_allclose(read_image(tmp_path / "thumb.tif"), grey)


def test_tiff_kinds_pillow_cannot_read_whole_go_to_tifffile(tmp_path, monkeypatch):
    """16-bit grey + alpha, float16, 32-bit unsigned and a thumbnail as the first page: the
    first version of the tifffile path refused them, read the thumbnail, or read uint32 as
    Pillow's signed 32-bit ("grey levels must be >= 0")."""
    import tifffile

    from infodyn.data.image_files import read_image

    grey = np.linspace(0.0, 1.0, 16 * 20).reshape(16, 20)
    la = np.stack([(grey * 65535).astype(np.uint16), np.full((16, 20), 65535, np.uint16)], 2)
    tifffile.imwrite(tmp_path / "la16.tif", la, photometric="minisblack", extrasamples=[2])
    np.testing.assert_allclose(read_image(tmp_path / "la16.tif"), la[..., 0] / 65535.0)
    tifffile.imwrite(tmp_path / "f16.tif", grey.astype(np.float16))
    np.testing.assert_allclose(read_image(tmp_path / "f16.tif"), grey, atol=1e-3)
    u32 = (grey * (2**32 - 1)).astype(np.uint32)
    tifffile.imwrite(tmp_path / "u32.tif", u32)
    np.testing.assert_allclose(read_image(tmp_path / "u32.tif"), u32 / (2**32 - 1))
    with tifffile.TiffWriter(tmp_path / "thumb_first.tif") as tw:
        tw.write((grey[:4, :5] * 255).astype(np.uint8), subfiletype=1)  # the thumbnail first
        tw.write((grey * 255).astype(np.uint8))
    assert read_image(tmp_path / "thumb_first.tif").shape == (16, 20)
    np.testing.assert_allclose(read_image(tmp_path / "thumb_first.tif"), grey, atol=1 / 255)
    with tifffile.TiffWriter(tmp_path / "thumb_first_white.tif") as tw:  # raw samples: inverted
        tw.write(
            (255 - grey[:4, :5] * 255).astype(np.uint8), subfiletype=1, photometric="miniswhite"
        )
        tw.write((255 - grey * 255).astype(np.uint8), photometric="miniswhite")
    np.testing.assert_allclose(read_image(tmp_path / "thumb_first_white.tif"), grey, atol=1 / 255)
    mw16 = (grey * 65535).astype(np.uint16)  # 16-bit white-is-zero: Pillow did not invert it
    tifffile.imwrite(tmp_path / "mw16.tif", 65535 - mw16, photometric="miniswhite")
    np.testing.assert_allclose(read_image(tmp_path / "mw16.tif"), mw16 / 65535.0)
    tifffile.imwrite(tmp_path / "i8.tif", np.array([[-128, 0, 127]], np.int8))
    with pytest.raises(InputError, match="must be >= 0"):  # Pillow read it unsigned, wrapped
        read_image(tmp_path / "i8.tif")
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's guard lifted: a TypeError
    np.testing.assert_allclose(read_image(tmp_path / "la16.tif"), la[..., 0] / 65535.0)


def test_a_jpegs_exif_orientation_is_applied(tmp_path):
    """A phone's JPEG stores its rows sideways with an EXIF orientation (6: rotate 90 degrees
    to view); it was read with rows and columns swapped."""
    from PIL import Image

    from infodyn.data.image_files import load_images

    pixels = np.zeros((20, 40), np.uint8)
    pixels[:, :20] = 255  # bright left half, as stored
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = 6  # Orientation: the viewer turns it 90 degrees clockwise
    img.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    ((_, grey),) = load_images([str(tmp_path / "phone.jpg")])
    assert grey.shape == (40, 20)  # as shown: the stored left half is now the top half
    assert grey[:20].mean() > 0.9 and grey[20:].mean() < 0.1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_oriented_turns_as_pillow_does(orientation):
    # the reference: Pillow's exif_transpose of the same pixels
    from PIL import Image, ImageOps

    from infodyn.data.image_files import exif_oriented

    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = orientation
    img.info["exif"] = exif.tobytes()
    want = np.asarray(ImageOps.exif_transpose(img))
    np.testing.assert_array_equal(exif_oriented(pixels, orientation), want)
    rgb = np.stack([pixels, pixels + 1, pixels + 2], axis=-1)  # channels stay last
    np.testing.assert_array_equal(exif_oriented(rgb, orientation)[..., 1], want + 1)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=["pillow", "tifffile"])
def test_a_tiffs_orientation_is_applied(tmp_path, dtype):
    # Pillow's path turned a TIFF by its Orientation tag; tifffile's read it as stored
    import tifffile

    from infodyn.data.image_files import load_images

    pixels = np.zeros((20, 40, 3), dtype)  # colour: 16 bits go through tifffile
    pixels[:, :20] = np.iinfo(dtype).max  # bright left half, as stored
    path = tmp_path / "turned.tif"
    tifffile.imwrite(path, pixels, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    ((_, grey),) = load_images([str(path)])
    assert grey.shape == (40, 20)  # turned 90 degrees clockwise: the left half is on top
    assert grey[:20].mean() > 0.9 and grey[20:].mean() < 0.1


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("kind", ["uint8", "uint16", "bool", "white-is-zero"])
def test_a_grey_tiff_turned_a_quarter_is_read_whole(tmp_path, orientation, kind):
    # libtiff (Pillow's reader) turns a page as it decodes it, but kept a one-sample page
    # turned by 90 degrees (5-8) in its stored shape: 5 x 7 pixels in a scrambled order
    import tifffile

    from infodyn.data.image_files import exif_oriented, load_images

    stored = np.arange(35).reshape(5, 7)
    a = (
        stored % 2 == 0
        if kind == "bool"
        else (stored * 7).astype(kind.replace("white-is-zero", "uint8"))
    )
    photometric = "miniswhite" if kind == "white-is-zero" else "minisblack"
    path = tmp_path / "grey.tif"
    tifffile.imwrite(path, a, photometric=photometric, extratags=[(274, "H", 1, orientation, True)])
    ((_, grey),) = load_images([str(path)])
    want = exif_oriented(a, orientation).astype(float) * (-1 if kind == "white-is-zero" else 1)
    assert grey.shape == want.shape
    assert np.corrcoef(grey.ravel(), want.ravel())[0, 1] > 0.999  # the same pixels, in place


def test_a_palette_tiff_turned_a_quarter_is_refused(tmp_path):
    import tifffile

    from infodyn.data.image_files import load_images

    path = tmp_path / "palette.tif"
    colours = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))
    pixels = np.arange(35, dtype=np.uint8).reshape(5, 7)
    tifffile.imwrite(
        path, pixels, photometric="palette", colormap=colours, extratags=[(274, "H", 1, 6, True)]
    )
    with pytest.raises(InputError, match=r"uncompressed palette TIFF turned a quarter \(Orient"):
        load_images([str(path)])


@pytest.mark.parametrize(
    ("mode", "compression"),
    [("L", "lzw"), ("L", "packbits"), ("L", "tiff_deflate"), ("P", "packbits")]
    + [("P", "tiff_deflate"), ("I;16", "lzw"), ("I;16", "packbits"), ("I;16", "tiff_deflate")],
)  # (Pillow saves a palette page asked for LZW uncompressed: refused, above)
def test_a_compressed_tiff_turned_a_quarter_is_read_by_pillow(tmp_path, compression, mode):
    # the first fix sent every one-sample page turned 5-8 to tifffile, which needs imagecodecs
    # for LZW: such files, read right before, were refused
    from PIL import Image

    from infodyn.data.image_files import exif_oriented, load_images

    stored = (np.arange(35).reshape(5, 7) * 7).astype(np.uint16 if mode == "I;16" else np.uint8)
    img = Image.fromarray(stored)  # L or I;16
    if mode == "P":
        img = img.convert("P")  # a grey palette
    exif = img.getexif()
    exif[0x0112] = 6
    path = tmp_path / "turned.tif"
    img.save(path, compression=compression, exif=exif)
    ((_, grey),) = load_images([str(path)])
    want = exif_oriented(stored, 6).astype(float)
    assert grey.shape == want.shape
    assert np.corrcoef(grey.ravel(), want.ravel())[0, 1] > 0.999


def test_a_compression_tifffile_cannot_decode_names_the_package(tmp_path):
    # "not a readable image (<COMPRESSION.LZW: 5> requires the 'imagecodecs' package)"
    import importlib.util

    import tifffile

    from infodyn.data.image_files import load_images

    if importlib.util.find_spec("imagecodecs") is not None:
        pytest.skip("imagecodecs is installed: tifffile decodes LZW")
    path = tmp_path / "colour16.tif"
    pixels = (np.arange(105).reshape(5, 7, 3) * 600).astype(np.uint16)  # 16-bit colour: tifffile
    tifffile.imwrite(path, pixels, photometric="rgb", compression="zlib")
    ((_, grey),) = load_images([str(path)])  # zlib: tifffile's own
    assert grey.shape == (5, 7)
    with open(path, "r+b") as fh:  # the same page marked LZW (tag 259): imagecodecs needed
        data = fh.read()
        at = data.find(b"\x03\x01\x03\x00\x01\x00\x00\x00\x08\x00")  # 259, SHORT, 1, 8
        assert at >= 0
        fh.seek(at + 8)
        fh.write(b"\x05\x00")
    with pytest.raises(InputError, match="needs the imagecodecs package .*pip install imagecodecs"):
        load_images([str(path)])


def test_netpbm_files_of_more_than_8_bits_keep_their_scale_or_are_refused(tmp_path):
    """A 16-bit PGM whose levels all lay below 256 read 257x too bright (Pillow's mode "I",
    which to_grey took for 8-bit levels): its maxval is the scale, as for a 16-bit PNG. A
    16-bit colour PPM lost its low 8 bits (Pillow reads it as 8-bit RGB): refused."""
    from infodyn.data.image_files import read_image

    levels = (np.random.default_rng(1).random((16, 16)) * 200).astype(np.uint16)
    (tmp_path / "dark.pgm").write_bytes(
        b"P5\n# a comment\n16 16\n65535\n" + levels.astype(">u2").tobytes()
    )
    np.testing.assert_allclose(read_image(tmp_path / "dark.pgm"), levels / 65535.0, rtol=1e-12)
    (tmp_path / "ten.pgm").write_bytes(b"P5 16 16 1000\n" + levels.astype(">u2").tobytes())
    np.testing.assert_allclose(read_image(tmp_path / "ten.pgm"), levels / 1000.0, atol=1e-5)
    long_comment = b"P5\n#" + b"x" * 600 + b"\n16 16\n# maxval next\n65535\n"  # past 512 bytes
    (tmp_path / "long.pgm").write_bytes(long_comment + levels.astype(">u2").tobytes())
    np.testing.assert_allclose(read_image(tmp_path / "long.pgm"), levels / 65535.0, rtol=1e-12)
    (tmp_path / "byte.pgm").write_bytes(b"P5\n16 16\n255\n" + levels.astype(np.uint8).tobytes())
    np.testing.assert_allclose(read_image(tmp_path / "byte.pgm"), levels / 255.0, rtol=1e-12)
    rgb = np.stack([levels + 300] * 3, axis=2)
    (tmp_path / "c.ppm").write_bytes(b"P6\n16 16\n65535\n" + rgb.astype(">u2").tobytes())
    with pytest.raises(InputError, match="colour PPM of maxval 65535.*save it as a TIFF"):
        read_image(tmp_path / "c.ppm")


def test_an_image_without_pixels_is_refused_in_one_line():
    """natural_patches on a (0, 8) image raised NumPy's "zero-size array to reduction"."""
    from infodyn.data.images import natural_patches

    with pytest.raises(InputError, match=r"no pixels \(shape \(0, 8\)\)"):
        to_grey(np.zeros((0, 8)))
    with pytest.raises(InputError, match="no pixels"):
        natural_patches(2, 10, images=[np.zeros((0, 8))])


def test_image_files_whose_pixels_would_not_fit_are_refused_from_their_headers(
    tmp_path, monkeypatch
):
    """Six 3000 x 3000 RGB files took 1.5 GB in `infodyn images` under any
    INFODYN_MEMORY_LIMIT: the files' headers give their pixels before any is decoded."""
    from PIL import Image

    from infodyn.data import image_files
    from infodyn.memory import MemoryPreflightError

    for i in range(3):
        rgb = (np.random.default_rng(i).random((600, 800, 3)) * 255).astype(np.uint8)
        Image.fromarray(rgb).save(tmp_path / f"im{i}.png")
    np.save(tmp_path / "a.npy", np.zeros((100, 200)))
    read = []
    monkeypatch.setattr(image_files, "read_image", lambda p: read.append(p) or np.zeros((2, 2)))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "20M")  # 1,460,000 pixels x 24 bytes: 33.4 MiB
    with pytest.raises(
        MemoryPreflightError,
        match=r"^4 image files \(1.5 megapixels\) read as grey levels needs 33.4 MiB .*; use "
        r"fewer or smaller images \(crop or downscale them\)$",
    ):
        image_files.load_images(str(tmp_path))
    assert read == []  # nothing decoded
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "40M")
    assert len(image_files.load_images(str(tmp_path))) == 4 and len(read) == 4

"""The upload loader against a corpus of awkward and hostile files, all generated here (nothing downloaded)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from core.images import NEUTRAL_BACKGROUND, ImageRejected, Limits, load_image


def _save(image: Image.Image, format: str, **options) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _gradient(width: int = 64, height: int = 48) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    return Image.fromarray(np.stack([x, x[::-1], np.full_like(x, 90)], axis=-1))


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG that declares width × height 1-bit pixels, all zero: kilobytes on disk, gigabytes decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(min(height, 2000))) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


class Decoded(Exception):
    """Raised by the spy instead of decoding pixels (not a type the loader turns into a refusal)."""


@pytest.fixture
def decoding(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """Spy on Pillow's pixel decoding (`ImageFile.load`, which every plugin here decodes through): records the
    format and the size being decoded, then decodes as usual."""
    calls: list[tuple[str, tuple[int, int]]] = []
    original = ImageFile.ImageFile.load

    def load(image: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        calls.append((image.format, image.size))
        return original(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


@pytest.fixture
def never_decode(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """Like `decoding`, but raises `Decoded` instead of decoding: a bomb that slips through costs nothing."""
    calls: list[tuple[str, tuple[int, int]]] = []

    def load(image: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        calls.append((image.format, image.size))
        raise Decoded

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


# ------------------------------------------------------------------------------------------ usable files
def test_plain_jpeg_and_png_come_back_as_rgb_of_the_same_size():
    """Test whether ordinary JPEG and PNG files load as (H, W, 3) uint8 with their pixels."""
    image = _gradient()
    png = load_image(_save(image, "PNG"))
    assert png.shape == (48, 64, 3) and png.dtype == np.uint8 and np.array_equal(png, np.asarray(image))
    jpeg = load_image(_save(image, "JPEG", quality=95))
    assert jpeg.shape == (48, 64, 3) and np.abs(jpeg.astype(int) - np.asarray(image)).mean() < 4


def test_sixteen_bit_grey_keeps_its_brightness():
    """Test whether a 16-bit grey PNG of mid-grey (30000 of 65535) stays mid-grey, not clipped to white."""
    grey = Image.fromarray(np.full((32, 32), 30000, dtype=np.uint16))
    assert grey.mode.startswith("I;16")
    result = load_image(_save(grey, "PNG"))
    assert np.all(np.abs(result.astype(int) - 117) <= 1)


def test_floating_point_tiff_in_zero_to_one_is_scaled():
    """Test whether a float TIFF with values 0..1 becomes 0..255 instead of black."""
    values = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)
    result = load_image(_save(Image.fromarray(values, mode="F"), "TIFF"))
    assert result[0, 0, 0] == 0 and result[-1, -1, 0] == 255 and 120 < result[16, 0, 0] < 135


def test_transparent_pixels_show_the_neutral_background_not_their_hidden_colour():
    """Test whether fully transparent pixels become neutral grey even when they hide a bright colour."""
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # hidden red everywhere
    rgba[:, 16:, 3] = 255  # right half opaque
    result = load_image(_save(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    assert tuple(result[0, 0]) == NEUTRAL_BACKGROUND and tuple(result[0, 31]) == (255, 0, 0)


def test_palette_with_a_transparent_colour():
    """Test whether a palette PNG's transparent entry becomes the neutral background."""
    image = Image.new("P", (32, 32), 0)
    image.putpalette([0, 255, 0] + [255, 255, 255] * 255)
    image.paste(1, (16, 0, 32, 32))
    result = load_image(_save(image, "PNG", transparency=0))
    assert tuple(result[0, 0]) == NEUTRAL_BACKGROUND and tuple(result[0, 31]) == (255, 255, 255)


def test_cmyk_and_greyscale_become_rgb():
    """Test whether CMYK JPEGs and greyscale PNGs come back as three-channel RGB."""
    cmyk = load_image(_save(_gradient().convert("CMYK"), "JPEG"))
    grey = load_image(_save(_gradient().convert("L"), "PNG"))
    assert cmyk.shape == grey.shape == (48, 64, 3)
    assert np.array_equal(grey[..., 0], grey[..., 2])


def test_exif_orientation_is_applied():
    """Test whether a phone photo stored sideways (EXIF orientation 6) comes back upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    result = load_image(_save(_gradient(64, 48), "JPEG", exif=exif))
    assert result.shape == (64, 48, 3)


def test_animated_gif_and_multipage_tiff_give_the_first_frame():
    """Test whether only the first frame of an animation or a multi-page file is used."""
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    gif = load_image(_save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0))
    tiff = load_image(_save(frames[0], "TIFF", save_all=True, append_images=frames[1:]))
    for result in (gif, tiff):
        assert result[0, 0, 0] > 200 and result[0, 0, 2] < 50


def test_a_big_photo_is_shrunk_while_decoding(decoding, monkeypatch):
    """Test whether a big JPEG is put in draft mode before its pixels are decoded, so Pillow decodes it at a
    fraction of its size (4000 × 3000 → 2000 × 1500, a quarter of the memory) rather than in full."""
    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(image, mode, size):  # type: ignore[no-untyped-def]
        drafts.append((mode, size))
        return original(image, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    x = np.linspace(0, 255, 4000, dtype=np.uint8)[None, :].repeat(3000, 0)  # smooth: quick to encode
    data = _save(Image.fromarray(np.stack([x, x, x], axis=-1)), "JPEG", quality=70)
    result = load_image(data, Limits(max_bytes=64 * 2**20))
    assert drafts == [("RGB", (1024, 1024))]
    assert decoding and set(decoding) == {("JPEG", (2000, 1500))}  # decoded at the draft's size, never 4000 × 3000
    assert result.shape == (768, 1024, 3)


# ------------------------------------------------------------------------------------------ refused files
@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty", b"", "empty"),
        ("random bytes", bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)), "not a picture"),
        ("svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "HTML or SVG"),
        ("html renamed .jpg", b"<!DOCTYPE html><html><body>hello</body></html>", "HTML or SVG"),
        ("text", b"just some words in a file called photo.jpg", "not a picture"),
        ("pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "not a picture"),
    ],
)
def test_things_that_are_not_pictures_get_one_plain_sentence(name, data, words):
    """Test whether non-pictures are refused with a short sentence naming the problem."""
    with pytest.raises(ImageRejected, match=words) as refused:
        load_image(data)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 160 and "Traceback" not in message


def test_a_truncated_jpeg_is_refused():
    """Test whether a JPEG cut off halfway is reported as damaged, not shown half-grey or crashing."""
    data = _save(_gradient(256, 256), "JPEG")
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        load_image(data[: len(data) // 2])


@pytest.mark.parametrize("side", [9_000, 40_000])
def test_a_decompression_bomb_is_refused_before_decoding(side, never_decode):
    """Test whether a small file declaring side × side pixels is refused from its header alone, without Pillow
    ever decoding a pixel — both below Pillow's own bomb limit (81 MP: Pillow would decode it) and far above."""
    data = _png_bomb(side, side)
    assert len(data) < 2_000_000
    with pytest.raises(ImageRejected, match="pixels") as refused:
        load_image(data)
    assert never_decode == []
    if side == 9_000:  # refused by NetLens's own limit, from the size the header declares
        assert "9,000 × 9,000 pixels" in str(refused.value)


def test_the_pixel_limit_alone_decides_whether_a_big_picture_is_decoded(never_decode):
    """Test whether the same 81-megapixel header is passed on to decoding once the pixel limit allows it, so
    the refusal above comes from the declared size and not from anything else about the file."""
    with pytest.raises(Decoded):
        load_image(_png_bomb(9_000, 9_000), Limits(max_pixels=100_000_000))
    assert never_decode == [("PNG", (9_000, 9_000))]


def test_absurd_shapes_and_sizes_are_refused():
    """Test whether long thin strips, tiny pictures and over-large files are refused."""
    with pytest.raises(ImageRejected, match="long and thin"):
        load_image(_save(Image.new("RGB", (2000, 20)), "PNG"))
    with pytest.raises(ImageRejected, match="at least 16"):
        load_image(_save(Image.new("RGB", (8, 8)), "PNG"))
    with pytest.raises(ImageRejected, match="MB"):
        load_image(_save(_gradient(), "PNG"), Limits(max_bytes=100))


def test_an_unsupported_format_is_refused():
    """Test whether readable but unsupported formats (here: ICO) are refused politely."""
    with pytest.raises(ImageRejected, match="not supported"):
        load_image(_save(Image.new("RGB", (32, 32)), "ICO"))

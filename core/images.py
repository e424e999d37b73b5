"""Opening untrusted pictures: one loader that checks before it decodes and normalises everything to RGB.

Every upload is untrusted (DESIGN.md): its byte size and pixel count are checked before decoding
(decompression bombs), EXIF orientation is applied, every mode becomes 8-bit RGB the way a person would
expect to see it, animated and multi-page files give their first frame, big JPEGs shrink while decoding,
and anything else is refused with one plain sentence (`ImageRejected`), never a traceback.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "MPO"})
NEUTRAL_BACKGROUND = (128, 128, 128)  # transparent areas become mid-grey: neither black nor white evidence


class ImageRejected(ValueError):
    """The file cannot be used as a picture; the message is one sentence meant for the user."""


@dataclass(frozen=True)
class Limits:
    """What an upload may be: bytes on disk, pixels declared in its header, shape, and working size."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 50_000_000  # declared width × height; a 24 MP phone photo passes, a 50 MP bomb does not
    max_aspect: float = 8.0
    min_side: int = 16
    working_side: int = 1024  # longest side after loading; more than any network here needs


def load_image(data: bytes, limits: Limits = Limits()) -> np.ndarray:
    """Decode untrusted bytes into an (H, W, 3) uint8 RGB picture, or raise `ImageRejected`."""
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > limits.max_bytes:
        raise ImageRejected(f"The file is {len(data) / 2**20:.1f} MB; pictures up to {limits.max_bytes / 2**20:.0f} MB are accepted.")
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<", b"\xef\xbb\xbf<")) or b"<svg" in head or b"<html" in head:
        raise ImageRejected("This is a web page or a drawing (HTML or SVG), not a photo; please upload a JPEG or PNG.")
    image = _open(data)
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageRejected(f"The picture is {width:,} × {height:,} pixels, too large to open safely.")
    if min(width, height) < limits.min_side:
        raise ImageRejected(f"The picture is only {width} × {height} pixels; at least {limits.min_side} on each side is needed.")
    if max(width, height) / min(width, height) > limits.max_aspect:
        raise ImageRejected(f"The picture is {width} × {height} pixels, too long and thin to show anything.")
    if image.format == "JPEG":
        image.draft("RGB", (limits.working_side, limits.working_side))  # shrink while decoding: far less memory
    try:
        image.seek(0)  # animated or multi-page: the first frame
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as error:
        raise ImageRejected("The file is damaged or incomplete, so the picture cannot be read.") from error
    image = _upright(image)
    rgb = _to_rgb(image)
    rgb.thumbnail((limits.working_side, limits.working_side), Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.uint8).copy()


def _open(data: bytes) -> Image.Image:
    """Read the header only (no pixels yet), refusing formats outside the allow-list."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("The picture declares more pixels than can be opened safely.") from error
    except UnidentifiedImageError as error:
        raise ImageRejected("This file is not a picture NetLens can read; please upload a JPEG or PNG.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRejected("The file is damaged or incomplete, so the picture cannot be read.") from error
    if image.format not in ALLOWED_FORMATS:
        raise ImageRejected(f"{image.format} files are not supported; please upload a JPEG or PNG.")
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Apply the camera's EXIF orientation, so phone photos are not shown sideways."""
    try:
        return ImageOps.exif_transpose(image) or image
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, ZeroDivisionError):
        return image  # a broken orientation tag: show the picture as stored


def _to_rgb(image: Image.Image) -> Image.Image:
    """Every mode to 8-bit RGB as a person would expect to see it."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I") or mode == "F":  # 16-bit, 32-bit integer or floating-point grey
        return Image.fromarray(_grey_to_uint8(np.asarray(image), mode)).convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("1", "L", "CMYK", "YCbCr", "LAB", "HSV"):
        return image.convert("RGB")
    if image.mode in ("LA", "PA", "La"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        background = Image.new("RGB", image.size, NEUTRAL_BACKGROUND)
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def _grey_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """High-bit-depth or floating-point grey to 0..255: 16-bit by its full range (not clipped to white),
    floating point 0..1 by 255, anything else by the data's own range."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        raise ImageRejected("The picture contains no usable pixel values.")
    low, high = float(finite.min()), float(finite.max())
    values = values.astype(np.float64)
    if mode.startswith("I;16") or (mode == "I" and 0 <= low and high <= 65535):
        scaled = values / 257.0
    elif mode == "F" and 0.0 <= low and high <= 1.0:
        scaled = values * 255.0
    else:
        scaled = (values - low) / (high - low or 1.0) * 255.0
    return np.clip(np.nan_to_num(scaled), 0, 255).round().astype(np.uint8)

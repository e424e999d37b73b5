"""Attribution maps drawn over pictures, in a colour-blind-safe diverging scale (orange for, blue against)."""

from __future__ import annotations

import numpy as np
from PIL import Image

FOR_COLOUR = np.array([230, 97, 0], dtype=np.float32)  # orange: pushed towards the answer
AGAINST_COLOUR = np.array([30, 110, 200], dtype=np.float32)  # blue: pushed away from it
LEGEND = "**Orange** pixels pushed the network towards its answer, **blue** pixels pushed it away; the stronger the colour, the stronger the push."
UNSIGNED_LEGEND = "**Orange** marks the pixels this method finds important (it does not say for or against); the stronger, the more important."


def map_scale(maps: np.ndarray, percentile: float = 99.0) -> float:
    """A robust "full strength" value for one or more maps: the `percentile` of |map| (never zero)."""
    value = float(np.percentile(np.abs(maps), percentile)) if maps.size else 0.0
    return value if value > 0 else 1.0


def overlay(
    image: np.ndarray, attribution: np.ndarray, scale: float | None = None, opacity: float = 0.75, zoom: int = 4
) -> np.ndarray:
    """(H, W, 3) uint8 picture + (H, W) map → (H*zoom, W*zoom, 3) uint8: the picture faded to grey, with
    orange where the map is positive and blue where it is negative, opaque in proportion to strength."""
    if image.shape[:2] != attribution.shape:
        raise ValueError(f"picture {image.shape[:2]} and map {attribution.shape} must have the same size")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
    strength = np.clip(attribution / (scale or map_scale(attribution)), -1, 1)[..., None]  # (H, W, 1)
    grey = image.astype(np.float32).mean(-1, keepdims=True)
    faded = 0.55 * image + 0.45 * grey  # less colour in the picture, so the map's colours stand out
    colour = np.where(strength > 0, FOR_COLOUR, AGAINST_COLOUR)
    alpha = opacity * np.abs(strength)
    blended = np.clip(np.rint(faded * (1 - alpha) + colour * alpha), 0, 255).astype(np.uint8)
    return enlarge(blended, zoom)


def enlarge(image: np.ndarray, zoom: int = 4) -> np.ndarray:
    """Blow up a small picture with smooth edges, for display."""
    height, width = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((width * zoom, height * zoom), Image.Resampling.BICUBIC))


def colour_strip(width: int = 320, height: int = 18) -> np.ndarray:
    """The legend's colour scale as a (height, width, 3) picture: blue (against) → grey (no effect) → orange (for)."""
    strength = np.linspace(-1, 1, width)[None, :, None]  # (1, W, 1)
    grey = np.full(3, 200, dtype=np.float32)
    colour = np.where(strength > 0, FOR_COLOUR, AGAINST_COLOUR)
    strip = grey * (1 - np.abs(strength)) + colour * np.abs(strength)
    return np.repeat(np.rint(strip), height, axis=0).astype(np.uint8)

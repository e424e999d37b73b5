"""Attribution maps drawn over pictures, in a colour-blind-safe diverging scale (orange for, blue against)."""

from __future__ import annotations

import numpy as np
from PIL import Image

FOR_COLOUR = np.array([230, 97, 0], dtype=np.float32)  # orange: pushed towards the answer
AGAINST_COLOUR = np.array([30, 110, 200], dtype=np.float32)  # blue: pushed away from it
IMPORTANCE_COLOUR = np.array([170, 51, 119], dtype=np.float32)  # purple: important, direction unknown
LEGEND = "**Orange**: pushed the network towards its answer. **Blue**: pushed it away. Stronger colour, stronger push."
UNSIGNED_LEGEND = "**Purple**: important to the answer, for or against (these methods cannot tell which). Stronger colour, more important."


def map_scale(maps: np.ndarray, percentile: float = 99.0) -> float:
    """A robust "full strength" value for one or more maps: the `percentile` of |map| (never zero)."""
    value = float(np.percentile(np.abs(maps), percentile)) if maps.size else 0.0
    return value if value > 0 else 1.0


def overlay(
    image: np.ndarray, attribution: np.ndarray, scale: float | None = None, opacity: float = 0.75, zoom: int = 4,
    signed: bool = True,
) -> np.ndarray:
    """(H, W, 3) uint8 picture + (H, W) map → (H*zoom, W*zoom, 3) uint8: the picture faded to grey, with
    orange where the map is positive and blue where it is negative (purple for importance-only maps,
    `signed=False`), opaque in proportion to strength; `scale` is full strength (default: this map's own)."""
    if image.shape[:2] != attribution.shape:
        raise ValueError(f"picture {image.shape[:2]} and map {attribution.shape} must have the same size")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
    strength = np.clip(attribution / (scale or map_scale(attribution)), -1, 1)[..., None]  # (H, W, 1)
    grey = image.astype(np.float32).mean(-1, keepdims=True)
    faded = 0.55 * image + 0.45 * grey  # less colour in the picture, so the map's colours stand out
    colour = np.where(strength > 0, FOR_COLOUR, AGAINST_COLOUR) if signed else IMPORTANCE_COLOUR
    alpha = opacity * np.abs(strength)
    blended = np.clip(np.rint(faded * (1 - alpha) + colour * alpha), 0, 255).astype(np.uint8)
    return enlarge(blended, zoom)


def enlarge(image: np.ndarray, zoom: int = 4) -> np.ndarray:
    """Blow up a small picture with smooth edges, for display."""
    height, width = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((width * zoom, height * zoom), Image.Resampling.BICUBIC))


def colour_strip(width: int = 320, height: int = 18, signed: bool = True) -> np.ndarray:
    """A legend's colour scale as a (height, width, 3) picture: blue (against) → grey (no effect) → orange
    (for); or, unsigned, grey (unimportant) → purple (important)."""
    strength = np.linspace(-1 if signed else 0, 1, width)[None, :, None]  # (1, W, 1)
    grey = np.full(3, 200, dtype=np.float32)
    colour = np.where(strength > 0, FOR_COLOUR, AGAINST_COLOUR) if signed else IMPORTANCE_COLOUR
    strip = grey * (1 - np.abs(strength)) + colour * np.abs(strength)
    return np.repeat(np.rint(strip), height, axis=0).astype(np.uint8)

"""Explaining a photo: the steps the "Your own photo" page and `netlens explain` share.

bytes → `core.images.load_image` (untrusted input) → the network's view (224×224 crop) → top-5 →
maps for a chosen class (any registered method) → overlay PNG, deletion and randomisation checks.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.explain import METHODS, explain, model_lock
from core.overlay import overlay
from core.photo_model import IMAGENET_LABELS, EfficientNetLite0, PixelInput, model_view, top_predictions
from core.trust import DeletionCheck, RandomisationCheck, deletion_check, randomisation_check

DEFAULT_METHODS: tuple[str, ...] = ("gradcam", "ig", "occlusion", "smoothgrad", "gradientshap")
# Scrambling order for the randomisation check: classifier, head, then the blocks from the top down, the stem.
RANDOMISATION_GROUPS: tuple[tuple[str, ...], ...] = (
    ("_fc",),
    ("_conv_head", "_bn1"),
    tuple(f"_blocks.{index}" for index in range(15, 11, -1)),
    tuple(f"_blocks.{index}" for index in range(11, 5, -1)),
    tuple(f"_blocks.{index}" for index in range(5, -1, -1)),
    ("_conv_stem", "_bn0"),
)


def digest(data: bytes) -> str:
    """A short fingerprint of a file's bytes, to key caches (Streamlit samples big arrays when hashing)."""
    return hashlib.sha1(data).hexdigest()[:16]


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


def predict(model: EfficientNetLite0, picture: np.ndarray, k: int = 5) -> list[Prediction]:
    """The k likeliest ImageNet classes for an (H, W, 3) uint8 picture, best first."""
    return [Prediction(index, label, probability) for index, label, probability in top_predictions(model, picture, k)]


def resolve_target(spec: str | int, predictions: list[Prediction]) -> int:
    """A class index from "top1".."top5", a class number, or a class name (case-insensitive)."""
    text = str(spec).strip().lower()
    if text.startswith("top") and text[3:].isdigit():
        rank = int(text[3:])
        if not 1 <= rank <= len(predictions):
            raise ValueError(f"{spec!r}: choose top1 to top{len(predictions)}")
        return predictions[rank - 1].index
    if text.isdigit():
        index = int(text)
        if not 0 <= index < len(IMAGENET_LABELS):
            raise ValueError(f"class number {index} is not between 0 and {len(IMAGENET_LABELS) - 1}")
        return index
    matches = [index for index, label in enumerate(IMAGENET_LABELS) if label.lower() == text]
    if not matches:
        raise ValueError(f"no ImageNet class is called {spec!r}; use top1..top5, a class number or an exact name")
    return matches[0]


def explain_photo(model: EfficientNetLite0, picture: np.ndarray, target: int, method: str, seed: int = 0) -> np.ndarray:
    """The `method` map (224, 224) of the network's view of an (H, W, 3) uint8 picture, towards `target`."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    view = model_view(picture)[None]  # (1, 224, 224, 3) uint8
    with model_lock(model):  # explain locks the wrapper; the shared network needs the lock
        return explain(PixelInput(model), view, target, method, seed=seed)[0]


def overlay_png(picture: np.ndarray, attribution: np.ndarray, method: str, opacity: float = 0.75,
                scale: float | None = None) -> bytes:
    """A PNG of the map over the network's view of the picture, for slides."""
    image = overlay(model_view(picture), attribution, scale=scale, opacity=opacity, zoom=2,
                    signed=METHODS[method].signed)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def deletion(model: EfficientNetLite0, picture: np.ndarray, target: int, attribution: np.ndarray) -> DeletionCheck:
    """The deletion check on the network's view (8 × 8 patches, 16 steps)."""
    with model_lock(model):
        return deletion_check(PixelInput(model), model_view(picture), target, attribution, steps=16, random_orders=2)


def randomisation(model: EfficientNetLite0, picture: np.ndarray, target: int, method: str,
                  seed: int = 0) -> RandomisationCheck:
    """The randomisation check, scrambling the network in six groups from the output backwards."""
    with model_lock(model):
        return randomisation_check(PixelInput(model), model_view(picture), target, method, seed=seed,
                                   groups=[[f"model.{name}" for name in group] for group in RANDOMISATION_GROUPS])


def square_view(picture: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 3) uint8: the largest centred square of the picture, shrunk to `size` (for the
    bunny-world network, which sees 64 × 64 scenes)."""
    height, width = picture.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(picture[top : top + side, left : left + side])
    return np.array(square.resize((size, size), Image.Resampling.BOX), dtype=np.uint8)  # (size, size, 3), writable

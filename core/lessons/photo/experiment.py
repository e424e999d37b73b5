"""Explaining a photo: the steps the "Your own photo" page, `netlens photo` and `netlens explain` share.

bytes → `core.images.load_image` (untrusted input) → the network's view (224×224 crop) → top-5 →
maps for a chosen class (any registered method) → overlay PNG, deletion and randomisation checks.
The bunny-world network of lesson 1 can look at the same photo, shrunk to its 64 × 64 scenes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image
from torch import nn

from core.explain import METHODS, explain, model_lock
from core.overlay import map_scale, overlay
from core.photo_model import ASSETS, IMAGENET_LABELS, EfficientNetLite0, PixelInput, model_view, top_predictions
from core.scenes import COARSE_CLASSES
from core.training import predict_proba
from core.trust import DeletionCheck, RandomisationCheck, deletion_check, randomisation_check

PHOTOS = ASSETS / "photos"


@dataclass(frozen=True)
class Sample:
    file: str
    description: str  # what the page's list of samples says


# The photos shipped in assets/photos (from scikit-image, see LICENSE.md there), in the page's order.
# The first is the page's default: on it most methods pass the deletion check and SmoothGrad fails, with a reason
# (assets/lessons/photo/verdicts_coffee.md); on the cat every method fails (verdicts_chelsea.md).
SAMPLES: dict[str, Sample] = {
    "coffee": Sample("coffee.jpg", "a cup of coffee"),
    "chelsea": Sample("chelsea.jpg", "a cat"),
    "camera": Sample("camera.jpg", "a photographer with a tripod"),
    "astronaut": Sample("astronaut.jpg", "an astronaut"),
    "rocket": Sample("rocket.jpg", "a rocket launch"),
}
# The networks that can look at a photo: key → what the page calls it.
NETWORKS: dict[str, str] = {
    "imagenet": "ImageNet network (1,000 everyday things)",
    "bunny-world": "Bunny-world network (from lesson 1)",
}
BUNNY_WORLD_SIDE = 64  # the bunny-world network sees 64 × 64 scenes
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
    """A short fingerprint (16 hex digits) of a file's bytes, to key caches (Streamlit samples big arrays when
    hashing) and to name an uploaded photo in a link."""
    return hashlib.sha1(data).hexdigest()[:16]


def is_fingerprint(text: str) -> bool:
    """True for 16 lower-case hex digits, the form `digest` gives."""
    return len(text) == 16 and all(character in "0123456789abcdef" for character in text)


def sample_bytes(name: str) -> bytes:
    """The file of the shipped sample photo `name` (a key of SAMPLES)."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample photo {name!r}; choose one of {', '.join(SAMPLES)}")
    return (PHOTOS / SAMPLES[name].file).read_bytes()


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


def predict(model: EfficientNetLite0, picture: np.ndarray, k: int = 5) -> list[Prediction]:
    """The k likeliest ImageNet classes for an (H, W, 3) uint8 picture, best first."""
    return [Prediction(index, label, probability) for index, label, probability in top_predictions(model, picture, k)]


def resolve_target(spec: str | int, predictions: list[Prediction], labels: Sequence[str] = IMAGENET_LABELS) -> int:
    """A class index from "top1".."top5", a class number, or a class name (case-insensitive) of `labels`."""
    text = str(spec).strip().lower()
    if text.startswith("top") and text[3:].isdigit():
        rank = int(text[3:])
        if not 1 <= rank <= len(predictions):
            raise ValueError(f"{spec!r}: choose top1 to top{len(predictions)}")
        return predictions[rank - 1].index
    if text.isdigit():
        index = int(text)
        if not 0 <= index < len(labels):
            raise ValueError(f"class number {index} is not between 0 and {len(labels) - 1}")
        return index
    matches = [index for index, label in enumerate(labels) if label.lower() == text]
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


def common_scale(maps: Sequence[np.ndarray]) -> float:
    """One full-strength value for several maps, so that on one colour scale a weak map looks weak."""
    return map_scale(np.stack([np.abs(attribution) for attribution in maps]))


def deletion(model: EfficientNetLite0, picture: np.ndarray, target: int, attribution: np.ndarray) -> DeletionCheck:
    """The deletion check on the network's view (8 × 8 patches, 16 steps, removed patches blurred)."""
    with model_lock(model):
        return deletion_check(PixelInput(model), model_view(picture), target, attribution, steps=16, random_orders=2)


def randomisation(model: EfficientNetLite0, picture: np.ndarray, target: int, method: str,
                  seed: int = 0) -> RandomisationCheck:
    """The randomisation check, scrambling the network in six groups from the output backwards."""
    with model_lock(model):
        return randomisation_check(PixelInput(model), model_view(picture), target, method, seed=seed,
                                   groups=[[f"model.{name}" for name in group] for group in RANDOMISATION_GROUPS])


def deletion_sentence(check: DeletionCheck) -> str:
    """The deletion check's verdict in one sentence, as the page and `netlens photo` say it."""
    averages = (f"(average log-odds {check.most_first_area:.1f} with the map's patches first, "
                f"{check.least_first_area:.1f} with its least important first, {check.random_area:.1f} at random)")
    if check.passes:
        return (f"Passes: blurring what the map points at lowers the network's certainty faster than blurring what "
                f"it calls unimportant, or random patches {averages}.")
    if check.most_first_area >= check.least_first_area:
        return (f"Fails: blurring what the map calls unimportant hurts at least as much as blurring what it points "
                f"at {averages}.")
    return f"Fails: blurring what the map points at hurts no more than blurring random patches {averages}."


def randomisation_sentence(check: RandomisationCheck) -> str:
    """The randomisation check's verdict in one sentence."""
    if check.passes:
        return "Passes: once the network is scrambled, the map changes — it was showing what the network learned."
    return "Fails: the map stays much the same on a scrambled network — it shows the picture more than the network."


def square_view(picture: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 3) uint8: the largest centred square of the picture, shrunk to `size` (for the
    bunny-world network, which sees 64 × 64 scenes)."""
    height, width = picture.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(picture[top : top + side, left : left + side])
    return np.array(square.resize((size, size), Image.Resampling.BOX), dtype=np.uint8)  # (size, size, 3), writable


# ------------------------------------------------------------------------ the bunny-world network of lesson 1
def bunny_world_predictions(model: nn.Module, picture: np.ndarray) -> list[Prediction]:
    """Both bunny-world answers (bunny, elephant) for the photo shrunk to 64 × 64, likeliest first."""
    probabilities = predict_proba(model, square_view(picture, BUNNY_WORLD_SIDE)[None])[0]  # (2,)
    return [Prediction(int(index), COARSE_CLASSES[index], float(probabilities[index]))
            for index in np.argsort(-probabilities)]


def bunny_world_map(model: nn.Module, picture: np.ndarray, target: int, method: str, seed: int = 0) -> np.ndarray:
    """The `method` map (64, 64) of the photo shrunk to 64 × 64, towards bunny-world class `target`."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return explain(model, square_view(picture, BUNNY_WORLD_SIDE)[None], target, method, seed=seed)[0]  # holds its lock

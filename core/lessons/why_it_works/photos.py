"""The same question with photos: where does the ImageNet network put a photo among others?

The sample photos (assets/photos) and a gallery of small shipped pictures (assets/lessons/why_it_works/gallery,
see its LICENSE.md) are read by the photo network of lesson 2 (EfficientNet-Lite0); each becomes the 1,280
numbers its last layer reads. Alike photos get alike numbers: a close-up of the cat sits next to the cat. An
uploaded photo is placed among them and its nearest pictures are shown. Nothing here touches Streamlit.
"""

from __future__ import annotations

import inspect
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from core.explain import model_lock
from core.fit import Progress, ProgressCallback
from core.lesson import ASSETS
from core.lessons.photo.experiment import PHOTOS, SAMPLES
from core.photo_model import EfficientNetLite0, preprocess

GALLERY = ASSETS / "lessons" / "why_it_works" / "gallery"
PHOTO_NEIGHBOURS = 4


@dataclass(frozen=True)
class Photo:
    name: str  # a sample's key (as in lesson 2) or a gallery file's stem
    description: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    sample: bool  # one of lesson 2's sample photos (else a gallery picture)


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(image.convert("RGB"), dtype=np.uint8)


def collection() -> list[Photo]:
    """Lesson 2's sample photos, then the gallery, in a fixed order (the gallery's as listed in gallery.json)."""
    photos = [Photo(name, sample.description, _rgb(PHOTOS / sample.file), True) for name, sample in SAMPLES.items()]
    listed = json.loads((GALLERY / "gallery.json").read_text(encoding="utf-8"))
    photos += [Photo(name, item["description"], _rgb(GALLERY / item["file"]), False) for name, item in listed.items()]
    return photos


@torch.no_grad()
def embed(model: EfficientNetLite0, images: Sequence[np.ndarray], on_progress: ProgressCallback | None = None
          ) -> np.ndarray:
    """(N, 1280) float32: each picture as the network's last layer sees it (cropped and scaled as the network was
    trained, one picture at a time: they differ in size). Holds the model's lock: another session's attribution
    hooks on the same shared network must not fire on these passes."""
    rows = []
    for index, image in enumerate(images):
        with model_lock(model):
            rows.append(model.features(preprocess(image))[0].numpy())
        if on_progress is not None:
            on_progress(Progress(step=index + 1, total_steps=len(images), stage="Reading the photos", unit="photos"))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 1280), np.float32)


def similarities(query: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Cosine similarity (N,) of one point (C,) to each of `points` (N, C): 1 = the same direction."""
    norms = np.linalg.norm(points, axis=1) * np.linalg.norm(query)
    return (points @ query) / np.where(norms > 0, norms, 1.0)


def closest(query: np.ndarray, points: np.ndarray, count: int = PHOTO_NEIGHBOURS, leave_out: int | None = None
            ) -> list[tuple[int, float]]:
    """The `count` pictures most like `query` as (index, similarity), most alike first; `leave_out` (the query's
    own index, when it is one of the points) is skipped."""
    scores = similarities(query, points)
    order = [int(index) for index in np.argsort(-scores, kind="stable") if index != leave_out]
    return [(index, float(scores[index])) for index in order[:count]]


@dataclass(frozen=True)
class PhotoSpace:
    """The collection's photos and where the photo network puts them (N, 1280)."""

    photos: list[Photo]
    points: np.ndarray

    def index(self, name: str) -> int:
        names = [photo.name for photo in self.photos]
        if name not in names:
            raise ValueError(f"unknown photo {name!r}; choose from {', '.join(names)}")
        return names.index(name)


def photo_space(model: EfficientNetLite0, on_progress: ProgressCallback | None = None) -> PhotoSpace:
    """Every photo of the collection read by the photo network."""
    photos = collection()
    return PhotoSpace(photos, embed(model, [photo.image for photo in photos], on_progress))


def photo_layout(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, 2) places for the photos, each axis scaled to [-1, 1]: metric MDS (scikit-learn) on the cosine
    distances, so photos the network finds alike sit close on screen. PCA was tried and measured worse here: three
    pictures of the cat alone span its first direction and squeeze the other seventeen into a corner."""
    from sklearn.manifold import MDS

    if points.ndim != 2 or len(points) < 3:
        raise ValueError(f"need at least 3 points shaped (N, C), got {points.shape}")
    unit = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    distances = np.clip(1.0 - unit @ unit.T, 0.0, None)
    np.fill_diagonal(distances, 0.0)
    distances = (distances + distances.T) / 2
    # scikit-learn renamed the "precomputed" switch (dissimilarity → metric) in 1.8; accept both.
    precomputed = {"metric": "precomputed"} if "metric_mds" in inspect.signature(MDS).parameters else \
        {"dissimilarity": "precomputed"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FutureWarnings about changing defaults
        flat = MDS(n_components=2, n_init=4, max_iter=300, random_state=seed, **precomputed).fit_transform(distances)
    spread = np.abs(flat).max()
    return (flat / (spread if spread > 0 else 1.0)).astype(np.float32)

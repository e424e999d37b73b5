"""`netlens explain PHOTO`: one photo file's top-5, the map of one class (as an overlay PNG if asked), the
timings and, with `trust`, the deletion and randomisation checks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from core.explain import METHODS
from core.lessons.photo import experiment as photo
from core.lessons.photo.headless import deletion_json, randomisation_json


def read_photo(path: Path) -> np.ndarray:
    """The picture in the file at `path` as (H, W, 3) uint8 RGB, checked as untrusted input; ValueError if unusable."""
    from core.images import ImageRejected, load_image

    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        return load_image(data)
    except ImageRejected as error:
        raise ValueError(f"{path}: {error}") from error


def check_explain_settings(method: str, opacity: float, out: Path | None) -> None:
    """Refuse impossible `explain` settings before any file is read or network loaded."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
    if out is not None and not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: folder {out.parent} does not exist")


def explain_file(path: Path, method: str = "gradcam", target: str = "top1", out: Path | None = None,
                 opacity: float = 0.75, seed: int = 0, trust: bool = False) -> dict:
    """The top-5, the explained class, where the overlay PNG went and the timings (plus the deletion and
    randomisation checks when `trust`) for the photo at `path`, as a JSON-ready dict."""
    from core.photo_model import IMAGENET_LABELS, load_photo_model

    picture = read_photo(path)
    model = load_photo_model()
    started = time.perf_counter()
    ranked = photo.predict(model, picture, k=len(IMAGENET_LABELS))  # all classes: the target's share too
    predict_seconds = time.perf_counter() - started
    predictions = ranked[:5]
    index = photo.resolve_target(target, predictions)
    started = time.perf_counter()
    attribution = photo.explain_photo(model, picture, index, method, seed=seed)
    map_seconds = time.perf_counter() - started
    if out is not None:
        try:
            out.write_bytes(photo.overlay_png(picture, attribution, method, opacity=opacity))
        except OSError as error:
            raise ValueError(f"cannot write {out}: {error.strerror or error}") from error
    rank = next(rank for rank, item in enumerate(ranked, start=1) if item.index == index)
    result: dict = {
        "photo": str(path),
        "predictions": [{"index": p.index, "label": p.label, "probability": p.probability} for p in predictions],
        "target": {"index": index, "label": IMAGENET_LABELS[index], "rank": rank,
                   "probability": ranked[rank - 1].probability},
        "method": method,
        "seed": seed,
        "out": None if out is None else str(out),
        "seconds": {"predict": round(predict_seconds, 4), "map": round(map_seconds, 4)},
    }
    if trust:
        started = time.perf_counter()
        result["deletion"] = deletion_json(photo.deletion(model, picture, index, attribution))
        result["randomisation"] = randomisation_json(photo.randomisation(model, picture, index, method, seed=seed))
        result["seconds"]["trust"] = round(time.perf_counter() - started, 4)
    return result

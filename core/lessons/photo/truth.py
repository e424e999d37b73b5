"""Do the photo lesson's trust checks give the right verdicts? Measured on the sample photos and on pictures
whose answer is known.

- Sample photos: for each photo and method, the deletion check's verdict on the map of the network's first
  answer; the randomisation check on one photo per method (`netlens truth`, and the README's truth table).
- A known answer: the network's view of a photo shrunk into the middle of a plain grey canvas. Blurring plain
  grey leaves it plain grey, so removing any patch outside the photo changes nothing: a map that puts its evidence
  on the photo must pass the deletion check, and one that puts it on the empty canvas must fail.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.fit import Progress, ProgressCallback
from core.images import load_image
from core.lessons.photo.experiment import (
    DEFAULT_METHODS,
    SAMPLES,
    deletion,
    explain_photo,
    predict,
    randomisation,
    sample_bytes,
)
from core.photo_model import EfficientNetLite0, model_view

CANVAS = 224  # the network's view is 224 × 224
INSET = 112  # the pasted photo's side: a quarter of the canvas
RANDOMISATION_PHOTO = "coffee"


def pasted_on_plain(picture: np.ndarray, grey: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(224, 224, 3) uint8: the network's view of `picture` shrunk to 112 × 112 in the middle of a plain grey
    canvas, and the (224, 224) bool mask of where the photo is."""
    inset = Image.fromarray(model_view(picture)).resize((INSET, INSET), Image.Resampling.BOX)
    canvas = np.full((CANVAS, CANVAS, 3), grey, dtype=np.uint8)
    start = (CANVAS - INSET) // 2
    canvas[start : start + INSET, start : start + INSET] = np.asarray(inset)
    inside = np.zeros((CANVAS, CANVAS), dtype=bool)
    inside[start : start + INSET, start : start + INSET] = True
    return canvas, inside


def inside_share(attribution: np.ndarray, inside: np.ndarray) -> float:
    """Share of the map's magnitude that lies inside `inside`."""
    magnitude = np.abs(attribution)
    total = magnitude.sum()
    return float(magnitude[inside].sum() / total) if total > 0 else 0.0


def photo_truth(model: EfficientNetLite0 | None = None, methods: tuple[str, ...] = DEFAULT_METHODS,
                on_progress: ProgressCallback | None = None) -> dict:
    """Deletion verdicts per sample photo and method, randomisation verdicts per method on one photo, and the
    pasted-on-plain known answer per sample photo and method (JSON-ready)."""
    from core.photo_model import load_photo_model

    network = model if model is not None else load_photo_model()
    jobs = len(SAMPLES) * len(methods) * 2 + len(methods)
    done = 0

    def step(text: str) -> None:
        nonlocal done
        if on_progress is not None:
            on_progress(Progress(done, jobs, stage=text, unit="checks"))
        done += 1

    samples, known = {}, {}
    for name in SAMPLES:
        picture = load_image(sample_bytes(name))
        answer = predict(network, picture, k=1)[0]
        samples[name] = {"label": answer.label, "probability": round(answer.probability, 4), "deletion": {}}
        plain, inside = pasted_on_plain(picture)
        plain_answer = predict(network, plain, k=1)[0]
        known[name] = {"label": plain_answer.label, "methods": {}}
        for method in methods:
            step(f"Deletion check: {name}, {method}")
            check = deletion(network, picture, answer.index, explain_photo(network, picture, answer.index, method))
            samples[name]["deletion"][method] = {
                "passes": check.passes, "most_first": round(check.most_first_area, 3),
                "least_first": round(check.least_first_area, 3), "random": round(check.random_area, 3)}
            step(f"Known answer (photo on plain grey): {name}, {method}")
            attribution = explain_photo(network, plain, plain_answer.index, method)
            plain_check = deletion(network, plain, plain_answer.index, attribution)
            known[name]["methods"][method] = {"passes": plain_check.passes,
                                              "inside_share": round(inside_share(attribution, inside), 3)}
    photo = load_image(sample_bytes(RANDOMISATION_PHOTO))
    target = predict(network, photo, k=1)[0].index
    scrambled = {}
    for method in methods:
        step(f"Randomisation check: {RANDOMISATION_PHOTO}, {method}")
        check = randomisation(network, photo, target, method)
        scrambled[method] = {"passes": check.passes, "final_similarity": round(float(check.similarity[-1]), 3)}
    if on_progress is not None:
        on_progress(Progress(jobs, jobs, stage="Photo checks done", unit="checks"))
    return {
        "deletion_pass_rate": {method: sum(samples[name]["deletion"][method]["passes"] for name in SAMPLES)
                               / len(SAMPLES) for method in methods},
        "samples": samples,
        "known_answer": known,
        "randomisation_photo": RANDOMISATION_PHOTO,
        "randomisation": scrambled,
    }


def photo_text(result: dict) -> str:
    """The photo part of the truth table in plain lines."""
    methods = list(result["deletion_pass_rate"])
    lines = ["", f"{'photo checks':14s} {'deletion passes':>16s} {'on plain canvas':>16s} "
                 f"{'randomisation (' + result['randomisation_photo'] + ')':>24s}"]
    for method in methods:
        known = [result["known_answer"][name]["methods"][method]["passes"] for name in result["known_answer"]]
        scrambled = result["randomisation"][method]
        lines.append(f"{method:14s} {result['deletion_pass_rate'][method]:16.0%} {np.mean(known):16.0%} "
                     f"{('passes' if scrambled['passes'] else 'FAILS'):>15s} ({scrambled['final_similarity']:+.2f})")
    for name, sample in result["samples"].items():
        verdicts = ", ".join(f"{method} {'passes' if item['passes'] else 'fails'}"
                             for method, item in sample["deletion"].items())
        lines.append(f"  {name} ({sample['label']}): {verdicts}")
    return "\n".join(lines)


# -------------------------------------------------------------------- what the page shows for the sample photos
VERDICTS_FILE = "verdicts.json"  # in assets/lessons/photo/: `netlens truth --json`'s "photos" part, shipped


def shipped_verdicts() -> dict:
    """The photo checks measured in advance on the sample photos (written by `netlens truth --write-verdicts`)."""
    import json

    from core.lesson import ASSETS

    return json.loads((ASSETS / "lessons" / "photo" / VERDICTS_FILE).read_text(encoding="utf-8"))


def verdict_rows(verdicts: dict, sample: str) -> list[dict]:
    """One row per method for a sample photo: the deletion check's verdict and its three averages."""
    if sample not in verdicts["samples"]:
        raise ValueError(f"no verdicts were measured for {sample!r}")
    return [{"method": method, "deletion check": "passes" if item["passes"] else "fails",
             "map's most important first": item["most_first"], "least important first": item["least_first"],
             "random order": item["random"]}
            for method, item in verdicts["samples"][sample]["deletion"].items()]

"""The photo lesson headless: `run` (top-5, maps, timings, optionally the trust checks), its JSON report and plain
summary for `netlens photo`, the "from Python" snippet and code excerpts the page shows, and the benchmark."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
from torch import nn

from core.excerpt import source_lines
from core.explain import METHODS
from core.fit import Progress, ProgressCallback
from core.images import load_image
from core.lesson import settings_json
from core.lessons.photo.experiment import (
    DEFAULT_METHODS,
    NETWORKS,
    SAMPLES,
    Prediction,
    bunny_world_map,
    bunny_world_predictions,
    deletion,
    deletion_sentence,
    explain_photo,
    predict,
    randomisation,
    randomisation_sentence,
    resolve_target,
    sample_bytes,
)
from core.lessons.photo.settings import TOP_RANKS, PhotoSettings
from core.photo_model import IMAGENET_LABELS, load_photo_model
from core.scenes import COARSE_CLASSES
from core.trust import DeletionCheck, RandomisationCheck


@dataclass(frozen=True)
class PhotoResult:
    """What one run showed: the answers, the class explained, its maps, the timings and (if asked) the checks."""

    settings: PhotoSettings
    name: str  # what the photo is called
    picture: np.ndarray  # (H, W, 3) uint8, as decoded
    predictions: list[Prediction]  # the top 5 (bunny-world: both answers), best first
    target: Prediction  # the class explained
    rank: int  # its place among all the network's classes, from 1
    maps: dict[str, np.ndarray]  # method → (224, 224) map of the network's view (bunny-world: (64, 64))
    seconds: dict[str, Any]  # "predict", "maps" {method: s}, and "training", "trust" when they ran
    deletion: DeletionCheck | None = None
    randomisation: RandomisationCheck | None = None


def _staged(on_progress: ProgressCallback | None, index: int, stages: int) -> Callable[[Progress], None]:
    """Reports of one part of the run, numbered as part `index` of `stages` (silent without `on_progress`)."""
    if on_progress is None:
        return lambda progress: None
    return lambda progress: on_progress(replace(progress, stage_index=index, stages=stages))


def bunny_world_network(seed: int, on_progress: ProgressCallback | None = None) -> nn.Module:
    """Lesson 1's network, trained with that lesson's default settings and this seed (the page uses the one
    the visitor trained in lesson 1 instead)."""
    from core.lessons.bunnies.experiment import BunniesSettings, make_data, train_model

    settings = BunniesSettings(seed=seed)
    return train_model(settings, make_data(settings), on_progress).model()


def run(settings: PhotoSettings, on_progress: ProgressCallback | None = None) -> PhotoResult:
    """The lesson on a shipped sample photo, headless. An uploaded photo's fingerprint names a photo kept only
    by the page's server: use `run_picture` with the file's bytes (or `netlens explain FILE`)."""
    if settings.picture not in SAMPLES:
        raise ValueError(f"{settings.picture!r} is an uploaded photo's fingerprint, kept only by the server it was "
                         "uploaded to; run it from the file: `netlens explain FILE`")
    return run_picture(settings, sample_bytes(settings.picture), SAMPLES[settings.picture].description, on_progress)


def run_picture(settings: PhotoSettings, data: bytes, name: str = "your photo",
                on_progress: ProgressCallback | None = None) -> PhotoResult:
    """The lesson on the photo file `data` (checked as untrusted input): the network's answers, the maps of
    the class `settings.target` with every method of `settings.methods`, and the checks of `settings.check`."""
    picture = load_image(data)  # ImageRejected is a ValueError: one line on the command line
    parts = ["training"] * (settings.network == "bunny-world") + ["maps"] + ["checks"] * bool(settings.check)
    seconds: dict[str, Any] = {}
    if settings.network == "imagenet":
        model = load_photo_model()
        started = time.perf_counter()
        ranked = predict(model, picture, k=len(IMAGENET_LABELS))  # all classes: the target's rank too
        labels: tuple[str, ...] = IMAGENET_LABELS
        draw = lambda target, method: explain_photo(model, picture, target, method, seed=settings.seed)  # noqa: E731
    else:
        started = time.perf_counter()
        model = bunny_world_network(settings.seed, _staged(on_progress, parts.index("training"), len(parts)))
        seconds["training"] = round(time.perf_counter() - started, 4)
        started = time.perf_counter()
        ranked = bunny_world_predictions(model, picture)
        labels = COARSE_CLASSES
        draw = lambda target, method: bunny_world_map(model, picture, target, method, seed=settings.seed)  # noqa: E731
    seconds["predict"] = round(time.perf_counter() - started, 4)
    predictions = ranked[:TOP_RANKS]
    index = resolve_target(settings.target, predictions, labels)
    rank = next(rank for rank, item in enumerate(ranked, start=1) if item.index == index)

    report = _staged(on_progress, parts.index("maps"), len(parts))
    maps: dict[str, np.ndarray] = {}
    seconds["maps"] = {}
    for done, method in enumerate(settings.methods):
        report(Progress(done, len(settings.methods), stage=f"Drawing the maps ({METHODS[method].name})", unit="maps"))
        started = time.perf_counter()
        maps[method] = draw(index, method)
        seconds["maps"][method] = round(time.perf_counter() - started, 4)
    report(Progress(len(settings.methods), len(settings.methods), stage="Drawing the maps", unit="maps"))

    removal = scrambling = None
    if settings.check:
        report = _staged(on_progress, parts.index("checks"), len(parts))
        started = time.perf_counter()
        report(Progress(0, 2, stage="Running the checks (blurring the picture)", unit="checks"))
        removal = deletion(model, picture, index, maps[settings.check])
        report(Progress(1, 2, stage="Running the checks (scrambling the network)", unit="checks"))
        scrambling = randomisation(model, picture, index, settings.check, seed=settings.seed)
        report(Progress(2, 2, stage="Running the checks", unit="checks"))
        seconds["trust"] = round(time.perf_counter() - started, 4)
    return PhotoResult(settings, name, picture, predictions, ranked[rank - 1], rank, maps, seconds, removal, scrambling)


# -------------------------------------------------------------------------------------------- what it prints
def deletion_json(check: DeletionCheck) -> dict:
    return {"measure": "log-odds of the explained class", "fill": check.fill,
            "most_first_area": check.most_first_area, "least_first_area": check.least_first_area,
            "random_area": check.random_area, "passes": bool(check.passes), "fractions": check.fractions.tolist(),
            "most_first": check.most_first.tolist(), "least_first": check.least_first.tolist(),
            "random_order": check.random_order.tolist()}


def randomisation_json(check: RandomisationCheck) -> dict:
    return {"layers": list(check.layers), "similarity": check.similarity.tolist(), "passes": check.passes}


def explained_words(target: Prediction, rank: int) -> str:
    """'espresso (class 967, ranked 1, 95.3%)'."""
    return f"{target.label} (class {target.index}, ranked {rank}, {target.probability:.1%})"


def report(result: PhotoResult) -> dict:
    """The run as a JSON-ready dict (what `netlens photo --json` prints), in the shape of `netlens explain`'s."""
    settings, target = result.settings, result.target
    answer: dict = {
        "settings": settings_json(settings),
        "photo": settings.picture,
        "network": NETWORKS[settings.network],
        "predictions": [{"index": p.index, "label": p.label, "probability": p.probability}
                        for p in result.predictions],
        "target": {"index": target.index, "label": target.label, "rank": result.rank,
                   "probability": target.probability},
        "explained": explained_words(target, result.rank),
        "methods": list(settings.methods),
        "seed": settings.seed,
        "seconds": result.seconds,
    }
    if result.deletion is not None and result.randomisation is not None:
        answer["check"] = settings.check
        answer["deletion"] = {**deletion_json(result.deletion), "sentence": deletion_sentence(result.deletion)}
        answer["randomisation"] = {**randomisation_json(result.randomisation),
                                   "sentence": randomisation_sentence(result.randomisation)}
    return answer


def summary(report: dict) -> str:
    """A few plain lines: the answers, what was explained with which methods, the timings, the verdicts."""
    names = [METHODS[method].name for method in report["methods"]]
    lines = [f"{report['network']} on {report['photo']}: its top answers"]
    lines += [f"  {item['probability']:6.1%}  {item['label']} (class {item['index']})" for item in report["predictions"]]
    lines.append(f"explained: {report['explained']} with {', '.join(names)}")
    seconds = report["seconds"]
    maps = ", ".join(f"{METHODS[method].name} {value:.2f} s" for method, value in seconds["maps"].items())
    lines.append(f"took {seconds['predict']:.2f} s to classify; the maps: {maps}")
    if "deletion" in report:
        name = METHODS[report["check"]].name
        lines.append(f"deletion check on {name}: {report['deletion']['sentence']}")
        lines.append(f"randomisation check on {name}: {report['randomisation']['sentence']}")
    return "\n".join(lines)


def snippet(settings: PhotoSettings) -> str:
    """The page's screen from Python (runs with `exec` from the NetLens folder; an uploaded photo must be saved
    there as my_photo.jpg first)."""
    if settings.picture in SAMPLES:
        call = "result = run(settings)"
        first = "from core.lessons.photo import PhotoSettings, run\n"
    else:
        call = 'result = run_picture(settings, Path("my_photo.jpg").read_bytes())  # your photo, saved as my_photo.jpg'
        first = "from pathlib import Path\n\nfrom core.lessons.photo import PhotoSettings, run_picture\n"
    return (f"{first}\n"
            f"settings = {settings!r}\n"
            f"{call}\n"
            "for answer in result.predictions:\n"
            '    print(f"{answer.probability:6.1%}  {answer.label}")\n'
            "for method, attribution in result.maps.items():  # (224, 224) each, aligned with the network's view\n"
            "    print(method, attribution.shape, result.seconds[\"maps\"][method], \"s\")")


def excerpts() -> dict[str, str]:
    """The code the page shows under the hood: how the answers and a map are made."""
    from core.photo_model import top_predictions

    return {
        "answers": source_lines(top_predictions, "inputs = preprocess(image)", "values, indices ="),
        "map": source_lines(explain_photo, "view = model_view(picture)", "return explain("),
    }


def bench(repeats: int = 5) -> dict:
    """Median seconds of the photo model's top-5 and of its Grad-CAM and IG maps on the shipped coffee photo
    (already decoded), and of all the page's default maps side by side (fewer runs for the slow ones)."""
    from core.bench import median_seconds

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    model = load_photo_model()
    picture = load_image(sample_bytes("coffee"))
    target = resolve_target("top1", predict(model, picture))
    top5 = median_seconds(lambda: predict(model, picture), repeats * 4)
    runs = {"gradcam": repeats, "ig": max(1, (repeats + 1) // 2)}  # IG: 32 steps, seconds a map on this CPU
    per_method = {key: round(median_seconds(lambda key=key: explain_photo(model, picture, target, key), count), 4)
                  for key, count in runs.items()}
    all_default = median_seconds(lambda: [explain_photo(model, picture, target, key) for key in DEFAULT_METHODS], 1)
    return {
        "photo_top5_seconds": round(top5, 4),
        "photo_map_seconds": per_method,
        "photo_all_default_maps_seconds": round(all_default, 4),
    }

"""Lesson 9: Why does it work? — inside the network, similar pictures end up close together.

`experiment` trains the flagship's grass-only network and the one shown more pictures, reads each network's
features before its last layer (and the untrained start's), lays them out in 2-D and finds nearest neighbours;
`figures` draws the map and the before/after number. `LESSON` is what the syllabus, the command line
(`netlens why_it_works`), the benchmark and the page use.
"""

from __future__ import annotations

import time

from core.excerpt import source_lines
from core.fit import ProgressCallback
from core.lesson import Lesson, settings_json
from core.lessons.why_it_works.experiment import (
    STAGE_NAMES,
    STAGES,
    WhyItWorksResult,
    WhyItWorksSettings,
    features,
    make_lesson_data,
    project,
    sorted_by_animal,
    spaces,
    takeaways,
    untrained_model,
)
from core.lessons.why_it_works.experiment import run as run_lesson

STEPS: tuple[str, ...] = (
    "The network's map of the pictures",
    "Pick a picture: what does the network find similar?",
    "The same with photos: what does the ImageNet network find alike?",
    "Where do the surprise pictures sit — before and after more pictures?",
    "Under the hood",
)


def plain(markdown: str) -> str:
    return markdown.replace("**", "")


def run(settings: WhyItWorksSettings, on_progress: ProgressCallback | None = None) -> WhyItWorksResult:
    """Draw the pictures, train both networks, read the three spaces."""
    return run_lesson(settings, on_progress)


def report(result: WhyItWorksResult) -> dict:
    """The spaces as JSON: per network its accuracy and the share of surprise pictures among their own animal."""
    return {
        "settings": settings_json(result.settings),
        "feature_size": int(result.space("untrained").points.shape[1]),
        "map_pictures": len(result.data.map),
        "networks": {
            stage: {
                "name": STAGE_NAMES[stage],
                "surprise_among_own_animal": result.space(stage).animal_share,
                "ordinary_accuracy": result.space(stage).accuracy_ordinary,
                "surprise_accuracy": result.space(stage).accuracy_surprise,
            }
            for stage in STAGES
        },
        "takeaways": [plain(line) for line in takeaways(result)],
        "seconds": round(result.seconds, 3),
    }


def summary(result: dict) -> str:
    """One line per network and the takeaways."""
    settings = result["settings"]
    lines = [f"{result['map_pictures']} pictures on the map ({settings['num_surprise']} surprise), "
             f"{settings['neighbours']} neighbours vote, seed {settings['seed']}",
             f"{'network':<36}  among own animal  right (ordinary / surprise)"]
    lines += [f"{item['name']:<36}  {item['surprise_among_own_animal']:>16.0%}  "
              f"{item['ordinary_accuracy']:.0%} / {item['surprise_accuracy']:.0%}" for item in result["networks"].values()]
    lines += [f"- {line}" for line in result["takeaways"]]
    return "\n".join(lines)


def bench(repeats: int) -> dict:
    """The page's default map: features of the default 400 pictures plus PCA (what a click on "network" or
    "colour" costs once the networks are trained), the first map right after training (scikit-learn is imported
    during training: its import, ~1.3 s once per process, is reported apart), t-SNE on the same points, and the
    two trainings; and the photo step: reading the 20 photos with the ImageNet network, and their MDS map."""
    from core.bench import median_seconds

    import sys

    settings = WhyItWorksSettings()
    cold = "sklearn.decomposition" not in sys.modules
    started = time.perf_counter()
    import sklearn.decomposition  # noqa: F401 - what `spaces` pays once per process, during training

    sklearn_import = time.perf_counter() - started
    data = make_lesson_data(settings)
    started = time.perf_counter()
    result = spaces(settings, data)
    training = time.perf_counter() - started
    points = result.space("grass_only").points
    started = time.perf_counter()
    project(points, "pca")
    first = time.perf_counter() - started
    model = untrained_model(settings, data)
    default_map = median_seconds(lambda: project(features(model, data.map.images), "pca"), repeats)
    tsne = median_seconds(lambda: project(points, "tsne"), max(1, repeats // 3))
    from core.lessons.why_it_works.photos import photo_layout, photo_space
    from core.photo_model import load_photo_model

    photo_model = load_photo_model()
    started = time.perf_counter()
    photos = photo_space(photo_model)
    photo_reading = time.perf_counter() - started
    photo_map = median_seconds(lambda: photo_layout(photos.points), repeats)
    return {
        "why_it_works_training_seconds": round(training, 3),
        "why_it_works_map_seconds": round(default_map, 4),
        "why_it_works_first_map_after_training_seconds": round(first, 4),
        "why_it_works_sklearn_import_seconds" + ("_cold_process" if cold else "_already_imported"): round(sklearn_import, 3),
        "why_it_works_tsne_seconds": round(tsne, 3),
        "why_it_works_photo_space_seconds": round(photo_reading, 3),  # 20 photos through the ImageNet network
        "why_it_works_photo_map_seconds": round(photo_map, 4),
        "why_it_works_surprise_among_own_animal": {stage: result.space(stage).animal_share for stage in STAGES},
    }


def excerpts() -> dict[str, str]:
    """The code the page shows: where the features are read, and how the surprise pictures' places are counted."""
    return {
        "features": source_lines(features, "chunks = []", "return"),
        "sorted": source_lines(sorted_by_animal, "ordinary =", "return"),
    }


def snippet(settings: WhyItWorksSettings) -> str:
    """The page's three spaces, from Python."""
    return (
        "from core.lessons.why_it_works.experiment import WhyItWorksSettings, make_lesson_data, project, spaces\n"
        f"settings = {settings!r}\n"
        "result = spaces(settings, make_lesson_data(settings))\n"
        "for stage, space in result.spaces.items():\n"
        "    print(stage, space.animal_share)\n"
        "layout = project(result.space('grass_only').points, 'pca')  # (N, 2): the map"
    )


LESSON = Lesson(
    id="why_it_works",
    title="Why does it work?",
    idea="similar pictures end up close together inside the network",
    page="pages/9_Why_does_it_work.py",
    icon="🗺️",
    settings=WhyItWorksSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["LESSON", "WhyItWorksResult", "WhyItWorksSettings"]

"""Lesson: Squeezing it onto a phone — train a big network, then shrink it (int8, pruning, distillation), and
see what that costs in accuracy, what it saves on disk and on the clock, and whether its explanation survives.

`experiment` trains and runs the lesson (`networks`: the CNN, training, files, clock; `measure`: the scores, sizes
and maps of one network; `int8`: the one module touching `torch.ao.quantization`; `pruning`: structured pruning
that really removes filters); `words` puts the numbers into sentences; `figures` draws them. `LESSON` is what the syllabus, `netlens squeeze`, the benchmark and the
page use.
"""

from __future__ import annotations

import time

from core.excerpt import source_lines
from core.lesson import Lesson, settings_json
from core.lessons.squeeze.experiment import (
    KINDS,
    MAP_METHOD,
    SqueezeResult,
    SqueezeSettings,
    distillation_loss,
    make_data,
    run,
    run_squeeze,
)
from core.lessons.squeeze.int8 import quantise
from core.lessons.squeeze.pruning import mask_filters, thinned
from core.lessons.squeeze.words import plain, takeaways

STEPS: tuple[str, ...] = (
    "Squeeze the big network three ways",
    "Why not train the small one?",
    "Does the explanation survive the squeeze?",
    "Under the hood",
)


def report(result: SqueezeResult) -> dict:
    """The run as JSON: one entry per network (accuracy, weights, KB on disk, milliseconds per picture, whether it
    fits the phone, how its maps compare with the big network's), the few-labels set-up, the takeaways."""
    settings = result.settings
    return {
        "settings": settings_json(settings),
        "networks": [
            {
                "network": model.key,
                "name": model.name,
                "accuracy": model.accuracy,
                "filters_per_layer": list(model.filters),
                "weights": model.weights,
                "file_bytes": model.file_bytes,
                "kb": round(model.kb, 2),
                "fits_phone": model.kb <= settings.phone_kb,
                "ms_per_picture_one_at_a_time": round(model.ms_one, 4),
                "ms_per_picture_64_at_once": round(model.ms_batch, 4),
                "seconds": round(model.seconds, 3),
                "map_rank_correlation": round(result.comparison(model.key).rank_correlation, 4),
                "grass_share": round(result.comparison(model.key).grass_share, 4),
                "explanation_survives": result.comparison(model.key).survives,
            }
            for model in result.models
        ],
        "map_method": MAP_METHOD,
        "grass_area": round(result.comparison("big").grass_area, 4),
        "pruned_file_bytes_with_masks": result.masked_file_bytes,
        "few_labels": {
            "labelled": result.few.labelled,
            "unlabelled": result.few.unlabelled,
            "scratch_accuracy": result.few.scratch_accuracy,
            "distilled_accuracy": result.few.distilled_accuracy,
        },
        "takeaways": [plain(line) for line in takeaways(result)],
        "seconds": round(result.seconds, 3),
    }


def summary(result: dict) -> str:
    """A table (one line per network) and the takeaways."""
    settings = result["settings"]
    lines = [f"phone budget {settings['phone_kb']:g} KB, seed {settings['seed']}",
             f"{'network':22} {'right':>6} {'KB':>7} {'ms/pic (1)':>11} {'ms/pic (64)':>12} {'maps ~ big':>10}"]
    lines += [f"{row['name']:22} {row['accuracy']:6.1%} {row['kb']:7.1f} {row['ms_per_picture_one_at_a_time']:11.3f} "
              f"{row['ms_per_picture_64_at_once']:12.4f} {row['map_rank_correlation']:10.2f}"
              for row in result["networks"]]
    lines += [f"- {line}" for line in result["takeaways"]]
    return "\n".join(lines)


def bench(repeats: int) -> dict:
    """Seconds of the page's default run (pictures drawn first, then timed apart), and the measured sizes and
    milliseconds per picture of the five networks."""
    settings = SqueezeSettings()
    started = time.perf_counter()
    data = make_data(settings)
    drawing = time.perf_counter() - started
    result = run_squeeze(settings, data)
    figures: dict = {"squeeze_drawing_seconds": round(drawing, 3), "squeeze_run_seconds": round(result.seconds, 3)}
    for model in result.models:
        figures[f"squeeze_{model.key}_kb"] = round(model.kb, 1)
        figures[f"squeeze_{model.key}_ms_per_picture_1"] = round(model.ms_one, 4)
        figures[f"squeeze_{model.key}_ms_per_picture_64"] = round(model.ms_batch, 4)
        figures[f"squeeze_{model.key}_accuracy"] = model.accuracy
    return figures


def excerpts() -> dict[str, str]:
    """The code the page shows: the distillation loss, the int8 conversion, and how pruning cuts filters out."""
    return {
        "distillation": source_lines(distillation_loss, "soft = torch.softmax", "return mixed.mean()"),
        "int8": source_lines(quantise, "model = _prepared(network)", "convert(model, inplace=True)"),
        "mask": source_lines(mask_filters, "for conv, norm in masked.conv_blocks()", "custom_from_mask(norm, \"bias\""),
        "thin": source_lines(thinned, "for (old_conv, old_norm)", "thin.classifier.weight.copy_"),
    }


def snippet(settings: SqueezeSettings) -> str:
    """The page's run, from Python."""
    return (
        "from core.lessons.squeeze.experiment import SqueezeSettings, make_data, run_squeeze\n"
        f"settings = {settings!r}\n"
        "result = run_squeeze(settings, make_data(settings))\n"
        "for model in result.models:\n"
        "    print(model.key, model.accuracy, model.kb, model.ms_one, result.comparison(model.key).rank_correlation)\n"
        "print(result.few)"
    )


LESSON = Lesson(
    id="squeeze",
    title="Squeezing it onto a phone",
    idea="big networks train well and can then be shrunk",
    page="pages/8_Squeezing_it_onto_a_phone.py",
    icon="📱",
    settings=SqueezeSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["KINDS", "LESSON", "SqueezeResult", "SqueezeSettings"]

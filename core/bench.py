"""`netlens bench`: the performance figures of DESIGN.md's budget list that exist so far, measured here."""

from __future__ import annotations

import platform
import statistics
import time
from typing import Callable

import torch
from captum.attr import IntegratedGradients

from core.explain import METHODS, LogOdds, explain
from core.images import load_image
from core.photo import DEFAULT_METHODS, explain_photo, predict, resolve_target
from core.photo_model import ASSETS, load_photo_model
from core.shortcut import ShortcutConfig, evaluate, make_data, train_model

SAMPLE_PHOTO = ASSETS / "photos" / "coffee.jpg"


def _median_seconds(action: Callable[[], object], repeats: int) -> float:
    action()  # warm-up
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def photo_benchmarks(repeats: int = 5) -> dict:
    """Median seconds of the photo model's top-5 and of its Grad-CAM and IG maps on the shipped coffee photo
    (already decoded), and of all the photo page's default maps side by side (fewer runs for the slow ones)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    model = load_photo_model()
    picture = load_image(SAMPLE_PHOTO.read_bytes())
    target = resolve_target("top1", predict(model, picture))
    top5 = _median_seconds(lambda: predict(model, picture), repeats * 4)
    runs = {"gradcam": repeats, "ig": max(1, (repeats + 1) // 2)}  # IG: 32 steps, seconds a map on this CPU
    per_method = {
        key: round(_median_seconds(lambda key=key: explain_photo(model, picture, target, key), count), 4)
        for key, count in runs.items()
    }
    all_default = _median_seconds(lambda: [explain_photo(model, picture, target, key) for key in DEFAULT_METHODS], 1)
    return {
        "photo_top5_seconds": round(top5, 4),
        "photo_map_seconds": per_method,
        "photo_all_default_maps_seconds": round(all_default, 4),
    }


def lesson_benchmarks(repeats: int = 3) -> dict:
    """Seconds of each learning lesson's default computation, pictures already drawn (the pages keep them):
    the batch-size comparison (one run: it trains four networks), the templates race and the splits training
    with the default 32 and with 1,024 practice pictures (medians)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    from core import batch_size, splits, templates

    batch_config = batch_size.BatchConfig()
    batch_data = batch_size.make_data(batch_config)
    race_config = templates.TemplateConfig()
    race_data = templates.make_data(race_config)
    few, many = splits.SplitConfig(), splits.SplitConfig(num_practice=1024)
    few_piles, many_piles = splits.make_piles(few), splits.make_piles(many)
    return {
        "batch_size_comparison_seconds": round(batch_size.compare(batch_config, batch_data).seconds, 3),
        "templates_race_seconds": round(_median_seconds(lambda: templates.race(race_config, race_data), repeats), 3),
        "splits_training_seconds": round(_median_seconds(lambda: splits.train(few, few_piles), repeats), 3),
        "splits_training_1024_seconds": round(_median_seconds(lambda: splits.train(many, many_piles), repeats), 3),
    }


def run_benchmarks(repeats: int = 5) -> dict:
    """Train the default flagship model (twice: cold process, then warm), then time every attribution
    method on one 64×64 scene, all six together, NetLens's overhead over a bare Captum call, and the
    photo model's figures (`photo_benchmarks`)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    config = ShortcutConfig()
    started = time.perf_counter()
    data = make_data(config)
    drawing = time.perf_counter() - started
    cold = train_model(config, data)  # the first training in a fresh process: kernels not yet prepared
    result = train_model(config, data)  # as in the app, whose server warms up at start
    model = result.model()
    evaluation = evaluate(model, data)
    picture = data.test.images[:1]  # (1, 64, 64, 3)
    target = int(data.test.labels[0])
    baseline = data.baseline

    started = time.perf_counter()
    explain(model, picture, target, "ig", baseline=baseline)
    first_map = time.perf_counter() - started

    per_method = {
        key: round(_median_seconds(lambda key=key: explain(model, picture, target, key, baseline=baseline), repeats), 4)
        for key in METHODS
    }
    all_methods = _median_seconds(
        lambda: [explain(model, picture, target, key, baseline=baseline) for key in METHODS], repeats
    )

    # NetLens's overhead over calling Captum directly on the same model, input and settings.
    inputs = torch.from_numpy(picture).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=torch.channels_last)
    wrapped = LogOdds(model)
    bare_ig = lambda: IntegratedGradients(wrapped).attribute(  # noqa: E731
        inputs, baselines=baseline, target=target, n_steps=32, internal_batch_size=64
    )
    netlens_ig = lambda: explain(model, picture, target, "ig", baseline=baseline)  # noqa: E731
    bare = _median_seconds(bare_ig, repeats * 4)
    ours = _median_seconds(netlens_ig, repeats * 4)
    return {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
        "drawing_seconds": round(drawing, 3),
        "training_seconds": round(result.seconds, 3),
        "training_seconds_cold_process": round(cold.seconds, 3),
        "ordinary_accuracy": evaluation.ordinary_accuracy,
        "first_map_seconds": round(first_map, 4),
        "map_seconds": per_method,
        "all_methods_seconds": round(all_methods, 4),
        "ig_overhead_ratio": round(ours / bare, 3),
        **photo_benchmarks(repeats),
        **lesson_benchmarks(),
    }

"""The flagship experiment: does a network that always saw bunnies on grass recognise bunnies, or grass?

settings → scenes → train → evaluate → evidence per part (maps) and background swap (counterfactual).
The page, the command line (`netlens bunnies`), the benchmark and the tests all call these functions and get
the same numbers.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Sequence

import numpy as np
import torch
from torch import nn

from core.counterfactual import BackgroundSwap, background_swap
from core.evidence import area_shares, part_shares
from core.explain import METHODS, average_colour_baseline, explain
from core.fit import Progress, ProgressCallback
from core.lesson import setting, settings_json
from core.models import ModelConfig
from core.scenes import (
    COARSE_CLASSES,
    GRASS,
    PARTS,
    Scenes,
    concatenate,
    draw_scenes,
    shortcut_specs,
    surprise_specs,
)
from core.seeds import stream
from core.training import TrainConfig, TrainResult, accuracy, predict_proba, train

# The method behind the page's headline figure: the one whose grass share ranks networks by their real reliance
# on grass (the background swap) best, over the graded sweep of `core.lessons.bunnies.truth` (`netlens truth`).
# Integrated Gradients, from the training pictures' average colour, towards the log-odds of the network's answer.
# Occlusion held the headline before: it separated grass 1.0 from 0.5 clearly, but ranked the in-between networks
# worst of the six.
HEADLINE_METHOD = "ig"
# A method's map "leans on grass" when grass gets more of its evidence than grass's share of the pixels plus this
# margin. Calibrated per method on the graded sweep (`netlens truth`: 7 grass rates × 3 seeds, 2026-12-02) as the
# margin at which the method's verdict matches the swap's on the most networks (IG 81 %, Grad-CAM 90 %, the others
# 86 %): the methods spread evidence differently — Occlusion's lands on the animal's outline, so even a grass
# detector gives grass less than its share of the pixels under Occlusion.
MAP_MARGINS: dict[str, float] = {"ig": 0.08, "gradcam": 0.03, "occlusion": -0.17, "smoothgrad": -0.08,
                                 "gradientshap": 0.0, "saliency": -0.02}
MAP_MARGIN = MAP_MARGINS[HEADLINE_METHOD]  # the headline's, which the page's caption states
# The check "relies on grass" when swapping the ground moves the confidence by this much on average.
RELIANCE_THRESHOLD = 0.15
ALL_METHODS: tuple[str, ...] = tuple(METHODS)


@dataclass(frozen=True)
class BunniesSettings:
    """One run of the lesson. Hashable, so it keys the caches; printable, so the CLI reports it."""

    grass_rate: float = setting(1.0, "how often bunnies are photographed on grass, 0..1 (elephants: the rest of "
                                     "the time)", flag="grass")
    num_train: int = setting(2000, "training pictures", flag="pictures")
    extra_pictures: int = setting(0, "extra pictures that break the grass pattern (bunnies off grass, elephants "
                                     "on it), added to the training pictures", flag="extra")
    epochs: int = setting(5, "passes through the training pictures")
    width: int = setting(8, "filters in the network's first layer (doubling in each later one)")
    seed: int = setting(0, "seed of every random choice: pictures, starting weights, maps, swap")
    image_size: int = setting(64, "picture side, in pixels")
    num_test: int = setting(400, "pictures in each test set (ordinary and surprise)")
    num_check: int = setting(64, "pictures in the background swap; those on grass (about half) in the evidence "
                                 "chart")
    methods: tuple[str, ...] = setting(ALL_METHODS, "comma-separated attribution methods for the evidence")

    def __post_init__(self) -> None:
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")
        if self.num_train < 2 or self.num_test < 2 or self.num_check < 2:
            raise ValueError("num_train, num_test and num_check must each be at least 2")
        if self.extra_pictures < 0:
            raise ValueError(f"extra_pictures must be zero or more, got {self.extra_pictures}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if not 1 <= self.width <= 128:
            raise ValueError(f"width must be between 1 and 128, got {self.width}")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")
        if self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {self.image_size}")
        if not isinstance(self.methods, tuple) or not self.methods:
            raise ValueError(f"methods must be a tuple of at least one of {', '.join(METHODS)}")
        unknown = [key for key in self.methods if key not in METHODS]
        if unknown:
            raise ValueError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")

    @property
    def model_config(self) -> ModelConfig:
        return ModelConfig(num_classes=len(COARSE_CLASSES), width=self.width)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs)

    def data_key(self) -> tuple:
        """What the pictures depend on (training settings do not change them)."""
        return (self.grass_rate, self.num_train, self.extra_pictures, self.seed, self.image_size, self.num_test,
                self.num_check)

    def training_key(self) -> BunniesSettings:
        """What the trained network (and its scores) depend on: these settings with any choice of methods."""
        return replace(self, methods=ALL_METHODS)


@dataclass(frozen=True)
class BunniesData:
    """The four picture sets: training, ordinary test, surprise test, and the check set (half on grass)."""

    train: Scenes
    test: Scenes
    surprise: Scenes
    check: Scenes

    @cached_property
    def baseline(self) -> torch.Tensor:
        """The maps' "nothing here" picture (1, 3, H, W): the training pictures' average colour. Computed once
        per data set (it reads every training pixel, ~0.2 s, several times the cost of a picture's six maps)."""
        return average_colour_baseline(self.train.images)


def make_data(settings: BunniesSettings, on_progress: ProgressCallback | None = None) -> BunniesData:
    """Draw every picture the experiment uses; deterministic for given settings. `on_progress` hears how many
    pictures of the four sets are drawn."""
    specs = shortcut_specs(settings.num_train, settings.grass_rate, stream(settings.seed, "train"))
    specs += surprise_specs(settings.extra_pictures, stream(settings.seed, "extra"))
    sets = {
        "train": specs,
        "test": shortcut_specs(settings.num_test, settings.grass_rate, stream(settings.seed, "test")),
        "surprise": surprise_specs(settings.num_test, stream(settings.seed, "surprise")),
        "check": shortcut_specs(settings.num_check, 0.5, stream(settings.seed, "check")),
    }
    total, done, drawn = sum(map(len, sets.values())), 0, {}
    for name, chosen in sets.items():
        parts = []
        for start in range(0, len(chosen), 200):  # in slices, so progress is reported (and can stop) often
            parts.append(draw_scenes(chosen[start : start + 200], COARSE_CLASSES, settings.image_size))
            done += len(parts[-1])
            if on_progress is not None:
                on_progress(Progress(done, total, stage="Drawing", unit="pictures"))
        drawn[name] = concatenate(parts)
    return BunniesData(**drawn)


def train_model(settings: BunniesSettings, data: BunniesData, on_progress: ProgressCallback | None = None) -> TrainResult:
    """Train the lesson's network on `data.train` (`on_progress` hears the nudges, a few times per pass)."""
    return train(settings.model_config, settings.train_config, data.train.images, data.train.labels,
                 seed=stream(settings.seed, "weights"), on_progress=on_progress)


@dataclass(frozen=True)
class Evaluation:
    """Accuracy on ordinary and surprise pictures, and each picture's class probabilities."""

    ordinary_accuracy: float
    surprise_accuracy: float
    test_probabilities: np.ndarray  # (N, 2)
    surprise_probabilities: np.ndarray  # (N, 2)


def evaluate(model: nn.Module, data: BunniesData) -> Evaluation:
    test = predict_proba(model, data.test.images)
    surprise = predict_proba(model, data.surprise.images)
    return Evaluation(accuracy(test, data.test.labels), accuracy(surprise, data.surprise.labels), test, surprise)


PICTURE_GROUPS = ("right", "wrong", "surprise")


def picture_groups(data: BunniesData, evaluation: Evaluation) -> dict[str, list[tuple[str, int]]]:
    """The pictures the page offers, as (set, index) pairs: test pictures it got right; the test and surprise
    pictures it got wrong; every surprise picture."""
    test_predictions = evaluation.test_probabilities.argmax(1)
    surprise_predictions = evaluation.surprise_probabilities.argmax(1)
    return {
        "right": [("test", int(i)) for i in np.flatnonzero(test_predictions == data.test.labels)],
        "wrong": [("test", int(i)) for i in np.flatnonzero(test_predictions != data.test.labels)]
        + [("surprise", int(i)) for i in np.flatnonzero(surprise_predictions != data.surprise.labels)],
        "surprise": [("surprise", int(i)) for i in range(len(data.surprise))],
    }


@dataclass(frozen=True)
class MethodEvidence:
    """Where one method's maps put the evidence for the network's answers on the check pictures."""

    method: str
    part_shares: tuple[float, ...]  # mean share of positive evidence per part (PARTS order), pictures with grass
    grass_share: float  # the grass entry of part_shares
    grass_area: float  # mean share of those pictures' pixels that are grass: what a map blind to content gives
    seconds: float

    @property
    def leans_on_grass(self) -> bool:
        return self.grass_share > self.grass_area + MAP_MARGINS[self.method]


@dataclass(frozen=True)
class EvidenceReport:
    methods: dict[str, MethodEvidence]
    swap: BackgroundSwap
    area_shares: tuple[float, ...]  # mean share of the pixels per part, over the same pictures as the evidence

    @property
    def relies_on_grass(self) -> bool:
        return self.swap.reliance > RELIANCE_THRESHOLD

    def agrees(self, method: str) -> bool:
        """Does this method's map tell the same story as the background swap?"""
        return self.methods[method].leans_on_grass == self.relies_on_grass


def evidence_report(
    model: nn.Module,
    data: BunniesData,
    seed: int,
    methods: Sequence[str] = ALL_METHODS,
    on_progress: ProgressCallback | None = None,
) -> EvidenceReport:
    """Maps for the network's own answers on the check pictures that have grass (the ones where grass can
    matter), summed over the parts of each scene; plus the background swap on all check pictures.
    `on_progress` hears each method as it starts."""
    check = data.check
    on_grass = check.on_grass
    if not on_grass.any():
        raise ValueError("the check pictures need at least one picture on grass")
    images, masks = check.images[on_grass], check.masks[on_grass]
    predicted = predict_proba(model, images).argmax(1)
    area = area_shares(masks).mean(0)
    results = {}
    for index, key in enumerate(methods):
        if on_progress is not None:
            on_progress(Progress(index, len(methods), stage=f"Measuring where the evidence comes from: "
                                                            f"{METHODS[key].name}", unit="methods"))
        started = time.perf_counter()
        maps = explain(model, images, predicted, key, baseline=data.baseline, seed=seed)
        shares = part_shares(maps, masks).mean(0)  # (P,)
        results[key] = MethodEvidence(
            method=key,
            part_shares=tuple(float(x) for x in shares),
            grass_share=float(shares[GRASS]),
            grass_area=float(area[GRASS]),
            seconds=time.perf_counter() - started,
        )
    swap = background_swap(model, check, seed=stream(seed, "swap"))
    return EvidenceReport(results, swap, tuple(float(x) for x in area))


def picture_maps(model: nn.Module, data: BunniesData, image: np.ndarray, seed: int,
                 methods: Sequence[str] = ALL_METHODS) -> tuple[int, float, dict[str, np.ndarray]]:
    """For one (H, W, 3) picture: the class the network chose, its confidence, and each method's (H, W)
    map explaining that choice."""
    probabilities = predict_proba(model, image[None])[0]
    predicted = int(probabilities.argmax())
    maps = {key: explain(model, image[None], predicted, key, baseline=data.baseline, seed=seed)[0] for key in methods}
    return predicted, float(probabilities[predicted]), maps


# ------------------------------------------------------------------------------------- the takeaways, in words
def describe(settings: BunniesSettings) -> str:
    """The settings in plain words: 'bunnies on grass 100% of the time, 2,000 pictures, seed 0'."""
    extra = f" + {settings.extra_pictures:,} pattern-breaking pictures" if settings.extra_pictures else ""
    return (f"bunnies on grass {settings.grass_rate:.0%} of the time, {settings.num_train:,} pictures{extra}, "
            f"seed {settings.seed}")


def possessive(name: str) -> str:
    """"Occlusion's", "Integrated Gradients'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def relies_words(relies_on_grass: bool) -> str:
    return "relies on the grass" if relies_on_grass else "does not rely on the grass"


def verdict(relies_on_grass: bool, headline_agrees: bool) -> str:
    """The lesson's takeaway (Markdown): do the headline map and the background swap tell the same story?"""
    relies = relies_words(relies_on_grass)
    if headline_agrees:
        return f"**The map and the experiment agree: this network {relies}.**"
    return (f"**The map and the experiment disagree.** The swap shows the network {relies}, but "
            f"{possessive(METHODS[HEADLINE_METHOD].name)} map says otherwise. Trust the swap: it measures directly.")


def methods_story(agreement: dict[str, bool]) -> str:
    """Which methods (key → agrees with the swap) tell the swap's story (Markdown)."""
    agreeing = [METHODS[key].name for key, agrees in agreement.items() if agrees]
    disagreeing = [METHODS[key].name for key, agrees in agreement.items() if not agrees]
    if disagreeing:
        return (f"Methods telling the same story as the swap: {', '.join(agreeing) or 'none'}. "
                f"Telling a different story: **{', '.join(disagreeing)}** — a reminder that a map is a guess "
                "about the network, not a measurement of it.")
    everyone = {1: "The one method tells", 2: "Both methods tell", 6: "All six methods tell"}.get(
        len(agreement), f"All {len(agreement)} methods tell")
    return f"{everyone} the same story as the swap."


def thresholds() -> str:
    """The thresholds behind the verdicts, in one sentence."""
    return (f"Thresholds used on this page: {possessive(METHODS[HEADLINE_METHOD].name)} map leans on grass when grass gets more "
            f"than {MAP_MARGIN:.0%} above its share of the picture (each method has its own margin, calibrated on 21 "
            f"networks against the swap); the swap finds reliance above {RELIANCE_THRESHOLD:.0%} average change in "
            "confidence.")


# ------------------------------------------------------------------------------------------ the whole lesson
@dataclass(frozen=True)
class BunniesResult:
    """Everything one run of the lesson made: pictures, trained network, scores, evidence."""

    settings: BunniesSettings
    data: BunniesData
    training: TrainResult
    evaluation: Evaluation
    evidence: EvidenceReport
    drawing_seconds: float


def _in_stage(on_progress: ProgressCallback | None, index: int, stages: int) -> ProgressCallback | None:
    """Reports of one part of the run, numbered as part `index` of `stages`."""
    if on_progress is None:
        return None
    return lambda progress: on_progress(replace(progress, stage_index=index, stages=stages))


def run(settings: BunniesSettings, on_progress: ProgressCallback | None = None) -> BunniesResult:
    """The whole lesson, headless: draw the pictures, train, score, measure the evidence with every method of
    `settings.methods` and swap the grounds. `on_progress` hears the three parts in turn."""
    started = time.perf_counter()
    data = make_data(settings, _in_stage(on_progress, 0, 3))
    drawing_seconds = time.perf_counter() - started
    training = train_model(settings, data, _in_stage(on_progress, 1, 3))
    model = training.model()
    evaluation = evaluate(model, data)
    evidence = evidence_report(model, data, settings.seed, settings.methods, _in_stage(on_progress, 2, 3))
    return BunniesResult(settings, data, training, evaluation, evidence, drawing_seconds)


def report(result: BunniesResult) -> dict:
    """The run as a JSON-ready dict (what `netlens bunnies --json` prints): the keys of the old
    `netlens shortcut --json`, plus the settings and the headline method."""
    settings, evidence = result.settings, result.evidence
    return {
        "config": {key: value for key, value in dataclasses.asdict(settings).items() if key != "methods"},
        "ordinary_accuracy": result.evaluation.ordinary_accuracy,
        "surprise_accuracy": result.evaluation.surprise_accuracy,
        "training_seconds": result.training.seconds,
        "drawing_seconds": result.drawing_seconds,
        "parts": list(PARTS),
        "evidence_pictures": "check pictures with grass",
        "area_shares": dict(zip(PARTS, evidence.area_shares)),
        "evidence": {
            key: {
                "part_shares": dict(zip(PARTS, item.part_shares)),
                "grass_share": item.grass_share,
                "grass_area": item.grass_area,
                "leans_on_grass": item.leans_on_grass,
                "agrees_with_swap": evidence.agrees(key),
                "seconds": item.seconds,
            }
            for key, item in evidence.methods.items()
        },
        "counterfactual": {
            "reliance": evidence.swap.reliance,
            "flipped": evidence.swap.flipped,
            "relies_on_grass": evidence.relies_on_grass,
        },
        "settings": settings_json(settings),
        "headline_method": HEADLINE_METHOD,
    }


def summary(report: dict) -> str:
    """The report in a few plain lines (what `netlens bunnies` prints without --json)."""
    swap = report["counterfactual"]
    lines = [
        f"ordinary pictures right: {report['ordinary_accuracy']:.1%}",
        f"surprise pictures right: {report['surprise_accuracy']:.1%}",
        f"swapping the background moves its confidence by {100 * swap['reliance']:.1f} points on average "
        f"({swap['flipped']:.0%} of answers flip)",
    ]
    for key, item in report["evidence"].items():
        agrees = "agrees" if item["agrees_with_swap"] else "DISAGREES"
        lines.append(f"  {key:12s} grass gets {item['grass_share']:.0%} of the evidence (grass is "
                     f"{item['grass_area']:.0%} of the picture): {agrees}")
    headline = report["headline_method"]
    if headline in report["evidence"]:
        lines.append(verdict(swap["relies_on_grass"], report["evidence"][headline]["agrees_with_swap"]).replace("**", ""))
    lines.append(f"training took {report['training_seconds']:.1f} s")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ code the page shows, timing
def snippet(settings: BunniesSettings) -> str:
    """The lesson's steps as Python a reader can run from the project folder ("from Python" on the page)."""
    defaults = BunniesSettings()
    changed = [f"{field.name}={getattr(settings, field.name)!r}" for field in dataclasses.fields(settings)
               if field.name == "seed" or getattr(settings, field.name) != getattr(defaults, field.name)]
    return (
        "from core.lessons.bunnies.experiment import BunniesSettings, evaluate, evidence_report, make_data, train_model\n"
        f"settings = BunniesSettings({', '.join(changed)})\n"
        "data = make_data(settings)\n"
        "model = train_model(settings, data).model()\n"
        "print(evaluate(model, data).surprise_accuracy)\n"
        "report = evidence_report(model, data, seed=settings.seed, methods=settings.methods)\n"
        "print(report.swap.reliance, report.relies_on_grass)"
    )


def bench(repeats: int = 5) -> dict:
    """The flagship's figures for `netlens bench`: train the default network (twice: cold process, then warm, as
    in the app, whose server warms up at start), then time every attribution method on one 64×64 scene, all
    of them together, and NetLens's overhead over a bare Captum call."""
    from captum.attr import IntegratedGradients

    from core.bench import median_seconds
    from core.explain import LogOdds
    from core.training import to_tensor

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    settings = BunniesSettings()
    started = time.perf_counter()
    data = make_data(settings)
    drawing = time.perf_counter() - started
    cold = train_model(settings, data)  # the first training in a fresh process: kernels not yet prepared
    result = train_model(settings, data)
    model = result.model()
    evaluation = evaluate(model, data)
    picture = data.test.images[:1]  # (1, 64, 64, 3)
    target = int(data.test.labels[0])
    baseline = data.baseline

    started = time.perf_counter()
    explain(model, picture, target, "ig", baseline=baseline)
    first_map = time.perf_counter() - started
    per_method = {
        key: round(median_seconds(lambda key=key: explain(model, picture, target, key, baseline=baseline), repeats), 4)
        for key in METHODS
    }
    all_methods = median_seconds(lambda: [explain(model, picture, target, key, baseline=baseline) for key in METHODS],
                                 repeats)
    # NetLens's overhead over calling Captum directly on the same model, input and settings.
    inputs = to_tensor(picture)  # (1, 3, 64, 64) in [0, 1], channels-last
    wrapped = LogOdds(model)
    bare = median_seconds(lambda: IntegratedGradients(wrapped).attribute(
        inputs, baselines=baseline, target=target, n_steps=32, internal_batch_size=64), repeats * 4)
    ours = median_seconds(lambda: explain(model, picture, target, "ig", baseline=baseline), repeats * 4)
    return {
        "drawing_seconds": round(drawing, 3),
        "training_seconds": round(result.seconds, 3),
        "training_seconds_cold_process": round(cold.seconds, 3),
        "ordinary_accuracy": evaluation.ordinary_accuracy,
        "first_map_seconds": round(first_map, 4),
        "map_seconds": per_method,
        "all_methods_seconds": round(all_methods, 4),
        "ig_overhead_ratio": round(ours / bare, 3),
    }

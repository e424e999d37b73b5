"""The flagship experiment: does a network that always saw bunnies on grass recognise bunnies, or grass?

config → scenes → train → evaluate → evidence per part (maps) and background swap (counterfactual).
The page, the command line and the tests all call these functions and get the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from core.counterfactual import BackgroundSwap, background_swap
from core.evidence import area_shares, part_shares
from core.explain import METHODS, average_colour_baseline, explain
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
from core.training import ProgressCallback, TrainConfig, TrainResult, accuracy, predict_proba, train

# The method behind the page's headline figure. Occlusion literally covers each patch and watches the answer,
# which is the question the audience asks; across seeds it also separated grass-trained from balanced
# networks most reliably (Integrated Gradients over-credited grass on a balanced network for one seed in four).
HEADLINE_METHOD = "occlusion"
# A map "leans on grass" when grass gets this much more of the evidence than its share of the pixels.
MAP_MARGIN = 0.05
# The check "relies on grass" when swapping the ground moves the confidence by this much on average.
RELIANCE_THRESHOLD = 0.15


@dataclass(frozen=True)
class ShortcutConfig:
    """One run of the lesson. Hashable, so it keys the caches; printable, so the CLI reports it."""

    grass_rate: float = 1.0  # how often bunnies are photographed on grass (elephants: 1 - grass_rate)
    num_train: int = 2000
    extra_pictures: int = 0  # "show it more pictures": bunnies off grass and elephants on grass, added
    epochs: int = 5
    width: int = 8
    seed: int = 0
    image_size: int = 64
    num_test: int = 400
    num_check: int = 64  # pictures in the background swap; those on grass (about half) in the evidence chart

    def __post_init__(self) -> None:
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")
        if self.num_train < 2 or self.num_test < 2 or self.num_check < 2:
            raise ValueError("num_train, num_test and num_check must each be at least 2")
        if self.extra_pictures < 0:
            raise ValueError(f"extra_pictures must be zero or more, got {self.extra_pictures}")

    @property
    def model_config(self) -> ModelConfig:
        return ModelConfig(num_classes=len(COARSE_CLASSES), width=self.width)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs)

    def data_key(self) -> tuple:
        """What the pictures depend on (training settings do not change them)."""
        return (self.grass_rate, self.num_train, self.extra_pictures, self.seed, self.image_size, self.num_test, self.num_check)


@dataclass(frozen=True)
class ShortcutData:
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


def make_data(config: ShortcutConfig, on_progress: Callable[[float], None] | None = None) -> ShortcutData:
    """Draw every picture the experiment uses; deterministic for a given config. `on_progress(fraction)`
    is called as the four sets are drawn."""
    specs = shortcut_specs(config.num_train, config.grass_rate, stream(config.seed, "train"))
    specs += surprise_specs(config.extra_pictures, stream(config.seed, "extra"))
    sets = {
        "train": specs,
        "test": shortcut_specs(config.num_test, config.grass_rate, stream(config.seed, "test")),
        "surprise": surprise_specs(config.num_test, stream(config.seed, "surprise")),
        "check": shortcut_specs(config.num_check, 0.5, stream(config.seed, "check")),
    }
    total, done, drawn = sum(map(len, sets.values())), 0, {}
    for name, chosen in sets.items():
        parts = []
        for start in range(0, len(chosen), 500):  # in slices, so progress can be reported
            parts.append(draw_scenes(chosen[start : start + 500], COARSE_CLASSES, config.image_size))
            done += len(parts[-1])
            if on_progress is not None:
                on_progress(done / total)
        drawn[name] = concatenate(parts)
    return ShortcutData(**drawn)


def train_model(config: ShortcutConfig, data: ShortcutData, on_progress: ProgressCallback | None = None) -> TrainResult:
    """Train the lesson's network on `data.train`."""
    return train(config.model_config, config.train_config, data.train.images, data.train.labels,
                 seed=stream(config.seed, "weights"), on_progress=on_progress)


@dataclass(frozen=True)
class Evaluation:
    """Accuracy on ordinary and surprise pictures, and each picture's class probabilities."""

    ordinary_accuracy: float
    surprise_accuracy: float
    test_probabilities: np.ndarray  # (N, 2)
    surprise_probabilities: np.ndarray  # (N, 2)


def evaluate(model: nn.Module, data: ShortcutData) -> Evaluation:
    test = predict_proba(model, data.test.images)
    surprise = predict_proba(model, data.surprise.images)
    return Evaluation(accuracy(test, data.test.labels), accuracy(surprise, data.surprise.labels), test, surprise)


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
        return self.grass_share > self.grass_area + MAP_MARGIN


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
    data: ShortcutData,
    seed: int,
    methods: Sequence[str] = tuple(METHODS),
    on_method: Callable[[int, str], None] | None = None,
) -> EvidenceReport:
    """Maps for the network's own answers on the check pictures that have grass (the ones where grass can
    matter), summed over the parts of each scene; plus the background swap on all check pictures.
    `on_method(index, key)` reports progress."""
    check = data.check
    on_grass = check.on_grass
    if not on_grass.any():
        raise ValueError("the check pictures need at least one picture on grass")
    images, masks = check.images[on_grass], check.masks[on_grass]
    predicted = predict_proba(model, images).argmax(1)
    area = area_shares(masks).mean(0)
    results = {}
    for index, key in enumerate(methods):
        if on_method is not None:
            on_method(index, key)
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


def picture_maps(model: nn.Module, data: ShortcutData, image: np.ndarray, seed: int,
                 methods: Sequence[str] = tuple(METHODS)) -> tuple[int, float, dict[str, np.ndarray]]:
    """For one (H, W, 3) picture: the class the network chose, its confidence, and each method's (H, W)
    map explaining that choice."""
    probabilities = predict_proba(model, image[None])[0]
    predicted = int(probabilities.argmax())
    maps = {key: explain(model, image[None], predicted, key, baseline=data.baseline, seed=seed)[0] for key in methods}
    return predicted, float(probabilities[predicted]), maps


def run(config: ShortcutConfig, methods: Sequence[str] = tuple(METHODS)) -> dict:
    """The whole experiment, headless, as a JSON-ready dict (what `netlens shortcut --json` prints)."""
    unknown = [key for key in methods if key not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
    started = time.perf_counter()
    data = make_data(config)
    drawing_seconds = time.perf_counter() - started
    result = train_model(config, data)
    model = result.model()
    evaluation = evaluate(model, data)
    report = evidence_report(model, data, config.seed, methods)
    return {
        "config": asdict(config),
        "ordinary_accuracy": evaluation.ordinary_accuracy,
        "surprise_accuracy": evaluation.surprise_accuracy,
        "training_seconds": result.seconds,
        "drawing_seconds": drawing_seconds,
        "parts": list(PARTS),
        "evidence_pictures": "check pictures with grass",
        "area_shares": dict(zip(PARTS, report.area_shares)),
        "evidence": {
            key: {
                "part_shares": dict(zip(PARTS, item.part_shares)),
                "grass_share": item.grass_share,
                "grass_area": item.grass_area,
                "leans_on_grass": item.leans_on_grass,
                "agrees_with_swap": report.agrees(key),
                "seconds": item.seconds,
            }
            for key, item in report.methods.items()
        },
        "counterfactual": {
            "reliance": report.swap.reliance,
            "flipped": report.swap.flipped,
            "relies_on_grass": report.relies_on_grass,
        },
    }

"""The squeeze lesson: train a big network on the bunny world, shrink it three ways, and compare with a small
network trained from scratch — accuracy, file size, speed, and whether the explanation survives.

settings → pictures → big network → int8 copy · pruned copy · distilled student · student from scratch → files,
clocks, accuracies → Occlusion maps of the same pictures → "why not train the small one?" (few labels).
Every step is a plain function of its inputs and an explicit seed; nothing here touches Streamlit.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.explain import average_colour_baseline
from core.fit import Progress, ProgressCallback
from core.lesson import setting
from core.lessons.squeeze.int8 import quantise
from core.lessons.squeeze.measure import (  # noqa: F401 - the lesson's vocabulary, re-exported
    HOW,
    KINDS,
    MAP_METHOD,
    NAMES,
    SAME_GRASS,
    SAME_MAP,
    MapComparison,
    Squeezed,
    compare_maps,
    measure,
)
from core.lessons.squeeze.networks import SqueezeCNN, accuracy, build_network, logits_of, save_weights, train_network
from core.lessons.squeeze.pruning import mask_filters, thinned
from core.runtime import single_thread
from core.scenes import COARSE_CLASSES, Scenes, draw_scenes, shortcut_specs
from core.seeds import stream
from core.training import to_tensor

STAGES = 8


@dataclass(frozen=True)
class SqueezeSettings:
    """One run of the lesson. Hashable (the store's key), printable, JSON round trip (the link)."""

    num_train: int = setting(1000, "labelled pictures the big network (and the small ones) learn from", flag="pictures")
    big_width: int = setting(16, "filters in the big network's first layer (doubling in each of its 3 layers)")
    small_width: int = setting(4, "filters in the small network's first layer (doubling in each of its 3 layers)")
    prune_share: float = setting(0.5, "share of each layer's filters that pruning cuts out")
    nudges: int = setting(150, "nudges of every training from scratch, big and small alike (64 pictures each, or "
                               "all of them when there are fewer)")
    fine_tune_nudges: int = setting(60, "nudges of fine-tuning after pruning (with the masks on)")
    temperature: float = setting(2.0, "distillation: how much the big network's answers are softened")
    few_labels: int = setting(40, "'why not train the small one?': labelled pictures the small network gets")
    unlabelled: int = setting(1000, "'why not train the small one?': pictures nobody labelled, which the big "
                                    "network labels for the distilled one")
    phone_kb: float = setting(50.0, "the pretend phone's room for a network, in KB")
    grass_rate: float = setting(0.5, "share of bunnies photographed on grass (0.5: grass gives nothing away)")
    image_size: int = setting(32, "side of the pictures in pixels")
    num_test: int = setting(400, "new pictures every accuracy is measured on")
    num_check: int = setting(12, "pictures whose maps are compared before and after each shrink")
    seed: int = setting(0, "seed of the pictures, every network's first weights and the order of the pictures")

    def __post_init__(self) -> None:
        if self.num_train < 8 or self.num_test < 2 or self.num_check < 2:
            raise ValueError("num_train must be at least 8, num_test and num_check at least 2")
        if not 1 <= self.small_width < self.big_width <= 64:
            raise ValueError(f"need 1 ≤ small_width < big_width ≤ 64, got {self.small_width} and {self.big_width}")
        if not 0.1 <= self.prune_share <= 0.9:
            raise ValueError(f"prune_share must be between 0.1 and 0.9, got {self.prune_share}")
        if self.nudges < 4 or self.fine_tune_nudges < 4:
            raise ValueError("nudges and fine_tune_nudges must each be at least 4")
        if not 0.5 <= self.temperature <= 10:
            raise ValueError(f"temperature must be between 0.5 and 10, got {self.temperature}")
        if not 2 <= self.few_labels <= self.num_train:
            raise ValueError(f"few_labels must be between 2 and num_train ({self.num_train}), got {self.few_labels}")
        if self.unlabelled < 0:
            raise ValueError(f"unlabelled must be zero or more, got {self.unlabelled}")
        if self.phone_kb <= 0:
            raise ValueError(f"phone_kb must be more than 0, got {self.phone_kb}")
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")
        if self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {self.image_size}")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")

    @property
    def big_channels(self) -> tuple[int, ...]:
        return (self.big_width, 2 * self.big_width, 4 * self.big_width)

    @property
    def small_channels(self) -> tuple[int, ...]:
        return (self.small_width, 2 * self.small_width, 4 * self.small_width)

    def training_key(self) -> SqueezeSettings:
        """What the trained networks depend on: these settings with the default phone budget (the budget only
        moves a line on the chart)."""
        return replace(self, phone_kb=SqueezeSettings().phone_kb)

    def data_key(self) -> tuple:
        """What the pictures depend on (training settings do not change them)."""
        return ("squeeze", self.num_train, self.unlabelled, self.num_test, self.num_check, self.image_size,
                self.grass_rate, self.seed)


@dataclass(frozen=True)
class SqueezeData:
    """Labelled training pictures, pictures nobody labelled, test pictures, and the pictures whose maps are
    compared (half of them on grass). Each a `core.scenes.Scenes`, bunnies (0) and elephants (1) alternating."""

    train: Scenes
    pool: Scenes
    test: Scenes
    check: Scenes


def make_data(settings: SqueezeSettings, on_progress: ProgressCallback | None = None) -> SqueezeData:
    """Every picture of the lesson, deterministic for given settings; `on_progress` hears each set drawn."""
    sets = {"train": settings.num_train, "pool": settings.unlabelled, "test": settings.num_test,
            "check": settings.num_check}
    drawn, done, total = {}, 0, sum(sets.values())
    for name, count in sets.items():
        rate = 0.5 if name == "check" else settings.grass_rate
        specs = shortcut_specs(count, rate, stream(settings.seed, f"squeeze-{name}"))
        drawn[name] = draw_scenes(specs, COARSE_CLASSES, settings.image_size)
        done += count
        if on_progress is not None:
            on_progress(Progress(done, total, stage="Drawing the pictures", unit="pictures"))
    return SqueezeData(**drawn)


# --------------------------------------------------------------------------------------------------- the losses
def labels_loss(labels: torch.Tensor):  # type: ignore[no-untyped-def]
    """Ordinary learning: cross-entropy against the right answers `labels[batch]`."""
    return lambda logits, batch: nn.functional.cross_entropy(logits, labels[batch])


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float,
                      label_weight: float = 0.5) -> torch.Tensor:
    """Hinton et al.'s loss (https://arxiv.org/abs/1503.02531), per picture then averaged: T² × KL(teacher's
    softened answer ‖ student's), and for a labelled picture (label ≥ 0; −1 = nobody labelled it) also
    cross-entropy with its label, the two mixed `label_weight` : 1 − `label_weight`. Averaging per picture
    weights the labelled part by its share of the batch. (B, K) logits, (B,) labels."""
    soft = torch.softmax(teacher / temperature, dim=1)
    log_student = torch.log_softmax(student / temperature, dim=1)
    copying = (soft * (torch.log(soft.clamp_min(1e-12)) - log_student)).sum(1) * temperature**2  # (B,)
    labelled = labels >= 0
    answers = nn.functional.cross_entropy(student, labels.clamp_min(0), reduction="none")  # (B,)
    mixed = torch.where(labelled, label_weight * answers + (1 - label_weight) * copying, copying)
    return mixed.mean()


# --------------------------------------------------------------------------------------------- the networks
@dataclass(frozen=True)
class Networks:
    """The five trained networks (eval mode) and how long each took to make."""

    models: dict[str, nn.Module]
    seconds: dict[str, float]
    masked_file_bytes: int  # the pruned network's file while its masks were still on


def _stage(settings: SqueezeSettings, index: int, stage: str, on_progress: ProgressCallback | None) -> dict:
    return dict(stage=stage, on_progress=on_progress, stage_index=index, stages=STAGES)


def train_big(settings: SqueezeSettings, inputs: torch.Tensor, labels: torch.Tensor,
              on_progress: ProgressCallback | None = None) -> tuple[SqueezeCNN, float]:
    big = build_network(settings.big_channels, stream(settings.seed, "squeeze-big"))
    seconds = train_network(big, inputs, labels_loss(labels), settings.nudges, stream(settings.seed, "squeeze-order"),
                            **_stage(settings, 0, "Training the big network", on_progress))
    return big, seconds


def train_small(settings: SqueezeSettings, inputs: torch.Tensor, labels: torch.Tensor,
                teacher_logits: torch.Tensor | None, stage: str, index: int,
                on_progress: ProgressCallback | None = None) -> tuple[SqueezeCNN, float]:
    """The small network from its seeded first weights, `settings.nudges` nudges: from the labels alone
    (`teacher_logits` None) or distilled from the big network's answers (labels −1 where nobody labelled)."""
    small = build_network(settings.small_channels, stream(settings.seed, "squeeze-small"))
    if teacher_logits is None:
        loss = labels_loss(labels)
    else:
        loss = lambda logits, batch: distillation_loss(logits, teacher_logits[batch], labels[batch],  # noqa: E731
                                                       settings.temperature)
    seconds = train_network(small, inputs, loss, settings.nudges, stream(settings.seed, "squeeze-order"),
                            **_stage(settings, index, stage, on_progress))
    return small, seconds


def prune_big(settings: SqueezeSettings, big: SqueezeCNN, inputs: torch.Tensor, labels: torch.Tensor, folder: Path,
              on_progress: ProgressCallback | None = None) -> tuple[SqueezeCNN, float, int]:
    """Mask the weakest filters, fine-tune with the masks on, then cut them out for real. Returns the thinner
    network, the seconds, and the size of the file the masked network would have made (masks double it)."""
    started = time.perf_counter()
    masked = mask_filters(big, settings.prune_share)
    train_network(masked, inputs, labels_loss(labels), settings.fine_tune_nudges,
                  stream(settings.seed, "squeeze-fine-tune"), learning_rate=0.003,
                  **_stage(settings, 2, "Pruning: fine-tuning with the masks on", on_progress))
    masked_bytes = save_weights(masked, folder / "masked.pt")
    return thinned(masked), time.perf_counter() - started, masked_bytes


def train_networks(settings: SqueezeSettings, data: SqueezeData, folder: Path,
                   on_progress: ProgressCallback | None = None) -> Networks:
    """The big network and its four rivals, on the same labelled pictures (stages 0–4 of the run)."""
    inputs, labels = to_tensor(data.train.images), torch.as_tensor(data.train.labels)
    big, big_seconds = train_big(settings, inputs, labels, on_progress)
    if on_progress is not None:
        on_progress(Progress(0, 1, stage="Squeezing into 8-bit numbers", unit="networks", stage_index=1, stages=STAGES))
    started = time.perf_counter()
    int8 = quantise(big, inputs[:256])
    int8_seconds = time.perf_counter() - started
    pruned, pruned_seconds, masked_bytes = prune_big(settings, big, inputs, labels, folder, on_progress)
    teacher = logits_of(big, inputs)
    distilled, distilled_seconds = train_small(settings, inputs, labels, teacher, "Distilling the small network",
                                               3, on_progress)
    scratch, scratch_seconds = train_small(settings, inputs, labels, None, "Training the small network from "
                                           "scratch", 4, on_progress)
    models = {"big": big, "int8": int8, "pruned": pruned, "distilled": distilled, "scratch": scratch}
    seconds = {"big": big_seconds, "int8": int8_seconds, "pruned": pruned_seconds, "distilled": distilled_seconds,
               "scratch": scratch_seconds}
    return Networks(models, seconds, masked_bytes)


# ----------------------------------------------------------------------------------- why not train the small one
@dataclass(frozen=True)
class FewLabels:
    """The small network with only `labelled` labelled pictures: alone, or distilled from the big network, which
    also labels `unlabelled` pictures nobody labelled. Accuracies on the test pictures."""

    labelled: int
    unlabelled: int
    scratch_accuracy: float
    distilled_accuracy: float

    @property
    def gain(self) -> float:
        return self.distilled_accuracy - self.scratch_accuracy


def few_labels(settings: SqueezeSettings, data: SqueezeData, big: nn.Module,
               on_progress: ProgressCallback | None = None) -> FewLabels:
    """Stages 5–6: the first `settings.few_labels` training pictures (bunnies and elephants alternate) and the
    pool of unlabelled pictures; the same small network, the same nudges."""
    labelled = to_tensor(data.train.images[: settings.few_labels])
    labels = torch.as_tensor(data.train.labels[: settings.few_labels])
    pool = to_tensor(data.pool.images)
    test, test_labels = to_tensor(data.test.images), torch.as_tensor(data.test.labels)
    alone, _ = train_small(settings, labelled, labels, None, "Few labels: the small network alone", 5, on_progress)
    inputs = torch.cat([labelled, pool]).contiguous(memory_format=torch.channels_last)
    marks = torch.cat([labels, torch.full((len(pool),), -1, dtype=torch.long)])  # −1: nobody labelled it
    helped, _ = train_small(settings, inputs, marks, logits_of(big, inputs), "Few labels: distilled, with the big "
                            "network labelling the other pictures", 6, on_progress)
    return FewLabels(settings.few_labels, settings.unlabelled, accuracy(alone, test, test_labels),
                     accuracy(helped, test, test_labels))


# ------------------------------------------------------------------------------------------ measuring them all
@dataclass(frozen=True)
class SqueezeResult:
    settings: SqueezeSettings
    models: tuple[Squeezed, ...]  # KINDS order
    maps: dict[str, np.ndarray]  # key → (N, H, W) Occlusion maps of the check pictures, towards the right answer
    comparisons: tuple[MapComparison, ...]  # KINDS order
    few: FewLabels
    masked_file_bytes: int
    check_images: np.ndarray  # (N, H, W, 3) uint8
    check_labels: np.ndarray  # (N,)
    seconds: float

    def model(self, key: str) -> Squeezed:
        return next(model for model in self.models if model.key == key)

    def comparison(self, key: str) -> MapComparison:
        return next(comparison for comparison in self.comparisons if comparison.key == key)

    def picture_maps(self, index: int) -> np.ndarray:
        """(len(KINDS), H, W): every network's map of check picture `index`, in KINDS order."""
        return np.stack([self.maps[key][index] for key in KINDS])


def run_squeeze(settings: SqueezeSettings, data: SqueezeData, on_progress: ProgressCallback | None = None) -> SqueezeResult:
    """The whole lesson on drawn pictures: train and shrink, measure, compare maps, and the few-labels set-up."""
    started = time.perf_counter()
    # One torch thread throughout: small networks, many small operations; with the second core busy (another
    # session), two threads made the maps 10–20× slower here (core.runtime.single_thread).
    with single_thread(), tempfile.TemporaryDirectory(prefix="netlens-squeeze-") as name:
        folder = Path(name)
        networks = train_networks(settings, data, folder, on_progress)
        few = few_labels(settings, data, networks.models["big"], on_progress)
        if on_progress is not None:
            on_progress(Progress(0, len(KINDS) + 1, stage="Measuring files, speed and maps", unit="steps",
                                 stage_index=7, stages=STAGES))
        test, labels = to_tensor(data.test.images), torch.as_tensor(data.test.labels)
        measured = []
        for index, key in enumerate(KINDS):
            measured.append(measure(key, networks.models[key], folder, test, labels, networks.seconds[key]))
            if on_progress is not None:
                on_progress(Progress(index + 1, len(KINDS) + 1, stage="Measuring files, speed and maps",
                                     unit="steps", stage_index=7, stages=STAGES))
        baseline = average_colour_baseline(data.train.images)
        maps, comparisons = compare_maps(networks.models, data.check, baseline, settings.seed)
        if on_progress is not None:
            on_progress(Progress(len(KINDS) + 1, len(KINDS) + 1, stage="Measuring files, speed and maps",
                                 unit="steps", stage_index=7, stages=STAGES))
    return SqueezeResult(settings, tuple(measured), maps, comparisons, few, networks.masked_file_bytes,
                         data.check.images, data.check.labels, time.perf_counter() - started)


def run(settings: SqueezeSettings, on_progress: ProgressCallback | None = None) -> SqueezeResult:
    """Draw the pictures, then the whole lesson (the lesson's `run`)."""
    return run_squeeze(settings, make_data(settings), on_progress)



def with_budget(result: SqueezeResult, phone_kb: float) -> SqueezeResult:
    """The same result judged against another phone budget (nothing is retrained)."""
    return replace(result, settings=replace(result.settings, phone_kb=phone_kb))

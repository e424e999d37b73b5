"""Seasoning to taste: an extra loss that tones down the grass, and how much of it to add.

The bunny world with grass behind every bunny in training (elephants never on grass): a plain network learns
the lawn. The seasoning is "Right for the Right Reasons" (Ross, Hughes & Doshi-Velez 2017,
https://arxiv.org/abs/1703.03717): next to the usual loss, penalise the network's input gradients on the pixels a
part mask marks as grass, so that changing the grass changes the answer less. `strength` is how much of it goes in.

settings → pictures (with part masks) → one seasoned training per strength and seed → ordinary and surprise
accuracy, grass evidence share (Integrated Gradients, as the flagship's headline) → the curve.
Nothing here touches Streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from core.evidence import area_shares, part_shares
from core.explain import average_colour_baseline, explain
from core.fit import Batches, Progress, ProgressCallback, fit
from core.lesson import setting
from core.models import ModelConfig, build_model
from core.runtime import short_gil_slices, single_thread
from core.scenes import COARSE_CLASSES, GRASS, Scenes, draw_scenes, shortcut_specs, surprise_specs
from core.seeds import stream
from core.training import TrainResult, accuracy, one_cycle, predict_proba, recalibrate_batch_norm, to_tensor

STRENGTHS: tuple[float, ...] = (0.0, 0.3, 1.0, 3.0, 10.0, 30.0)  # the curve's strengths (and the slider's)
EVIDENCE_METHOD = "ig"  # the flagship's headline method (core.lessons.bunnies.experiment.HEADLINE_METHOD)
BATCH_SIZE = 64


@dataclass(frozen=True)
class Recipe:
    """How one network is cooked: its width, learning rate, passes through the pictures and seasoning strength."""

    width: int = 8
    learning_rate: float = 0.01
    epochs: int = 4
    strength: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 64:
            raise ValueError(f"width must be between 1 and 64, got {self.width}")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate}")
        if not 1 <= self.epochs <= 50:
            raise ValueError(f"epochs must be between 1 and 50, got {self.epochs}")
        if not 0 <= self.strength <= 10_000:
            raise ValueError(f"the seasoning strength must be between 0 and 10,000, got {self.strength}")


@dataclass(frozen=True)
class SeasoningSettings:
    """The lesson's curve: one network per strength and seed. Hashable (the page's store key), printable."""

    strengths: tuple[float, ...] = setting(STRENGTHS, "seasoning strengths to compare, comma-separated")
    seeds: int = setting(2, "networks per strength, each from its own seed (pictures, weights, order)")
    grass_rate: float = setting(1.0, "how often training bunnies stand on grass (1.0: always, elephants never)",
                                flag="grass")
    num_train: int = setting(500, "training pictures")
    epochs: int = setting(4, "passes through the training pictures")
    width: int = setting(8, "filters in the network's first layer")
    learning_rate: float = setting(0.01, "Adam's largest step size (one cycle)")
    image_size: int = setting(32, "picture side, in pixels")
    num_test: int = setting(200, "pictures in each test set (ordinary and surprise)")
    num_check: int = setting(48, "pictures on which the grass evidence is measured (those on grass: about half)")
    seed: int = setting(0, "first seed; the others follow (seed, seed + 1, …)")

    def __post_init__(self) -> None:
        if not self.strengths or len(set(self.strengths)) != len(self.strengths):
            raise ValueError(f"choose at least one strength, each once, got {self.strengths}")
        if any(not 0 <= value <= 10_000 for value in self.strengths):
            raise ValueError(f"strengths must be between 0 and 10,000, got {self.strengths}")
        if not 1 <= self.seeds <= 10:
            raise ValueError(f"seeds must be between 1 and 10, got {self.seeds}")
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")
        if self.num_train < 2 or self.num_test < 2 or self.num_check < 4:
            raise ValueError("num_train and num_test must be at least 2, num_check at least 4")
        if self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {self.image_size}")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")
        Recipe(self.width, self.learning_rate, self.epochs, 0.0)  # the same checks as every network's

    def recipe(self, strength: float) -> Recipe:
        return Recipe(self.width, self.learning_rate, self.epochs, strength)

    def data_settings(self, seed: int) -> DataSettings:
        return DataSettings(self.grass_rate, self.num_train, self.num_test, self.num_check, self.image_size, seed)


@dataclass(frozen=True)
class DataSettings:
    """What the pictures depend on."""

    grass_rate: float = 1.0
    num_train: int = 500
    num_test: int = 200
    num_check: int = 48
    image_size: int = 32
    seed: int = 0


@dataclass(frozen=True)
class SeasoningData:
    """Training pictures with their part masks, an ordinary and a surprise test set, and check pictures."""

    train: Scenes
    test: Scenes
    surprise: Scenes
    check: Scenes  # half on grass: the grass evidence share is measured on those on grass

    @property
    def baseline(self) -> torch.Tensor:
        """The maps' "nothing here" picture (1, 3, H, W): the training pictures' average colour (as the flagship)."""
        return average_colour_baseline(self.train.images)


def make_data(settings: DataSettings) -> SeasoningData:
    """Draw every picture of one seed; deterministic."""
    size = settings.image_size
    return SeasoningData(
        train=draw_scenes(shortcut_specs(settings.num_train, settings.grass_rate, stream(settings.seed, "season-train")),
                          COARSE_CLASSES, size),
        test=draw_scenes(shortcut_specs(settings.num_test, settings.grass_rate, stream(settings.seed, "season-test")),
                         COARSE_CLASSES, size),
        surprise=draw_scenes(surprise_specs(settings.num_test, stream(settings.seed, "season-surprise")),
                             COARSE_CLASSES, size),
        check=draw_scenes(shortcut_specs(settings.num_check, 0.5, stream(settings.seed, "season-check")),
                          COARSE_CLASSES, size),
    )


# ------------------------------------------------------------------------------------------------ the seasoning
def grass_penalty(model: nn.Module, inputs: torch.Tensor, grass: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The usual forward pass, and the seasoning: per picture, the sum over grass pixels (and colours) of
    |∂ Σ_k log p_k / ∂ pixel| — how much a small change of the grass would move the network's answer — averaged
    over the batch. Ross et al. square the gradients; squared, evidence spread thinly over a whole lawn costs
    almost nothing (each pixel's gradient is tiny), and no strength up to 1,000 moved surprise accuracy here
    (see under_the_hood.md), so the absolute value is used. `inputs` (B, 3, H, W), `grass` (B, 1, H, W) 0/1.
    Returns (logits (B, K), penalty ()). Differentiable: the training backpropagates through the gradient."""
    inputs = inputs.detach().requires_grad_(True)
    logits = model(inputs)  # (B, K)
    log_probabilities = torch.log_softmax(logits, dim=1).sum()
    (gradient,) = torch.autograd.grad(log_probabilities, inputs, create_graph=True)  # (B, 3, H, W)
    return logits, (gradient * grass).abs().sum() / len(inputs)


def train_seasoned(
    data: SeasoningData,
    recipe: Recipe,
    seed: int,
    on_progress: ProgressCallback | None = None,
    after_epoch: Callable[[int, nn.Module], None] | None = None,
) -> TrainResult:
    """Train a fresh SmallCNN from `seed` on `data.train` with cross-entropy + `recipe.strength` × the grass
    penalty (Adam, one-cycle learning rate, as core.training.train). `after_epoch(epoch, model)` runs after
    each pass (the tuner's pruner listens there; it may raise to stop)."""
    started = time.perf_counter()
    images, labels = data.train.images, data.train.labels
    inputs = to_tensor(images)  # (N, 3, H, W) in [0, 1]
    targets = torch.as_tensor(labels, dtype=torch.long)
    grass = torch.as_tensor(data.train.masks == GRASS, dtype=torch.float32)[:, None]  # (N, 1, H, W)
    config = ModelConfig(num_classes=len(COARSE_CLASSES), width=recipe.width)
    model = build_model(config, seed).train()
    batches = Batches(len(inputs), min(BATCH_SIZE, len(inputs)), torch.Generator().manual_seed(seed))
    total_steps = batches.per_pass * recipe.epochs
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.learning_rate)
    schedule = one_cycle(optimizer, recipe.learning_rate, total_steps)
    history: list[Progress] = []

    def loss_of(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if recipe.strength == 0:
            logits = model(inputs[batch])
            return nn.functional.cross_entropy(logits, targets[batch]), logits
        logits, penalty = grass_penalty(model, inputs[batch], grass[batch])
        return nn.functional.cross_entropy(logits, targets[batch]) + recipe.strength * penalty, logits

    def report(progress: Progress) -> None:
        history.append(progress)
        if on_progress is not None:
            on_progress(progress)

    def after_step(step: int) -> None:
        if after_epoch is not None and step % batches.per_pass == 0:
            model.eval()
            try:
                after_epoch(step // batches.per_pass, model)
            finally:
                model.train()

    with single_thread(), short_gil_slices():  # many small operations: see both in core.runtime
        fit(loss_of, optimizer, batches, total_steps, targets=targets, schedule=schedule, on_progress=report,
            report_every=max(1, batches.per_pass // 2), after_step=after_step)
        recalibrate_batch_norm(model, inputs, BATCH_SIZE)
    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    return TrainResult(config, state, history, time.perf_counter() - started)


# ------------------------------------------------------------------------------------------------- tasting it
@dataclass(frozen=True)
class Taste:
    """One trained network, tasted: accuracy on ordinary and surprise pictures, share of its evidence on grass."""

    ordinary_accuracy: float
    surprise_accuracy: float
    grass_share: float  # Integrated Gradients' share of positive evidence on grass, check pictures on grass
    grass_area: float  # the share of those pictures' pixels that are grass: what a map blind to content gives


def accuracies(model: nn.Module, data: SeasoningData) -> tuple[float, float]:
    """(ordinary, surprise) accuracy of an eval-mode model."""
    return (accuracy(predict_proba(model, data.test.images), data.test.labels),
            accuracy(predict_proba(model, data.surprise.images), data.surprise.labels))


def grass_evidence(model: nn.Module, data: SeasoningData, seed: int) -> tuple[float, float]:
    """(grass share of the evidence, grass share of the pixels) over the check pictures on grass, with the
    flagship's headline method towards the network's own answers."""
    on_grass = data.check.on_grass
    images, masks = data.check.images[on_grass], data.check.masks[on_grass]
    if len(images) == 0:
        raise ValueError("the check pictures need at least one picture on grass")
    predicted = predict_proba(model, images).argmax(1)
    maps = explain(model, images, predicted, EVIDENCE_METHOD, baseline=data.baseline, seed=seed)  # (N, H, W)
    return float(part_shares(maps, masks).mean(0)[GRASS]), float(area_shares(masks).mean(0)[GRASS])


def taste(model: nn.Module, data: SeasoningData, seed: int) -> Taste:
    ordinary, surprise = accuracies(model, data)
    share, area = grass_evidence(model, data, seed)
    return Taste(ordinary, surprise, share, area)


# ------------------------------------------------------------------------------------------------- the curve
@dataclass(frozen=True)
class CurvePoint:
    strength: float
    tastes: tuple[Taste, ...]  # one per seed

    def mean(self, name: str) -> float:
        return float(np.mean([getattr(item, name) for item in self.tastes]))

    def spread(self, name: str) -> tuple[float, float]:
        values = [getattr(item, name) for item in self.tastes]
        return float(min(values)), float(max(values))


@dataclass(frozen=True)
class Curve:
    settings: SeasoningSettings
    points: tuple[CurvePoint, ...]  # strengths in increasing order
    seconds: float

    def best(self) -> CurvePoint:
        """The strength with the best average of ordinary and surprise accuracy (the dish that tastes best)."""
        return max(self.points, key=lambda point: point.mean("ordinary_accuracy") + point.mean("surprise_accuracy"))


def curve(settings: SeasoningSettings, on_progress: ProgressCallback | None = None) -> Curve:
    """One network per strength and seed (pictures drawn once per seed, shared by every strength).
    `on_progress` hears each training as one stage."""
    started = time.perf_counter()
    strengths = sorted(settings.strengths)
    stages = len(strengths) * settings.seeds
    tastes: dict[float, list[Taste]] = {strength: [] for strength in strengths}
    for seed_index in range(settings.seeds):
        seed = settings.seed + seed_index
        data = make_data(settings.data_settings(seed))
        for strength_index, strength in enumerate(strengths):
            stage = seed_index * len(strengths) + strength_index
            label = f"Cooking with strength {strength:g} (seed {seed})"

            def report(progress: Progress, stage: int = stage, label: str = label) -> None:
                if on_progress is not None:
                    on_progress(Progress(progress.step, progress.total_steps, stage=label, unit="nudges",
                                         stage_index=stage, stages=stages))

            result = train_seasoned(data, settings.recipe(strength), stream(seed, "season-weights"), report)
            tastes[strength].append(taste(result.model(), data, seed))
    points = tuple(CurvePoint(strength, tuple(tastes[strength])) for strength in strengths)
    return Curve(settings, points, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------- one pinch, side by side
@dataclass(frozen=True)
class Pinch:
    """One network without seasoning and one with `strength`, on the same pictures and starting weights."""

    strength: float
    plain: TrainResult
    seasoned: TrainResult
    plain_taste: Taste
    seasoned_taste: Taste


def pinch(settings: SeasoningSettings, data: SeasoningData, strength: float,
          on_progress: ProgressCallback | None = None) -> Pinch:
    """Train without seasoning and with `strength`, from the same starting weights, and taste both."""
    results = []
    for index, value in enumerate((0.0, strength)):
        def report(progress: Progress, index: int = index, value: float = value) -> None:
            if on_progress is not None:
                on_progress(Progress(progress.step, progress.total_steps, stage=f"Cooking with strength {value:g}",
                                     unit="nudges", stage_index=index, stages=2))
        results.append(train_seasoned(data, settings.recipe(value), stream(settings.seed, "season-weights"), report))
    plain, seasoned = results
    return Pinch(strength, plain, seasoned, taste(plain.model(), data, settings.seed),
                 taste(seasoned.model(), data, settings.seed))


def surprise_maps(result: TrainResult, data: SeasoningData, indices: Sequence[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """For surprise pictures `indices`: the network's answers (N,) and their Integrated Gradients maps (N, H, W)."""
    model = result.model()
    images = data.surprise.images[list(indices)]
    predicted = predict_proba(model, images).argmax(1)
    return predicted, explain(model, images, predicted, EVIDENCE_METHOD, baseline=data.baseline, seed=seed)



# ------------------------------------------------------------------------------------------------ takeaways
def guessing(point: CurvePoint) -> bool:
    """Both accuracies near a coin toss (35–65 %): the network answers without telling the animals apart."""
    return all(0.35 <= point.mean(name) <= 0.65 for name in ("ordinary_accuracy", "surprise_accuracy"))


def takeaways(drawn: Curve) -> list[str]:
    """A few plain sentences (Markdown, **bold** leads) about what this very curve shows."""
    plain = drawn.points[0]
    lines = [f"**Strength {plain.strength:g}:** {plain.mean('ordinary_accuracy'):.0%} right on ordinary pictures, "
             f"{plain.mean('surprise_accuracy'):.0%} on surprise ones, {plain.mean('grass_share'):.0%} of the evidence "
             "on the grass."]
    seasoned = [point for point in drawn.points if point.strength > 0]
    if seasoned:
        most = max(seasoned, key=lambda point: point.mean("surprise_accuracy"))
        gain = most.mean("surprise_accuracy") - plain.mean("surprise_accuracy")
        lines.append(f"**Most surprise pictures right:** strength {most.strength:g}, "
                     f"{most.mean('surprise_accuracy'):.0%} ({100 * gain:+.0f} points), while ordinary pictures go "
                     f"{most.mean('ordinary_accuracy'):.0%} right and the grass gets {most.mean('grass_share'):.0%} of "
                     "the evidence" + (" — but that is close to guessing on both." if guessing(most) else "."))
        strongest = seasoned[-1]
        lines.append(f"**Strength {strongest.strength:g}:** {strongest.mean('ordinary_accuracy'):.0%} ordinary, "
                     f"{strongest.mean('surprise_accuracy'):.0%} surprise"
                     + (" — close to guessing on both: the dish is spoiled." if guessing(strongest) else "."))
        if all(guessing(point) or point.mean("surprise_accuracy") < 0.25 for point in seasoned):
            lines.append("**No strength keeps both** with this recipe: the tuner below also changes the width, the "
                         "learning rate and how long to train.")
    return lines

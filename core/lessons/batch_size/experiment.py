"""The batch-size lesson: the same small network, the same pictures, the same budget of pictures seen —
only the number of pictures it looks at before each nudge changes.

settings → pictures → one training per batch size (curves against pictures seen, nudges, seconds) → comparison
→ takeaways. Every step is a plain function of its inputs and an explicit seed; nothing here touches Streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from core.fit import Batches, Progress, ProgressCallback, fit
from core.lesson import setting
from core.runtime import short_gil_slices, single_thread
from core.scenes import COARSE_CLASSES, draw_scenes, shortcut_specs
from core.seeds import stream
from core.tiny_network import build_mlp, to_inputs

ALL = 0  # in `BatchSizeSettings.batch_sizes`: "all the training pictures at once"
BATCH_SIZE_CHOICES: tuple[int, ...] = (1, 4, 8, 16, 32, 64, 128, ALL)
PASS_CHOICES: tuple[int, ...] = (1, 2, 4, 8)
REPORTS_PER_TRAINING = 20  # progress reports per batch size (about)


@dataclass(frozen=True)
class BatchSizeSettings:
    """One comparison. Hashable, so it keys the page's store; printable, so the page can show it as code."""

    batch_sizes: tuple[int, ...] = setting((1, 8, 64, ALL), "pictures per nudge to compare, comma-separated; "
                                           "0 = all the training pictures")
    passes: int = setting(4, "times each network looks through all the pictures: the same budget for every "
                             "batch size")
    num_train: int = setting(512, "training pictures")
    num_test: int = setting(256, "new pictures the curves are measured on")
    image_size: int = setting(32, "side of the pictures in pixels")
    grass_rate: float = setting(0.5, "share of bunnies photographed on grass (0.5: no grass shortcut)")
    hidden: int = setting(32, "neurons in the network's one hidden layer")
    learning_rate: float = setting(0.003, "Adam's step size")
    record_every: int = setting(32, "pictures seen between two points of a learning curve (at most)")
    seed: int = setting(0, "seed of the pictures, the first weights and the order of the pictures")

    def __post_init__(self) -> None:
        if not self.batch_sizes:
            raise ValueError("choose at least one batch size")
        if len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ValueError(f"batch sizes must differ, got {self.batch_sizes}")
        if any(size < 0 or size > self.num_train for size in self.batch_sizes):
            raise ValueError(f"batch sizes must be between 1 and {self.num_train} (or {ALL} for all), got {self.batch_sizes}")
        if self.passes < 1 or self.num_train < 2 or self.num_test < 2 or self.hidden < 1 or self.record_every < 1:
            raise ValueError("passes, hidden and record_every must be at least 1; num_train and num_test at least 2")
        if self.image_size < 8:
            raise ValueError(f"image_size must be at least 8 pixels, got {self.image_size}")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate}")
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")

    def resolve(self, batch_size: int) -> int:
        """The actual number of pictures per nudge (ALL becomes the number of training pictures)."""
        return self.num_train if batch_size == ALL else batch_size

    @property
    def examples_seen(self) -> int:
        """The budget: pictures looked at during the whole training, the same for every batch size."""
        return self.passes * self.num_train

    def data_key(self) -> tuple:
        """What the pictures depend on (training settings do not change them)."""
        return ("batch_size", self.num_train, self.num_test, self.image_size, self.grass_rate, self.seed)


@dataclass(frozen=True)
class BatchData:
    """Training and held-out pictures: (N, H, W, 3) uint8 and (N,) int64 labels (0 bunny, 1 elephant)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


@dataclass(frozen=True)
class Run:
    """One training with one batch size. The curve is measured on the held-out pictures."""

    batch_size: int  # resolved: pictures per nudge
    everything: bool  # True when the batch is all the training pictures
    nudges_per_pass: int
    nudges: int
    examples_seen: int
    seen: tuple[int, ...]  # pictures seen at each point of the curve (starts at 0: before any nudge)
    loss: tuple[float, ...]  # average loss on the held-out pictures at each point
    accuracy: tuple[float, ...]  # fraction right on the held-out pictures at each point
    seconds: float  # wall-clock time of the nudges alone (not of drawing the curve)

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1]

    @property
    def final_loss(self) -> float:
        return self.loss[-1]

    @property
    def label(self) -> str:
        return f"all {self.batch_size}" if self.everything else str(self.batch_size)

    @property
    def wobble(self) -> float:
        """How bumpy the loss curve is: the total of every rise along the way (a smooth descent scores 0)."""
        return wobble(self.loss)

    @property
    def setbacks(self) -> float:
        """Accuracy lost along the way: the total of every drop of the accuracy curve (fraction)."""
        return wobble([-value for value in self.accuracy])


@dataclass(frozen=True)
class Comparison:
    settings: BatchSizeSettings
    runs: tuple[Run, ...]
    seconds: float  # the whole comparison, curves included

    def best(self) -> Run:
        return max(self.runs, key=lambda run: run.final_accuracy)


def wobble(values: Sequence[float]) -> float:
    """Sum of the rises between consecutive values: 0 for a curve that only goes down."""
    array = np.asarray(values, dtype=np.float64)
    return float(np.clip(np.diff(array), 0.0, None).sum()) if len(array) > 1 else 0.0


def per_nudge(run: Run) -> str:
    """'1 picture per nudge', '8 pictures per nudge', 'all 512 pictures per nudge'."""
    return _per_nudge(run.batch_size, run.everything)


def _per_nudge(size: int, everything: bool) -> str:
    if everything:
        return f"all {size} pictures per nudge"
    return f"{size} picture{'s' if size != 1 else ''} per nudge"


def make_data(settings: BatchSizeSettings) -> BatchData:
    """Bunnies and elephants at `settings.image_size` pixels, half of the bunnies on grass; deterministic."""
    train = draw_scenes(shortcut_specs(settings.num_train, settings.grass_rate, stream(settings.seed, "batch-train")),
                        COARSE_CLASSES, settings.image_size)
    test = draw_scenes(shortcut_specs(settings.num_test, settings.grass_rate, stream(settings.seed, "batch-test")),
                       COARSE_CLASSES, settings.image_size)
    return BatchData(train.images, train.labels, test.images, test.labels)


def build_network(settings: BatchSizeSettings, seed: int) -> nn.Sequential:
    """A tiny network: average 2×2 pixels, one hidden layer of `settings.hidden` neurons, two outputs."""
    return build_mlp(settings.image_size, settings.hidden, len(COARSE_CLASSES), seed)


@torch.no_grad()
def _score(network: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    logits = network(inputs)
    return float(nn.functional.cross_entropy(logits, targets)), float((logits.argmax(1) == targets).float().mean())


def seen_after(step: int, count: int, size: int) -> int:
    """Pictures seen after `step` nudges of `size` pictures, passes through `count` pictures ending with a short
    batch (the remainder) when `size` does not divide `count`."""
    per_pass = -(-count // size)
    passes, within = divmod(step, per_pass)
    return passes * count + min(within * size, count)


def train_one(
    settings: BatchSizeSettings,
    data: BatchData,
    batch_size: int,
    on_progress: ProgressCallback | None = None,
    stage_index: int = 0,
    stages: int = 1,
) -> Run:
    """Train a fresh network with `batch_size` pictures per nudge (ALL = every picture) for `settings.passes`
    passes. Every batch size starts from the same weights and sees the pictures in the same order (a fresh
    shuffle each pass; the last batch of a pass is the remainder). `on_progress` gets about twenty reports
    in pictures seen, as stage `stage_index` of `stages` (and may raise to stop)."""
    size = settings.resolve(batch_size)
    inputs, targets = to_inputs(data.train_images), torch.as_tensor(data.train_labels, dtype=torch.long)
    test_inputs, test_targets = to_inputs(data.test_images), torch.as_tensor(data.test_labels, dtype=torch.long)
    if len(inputs) != settings.num_train:
        raise ValueError(f"expected {settings.num_train} training pictures, got {len(inputs)}")
    network = build_network(settings, stream(settings.seed, "batch-weights"))
    order = torch.Generator().manual_seed(stream(settings.seed, "batch-order"))
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.learning_rate, fused=True)
    loss_function = nn.CrossEntropyLoss()
    batches = Batches(settings.num_train, size, order)  # a fresh random order every pass, short last batch kept
    total, every = settings.examples_seen, settings.record_every
    stage = f"Learning with {_per_nudge(size, size == settings.num_train)}"
    stage += f" ({stage_index + 1} of {stages})" if stages > 1 else ""
    loss, right = _score(network, test_inputs, test_targets)
    curve: tuple[list[int], list[float], list[float]] = ([0], [loss], [right])
    reported = [-1]

    def after_step(step: int) -> None:
        """A point of the curve each time the pictures seen cross a multiple of `record_every` (and at the end)."""
        seen = seen_after(step, settings.num_train, size)
        if seen < curve[0][-1] // every * every + every and seen != total:
            return
        loss, right = _score(network, test_inputs, test_targets)
        curve[0].append(seen), curve[1].append(loss), curve[2].append(right)
        report = seen * REPORTS_PER_TRAINING // total
        if on_progress is not None and (report != reported[0] or seen == total):
            reported[0] = report
            on_progress(Progress(seen, total, epoch=seen / settings.num_train, stage=stage, unit="pictures seen",
                                 stage_index=stage_index, stages=stages))

    fitted = fit(lambda batch: loss_function(network(inputs[batch]), targets[batch]), optimizer, batches,
                 settings.passes * batches.per_pass, after_step=after_step)
    return Run(
        batch_size=size,
        everything=size == settings.num_train,
        nudges_per_pass=batches.per_pass,
        nudges=fitted.steps,
        examples_seen=curve[0][-1],
        seen=tuple(curve[0]),
        loss=tuple(curve[1]),
        accuracy=tuple(curve[2]),
        seconds=fitted.seconds,
    )


def compare(settings: BatchSizeSettings, data: BatchData, on_progress: ProgressCallback | None = None) -> Comparison:
    """One training per batch size in `settings.batch_sizes`, smallest first, on the same budget of pictures
    seen. `on_progress` gets about twenty reports per training, one stage per batch size (and may raise to stop)."""
    started = time.perf_counter()
    sizes = sorted(settings.batch_sizes, key=settings.resolve)
    runs = []
    for index, batch_size in enumerate(sizes):
        with single_thread(), short_gil_slices():  # many small operations: see both in core.runtime
            runs.append(train_one(settings, data, batch_size, on_progress, index, len(sizes)))
    return Comparison(settings, tuple(runs), time.perf_counter() - started)


def run_comparison(settings: BatchSizeSettings, on_progress: ProgressCallback | None = None) -> Comparison:
    """Draw the pictures and compare: the whole lesson in one call (the lesson's `run`)."""
    return compare(settings, make_data(settings), on_progress)


# ------------------------------------------------------------------------------------------------ takeaways
def takeaways(comparison: Comparison) -> list[str]:
    """A few plain sentences (Markdown, **bold** leads) about what these very curves show."""
    runs = comparison.runs
    small, large, best = runs[0], runs[-1], comparison.best()
    lines = []
    if len(runs) > 1:
        lines.append(f"**{per_nudge(small).capitalize()}:** {small.nudges:,} nudges; the zig-zag threw away "
                     f"{100 * small.setbacks:.0f} points of progress along the way — each nudge follows "
                     f"{'a single picture' if small.batch_size == 1 else f'only {small.batch_size} pictures'}.")
        lines.append(f"**{per_nudge(large).capitalize()}:** only {large.nudges:,} "
                     f"nudge{'s' if large.nudges != 1 else ''} for the same {large.examples_seen:,} pictures seen; "
                     f"smooth, but it reached {large.final_accuracy:.0%}.")
    lines.append(f"**Best here:** {per_nudge(best)}, {best.final_accuracy:.0%} right on new pictures.")
    slow = max(runs, key=lambda run: run.seconds)
    if len(runs) > 1:
        lines.append(f"**Slowest:** {per_nudge(slow)} ({slow.seconds:.2f} s) — a computer handles a whole batch "
                     "almost as fast as one picture, so many small nudges cost the most time.")
    return lines

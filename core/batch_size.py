"""The batch-size lesson: the same small network, the same pictures, the same budget of pictures seen —
only the number of pictures it looks at before each nudge changes.

config → pictures → one training per batch size (curves against pictures seen, nudges, seconds) → comparison.
Every step is a plain function of its inputs and an explicit seed; nothing here touches Streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from core.runtime import short_gil_slices, single_thread
from core.scenes import COARSE_CLASSES, draw_scenes, shortcut_specs
from core.seeds import stream
from core.tiny_network import build_mlp, to_inputs

ALL = 0  # in `BatchConfig.batch_sizes`: "all the training pictures at once"
BATCH_SIZE_CHOICES: tuple[int, ...] = (1, 4, 8, 16, 32, 64, 128, ALL)
PASS_CHOICES: tuple[int, ...] = (1, 2, 4, 8)


@dataclass(frozen=True)
class BatchConfig:
    """One comparison. Hashable, so it keys the page's store; printable, so the page can show it as code."""

    batch_sizes: tuple[int, ...] = (1, 8, 64, ALL)  # pictures per nudge; ALL (0) = every training picture
    passes: int = 4  # times it looks through all the pictures: the same budget for every batch size
    num_train: int = 512
    num_test: int = 256
    image_size: int = 32
    grass_rate: float = 0.5  # bunnies on grass half the time: no grass shortcut in this lesson
    hidden: int = 32  # neurons in the network's one hidden layer
    learning_rate: float = 0.003
    record_every: int = 32  # pictures seen between two points of a learning curve (at most)
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.batch_sizes:
            raise ValueError("choose at least one batch size")
        if len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ValueError(f"batch sizes must differ, got {self.batch_sizes}")
        if any(size < 0 or size > self.num_train for size in self.batch_sizes):
            raise ValueError(f"batch sizes must be between 1 and {self.num_train} (or {ALL} for all), got {self.batch_sizes}")
        if self.passes < 1 or self.num_train < 2 or self.num_test < 2 or self.hidden < 1 or self.record_every < 1:
            raise ValueError("passes, hidden and record_every must be at least 1; num_train and num_test at least 2")
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
    config: BatchConfig
    runs: tuple[Run, ...]
    seconds: float  # the whole comparison, curves included

    def best(self) -> Run:
        return max(self.runs, key=lambda run: run.final_accuracy)


@dataclass(frozen=True)
class BatchProgress:
    """One report during the comparison: which training is running and how far the whole comparison is."""

    run_index: int
    runs: int
    batch_size: int
    everything: bool
    seen: int  # pictures seen so far in this training
    examples_seen: int  # pictures this training will see
    fraction: float  # of the whole comparison


ProgressCallback = Callable[[BatchProgress], None]


def wobble(values: Sequence[float]) -> float:
    """Sum of the rises between consecutive values: 0 for a curve that only goes down."""
    array = np.asarray(values, dtype=np.float64)
    return float(np.clip(np.diff(array), 0.0, None).sum()) if len(array) > 1 else 0.0


def make_data(config: BatchConfig) -> BatchData:
    """Bunnies and elephants at `config.image_size` pixels, half of the bunnies on grass; deterministic."""
    train = draw_scenes(shortcut_specs(config.num_train, config.grass_rate, stream(config.seed, "batch-train")),
                        COARSE_CLASSES, config.image_size)
    test = draw_scenes(shortcut_specs(config.num_test, config.grass_rate, stream(config.seed, "batch-test")),
                       COARSE_CLASSES, config.image_size)
    return BatchData(train.images, train.labels, test.images, test.labels)


def build_network(config: BatchConfig, seed: int) -> nn.Sequential:
    """A tiny network: average 2×2 pixels, one hidden layer of `config.hidden` neurons, two outputs."""
    return build_mlp(config.image_size, config.hidden, len(COARSE_CLASSES), seed)


@torch.no_grad()
def _score(network: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    logits = network(inputs)
    return float(nn.functional.cross_entropy(logits, targets)), float((logits.argmax(1) == targets).float().mean())


def train_one(
    config: BatchConfig,
    data: BatchData,
    batch_size: int,
    on_seen: Callable[[int], None] | None = None,
) -> Run:
    """Train a fresh network with `batch_size` pictures per nudge (ALL = every picture) for `config.passes`
    passes. Every batch size starts from the same weights and sees the pictures in the same order.
    `on_seen(pictures_seen)` is called at each point of the curve (and may raise to stop)."""
    size = config.resolve(batch_size)
    inputs, targets = to_inputs(data.train_images), torch.as_tensor(data.train_labels, dtype=torch.long)
    test_inputs, test_targets = to_inputs(data.test_images), torch.as_tensor(data.test_labels, dtype=torch.long)
    if len(inputs) != config.num_train:
        raise ValueError(f"expected {config.num_train} training pictures, got {len(inputs)}")
    network = build_network(config, stream(config.seed, "batch-weights"))
    order_generator = torch.Generator().manual_seed(stream(config.seed, "batch-order"))
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate, fused=True)
    loss_function = nn.CrossEntropyLoss()
    loss, right = _score(network, test_inputs, test_targets)
    seen_points, losses, accuracies = [0], [loss], [right]
    seen, nudges, busy, next_point = 0, 0, 0.0, config.record_every
    for _ in range(config.passes):
        order = torch.randperm(len(inputs), generator=order_generator)
        for start in range(0, len(inputs), size):
            started = time.perf_counter()
            batch = order[start : start + size]
            batch_loss = loss_function(network(inputs[batch]), targets[batch])
            optimizer.zero_grad(set_to_none=True)
            batch_loss.backward()
            optimizer.step()
            busy += time.perf_counter() - started
            seen += len(batch)
            nudges += 1
            if seen >= next_point or seen == config.examples_seen:
                loss, right = _score(network, test_inputs, test_targets)
                seen_points.append(seen)
                losses.append(loss)
                accuracies.append(right)
                next_point = (seen // config.record_every + 1) * config.record_every
                if on_seen is not None:
                    on_seen(seen)
    return Run(
        batch_size=size,
        everything=size == config.num_train,
        nudges_per_pass=-(-config.num_train // size),
        nudges=nudges,
        examples_seen=seen,
        seen=tuple(seen_points),
        loss=tuple(losses),
        accuracy=tuple(accuracies),
        seconds=busy,
    )


def compare(config: BatchConfig, data: BatchData, on_progress: ProgressCallback | None = None) -> Comparison:
    """One training per batch size in `config.batch_sizes`, smallest first, on the same budget of pictures seen.
    `on_progress` gets about twenty reports per training (and may raise to stop)."""
    started = time.perf_counter()
    sizes = sorted(config.batch_sizes, key=config.resolve)
    runs = []
    total = config.examples_seen
    for index, batch_size in enumerate(sizes):
        size = config.resolve(batch_size)
        reported = [-1]

        def on_seen(seen: int, index: int = index, size: int = size) -> None:
            step = seen * 20 // total
            if on_progress is None or (step == reported[0] and seen != total):
                return
            reported[0] = step
            on_progress(BatchProgress(index, len(sizes), size, size == config.num_train, seen, total,
                                      (index + seen / total) / len(sizes)))

        with single_thread(), short_gil_slices():  # many small operations: see both in core.runtime
            runs.append(train_one(config, data, batch_size, on_seen))
    return Comparison(config, tuple(runs), time.perf_counter() - started)


def run_comparison(config: BatchConfig, on_progress: ProgressCallback | None = None) -> Comparison:
    """Draw the pictures and compare: the whole lesson in one call (for the tests and the command line)."""
    return compare(config, make_data(config), on_progress)

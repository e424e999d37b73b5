"""The splitting-the-data lesson: three piles of pictures — practice (train), mock exam (validation) and final
exam (test) — and a network big enough to memorise its practice pile.

config → three piles → one training, scored on every pile as it goes → early stopping on the mock exam →
the final exam's score at that moment. Every step is a plain function of its inputs and an explicit seed;
nothing here touches Streamlit.
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

PRACTICE_CHOICES: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)
GRASS_RATE = 0.5  # bunnies on grass half the time: no grass shortcut in this lesson


@dataclass(frozen=True)
class SplitConfig:
    """One training. Hashable, so it keys the page's store; printable, so the page can show it as code."""

    num_practice: int = 32  # pictures it learns from (the practice pile)
    shuffle_answers: bool = False  # give the practice pictures shuffled answers: only memorising can score
    num_validation: int = 256  # the mock exam: used to choose when to stop
    num_test: int = 256  # the final exam: opened once, at the chosen moment
    image_size: int = 32
    hidden: int = 256  # neurons in the one hidden layer: ~200,000 knobs, plenty to memorise a small pile
    nudges: int = 300  # the same length of practice whatever the pile's size
    batch_size: int = 32  # pictures per nudge (the whole pile when it is smaller)
    learning_rate: float = 0.001
    record_every: int = 10  # nudges between two points of the curves
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_practice < 2 or self.num_validation < 2 or self.num_test < 2:
            raise ValueError(f"every pile needs at least 2 pictures, got {self.num_practice}, "
                             f"{self.num_validation} and {self.num_test}")
        if self.image_size < 16 or self.image_size % 2:
            raise ValueError(f"image_size must be an even number of at least 16 pixels, got {self.image_size}")
        if min(self.hidden, self.nudges, self.batch_size, self.record_every) < 1:
            raise ValueError("hidden, nudges, batch_size and record_every must be at least 1")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate}")

    @property
    def pictures_per_nudge(self) -> int:
        return min(self.batch_size, self.num_practice)

    @property
    def passes(self) -> float:
        """Times the network looks through its whole practice pile."""
        return self.nudges * self.pictures_per_nudge / self.num_practice

    def data_key(self) -> tuple:
        """What the pictures depend on (the answers' shuffling and the training settings do not change them)."""
        return ("splits", self.num_practice, self.num_validation, self.num_test, self.image_size, self.seed)


@dataclass(frozen=True)
class Piles:
    """The three piles: (N, H, W, 3) uint8 pictures and their true (N,) int64 labels (0 bunny, 1 elephant)."""

    practice_images: np.ndarray
    practice_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def sizes(self) -> tuple[int, int, int]:
        return len(self.practice_labels), len(self.validation_labels), len(self.test_labels)


@dataclass(frozen=True)
class SplitRun:
    """One training, scored on all three piles every `record_every` nudges (accuracies are fractions)."""

    config: SplitConfig
    answers: tuple[int, ...]  # the answers the practice pictures were taught (shuffled or true)
    nudges: tuple[int, ...]  # nudges made at each point of the curves (starts at 0: before any nudge)
    practice: tuple[float, ...]  # right on the practice pile, against the answers it was taught
    validation: tuple[float, ...]  # right on the mock exam
    test: tuple[float, ...]  # right on the final exam (drawn for the lesson; in real life not looked at)
    wrong_answers: float  # share of practice pictures taught a wrong answer (0 unless shuffled)
    seconds: float  # wall-clock time of the nudges alone (not of scoring the piles)

    @property
    def best(self) -> int:
        """Index of the chosen moment: where the mock exam is best (the first such point)."""
        return early_stop(self.validation)

    @property
    def stopped_at(self) -> int:
        """Nudges made at the chosen moment."""
        return self.nudges[self.best]

    @property
    def mock_score(self) -> float:
        return self.validation[self.best]

    @property
    def exam_score(self) -> float:
        """The one number to report: the final exam at the moment chosen on the mock exam."""
        return self.test[self.best]

    @property
    def final_practice(self) -> float:
        return self.practice[-1]

    @property
    def final_test(self) -> float:
        return self.test[-1]

    @property
    def gap(self) -> float:
        """Practice score minus final-exam score after all the practice: how much of it was memorised."""
        return self.final_practice - self.final_test


@dataclass(frozen=True)
class SplitProgress:
    nudges: int
    total: int

    @property
    def fraction(self) -> float:
        return self.nudges / self.total


ProgressCallback = Callable[[SplitProgress], None]


def make_piles(config: SplitConfig) -> Piles:
    """Bunnies and elephants, half of the bunnies on grass; three independent draws. The practice pile of
    n pictures is the start of every larger one (same seed), so more pictures only ever adds pictures."""
    piles = []
    for name, size in (("practice", config.num_practice), ("validation", config.num_validation),
                       ("test", config.num_test)):
        scenes = draw_scenes(shortcut_specs(size, GRASS_RATE, stream(config.seed, f"splits-{name}")),
                             COARSE_CLASSES, config.image_size)
        piles += [scenes.images, scenes.labels]
    return Piles(*piles)


def practice_answers(config: SplitConfig, labels: np.ndarray) -> np.ndarray:
    """The answers the network is taught: the true labels, or the same labels in a shuffled order
    (so there are as many bunnies as before, but about half of the pictures get the wrong name)."""
    if not config.shuffle_answers:
        return labels.copy()
    order = np.random.default_rng(stream(config.seed, "splits-shuffle")).permutation(len(labels))
    return labels[order]


def early_stop(validation: Sequence[float]) -> int:
    """Index of the best mock-exam score; the earliest one on a tie (stop as soon as it is reached)."""
    if len(validation) == 0:
        raise ValueError("no mock-exam scores to choose from")
    return int(np.argmax(np.asarray(validation)))


def build_network(config: SplitConfig, seed: int) -> nn.Sequential:
    """Average 2×2 pixels, one wide hidden layer, two outputs: many knobs and no built-in idea of shape, so a
    small pile can be learnt by heart."""
    return build_mlp(config.image_size, config.hidden, len(COARSE_CLASSES), seed)


def count_knobs(config: SplitConfig) -> int:
    """Weights and biases of the network: (3·(s/2)² + 1)·hidden + (hidden + 1)·2."""
    inputs = 3 * (config.image_size // 2) ** 2
    return (inputs + 1) * config.hidden + (config.hidden + 1) * len(COARSE_CLASSES)


@torch.no_grad()
def _right(network: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    return float((network(inputs).argmax(1) == targets).float().mean())


def train(config: SplitConfig, piles: Piles, on_progress: ProgressCallback | None = None) -> SplitRun:
    """Train a fresh network on the practice pile for `config.nudges` nudges, scoring all three piles every
    `config.record_every` nudges. `on_progress` is called at each point (and may raise to stop)."""
    if piles.sizes() != (config.num_practice, config.num_validation, config.num_test):
        raise ValueError(f"the piles hold {piles.sizes()} pictures, the config asks for "
                         f"{(config.num_practice, config.num_validation, config.num_test)}")
    answers = practice_answers(config, piles.practice_labels)
    inputs, targets = to_inputs(piles.practice_images), torch.as_tensor(answers, dtype=torch.long)
    exams = [(to_inputs(images), torch.as_tensor(labels, dtype=torch.long)) for images, labels in
             ((piles.validation_images, piles.validation_labels), (piles.test_images, piles.test_labels))]
    network = build_network(config, stream(config.seed, "splits-weights"))
    order_generator = torch.Generator().manual_seed(stream(config.seed, "splits-order"))
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    loss_function = nn.CrossEntropyLoss()
    size = config.pictures_per_nudge
    curves: tuple[list[int], list[float], list[float], list[float]] = ([], [], [], [])

    def score(nudges: int) -> None:
        curves[0].append(nudges)
        for curve, (pictures, labels) in zip(curves[1:], [(inputs, targets), *exams]):
            curve.append(_right(network, pictures, labels))
        if on_progress is not None:
            on_progress(SplitProgress(nudges, config.nudges))

    score(0)
    nudges, busy = 0, 0.0
    with single_thread(), short_gil_slices():  # many small operations: see both in core.runtime
        while nudges < config.nudges:
            order = torch.randperm(len(inputs), generator=order_generator)  # one pass through the pile
            for start in range(0, len(inputs) - size + 1, size):  # full batches; a remainder waits a pass
                started = time.perf_counter()
                batch = order[start : start + size]
                loss = loss_function(network(inputs[batch]), targets[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                busy += time.perf_counter() - started
                nudges += 1
                if nudges % config.record_every == 0 or nudges == config.nudges:
                    score(nudges)
                if nudges == config.nudges:
                    break
    return SplitRun(config, tuple(int(answer) for answer in answers), tuple(curves[0]), tuple(curves[1]),
                    tuple(curves[2]), tuple(curves[3]),
                    float(np.mean(answers != piles.practice_labels)), busy)


def run_split(config: SplitConfig, on_progress: ProgressCallback | None = None) -> SplitRun:
    """Draw the piles and train: the whole lesson in one call (for the tests and the command line)."""
    return train(config, make_piles(config), on_progress)

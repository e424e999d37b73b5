"""The splitting-the-data lesson: three piles of pictures — practice (train), mock exam (validation) and final
exam (test) — and a network big enough to memorise its practice pile.

settings → three piles → one training, scored on every pile as it goes → early stopping on the mock exam →
the final exam's score at that moment → takeaways. Every step is a plain function of its inputs and an explicit
seed; nothing here touches Streamlit.
"""

from __future__ import annotations

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

PRACTICE_CHOICES: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)
GRASS_RATE = 0.5  # bunnies on grass half the time: no grass shortcut in this lesson
MEMORISED = 0.15  # a gap of 15 points or more between practice and final exam: it learnt by heart
GENERALISED = 0.06  # a gap of 6 points or less: what it learnt works on new pictures too
FLATTERS = 0.03  # the best mock exam beats the final exam at that moment by 3 points or more: say so


@dataclass(frozen=True)
class SplitSettings:
    """One training. Hashable, so it keys the page's store; printable, so the page can show it as code."""

    num_practice: int = setting(32, "pictures it learns from (the practice pile)", flag="pictures")
    shuffle_answers: bool = setting(False, "give the practice pictures shuffled answers (yes/no): only memorising "
                                           "can score", flag="shuffle")
    num_validation: int = setting(256, "pictures of the mock exam (validation), used to choose when to stop")
    num_test: int = setting(256, "pictures of the final exam (test), opened once at the chosen moment")
    image_size: int = setting(32, "side of the pictures in pixels (even, at least 16)")
    hidden: int = setting(256, "neurons in the one hidden layer (256: ~200,000 knobs, plenty to memorise)")
    nudges: int = setting(300, "nudges of the knobs: the same length of practice whatever the pile's size")
    batch_size: int = setting(32, "pictures per nudge (the whole pile when it is smaller)")
    learning_rate: float = setting(0.001, "Adam's step size")
    record_every: int = setting(10, "nudges between two points of the curves")
    seed: int = setting(0, "seed of the piles, the first weights, the order of the pictures and the shuffling")

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

    settings: SplitSettings
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

    @property
    def verdict(self) -> str:
        """What the gap says: "shuffled" (nothing to learn), "memorised", "generalised" or "partly"."""
        if self.settings.shuffle_answers:
            return "shuffled"
        if self.gap >= MEMORISED:
            return "memorised"
        if self.gap <= GENERALISED:
            return "generalised"
        return "partly"


def make_piles(settings: SplitSettings) -> Piles:
    """Bunnies and elephants, half of the bunnies on grass; three independent draws. The practice pile of
    n pictures is the start of every larger one (same seed), so more pictures only ever adds pictures."""
    piles = []
    for name, size in (("practice", settings.num_practice), ("validation", settings.num_validation),
                       ("test", settings.num_test)):
        scenes = draw_scenes(shortcut_specs(size, GRASS_RATE, stream(settings.seed, f"splits-{name}")),
                             COARSE_CLASSES, settings.image_size)
        piles += [scenes.images, scenes.labels]
    return Piles(*piles)


def practice_answers(settings: SplitSettings, labels: np.ndarray) -> np.ndarray:
    """The answers the network is taught: the true labels, or the same labels in a shuffled order
    (so there are as many bunnies as before, but about half of the pictures get the wrong name)."""
    if not settings.shuffle_answers:
        return labels.copy()
    order = np.random.default_rng(stream(settings.seed, "splits-shuffle")).permutation(len(labels))
    return labels[order]


def wrong_share(answers: np.ndarray, labels: np.ndarray) -> float:
    """The share of pictures taught an answer that is not their true label."""
    return float(np.mean(answers != labels))


def early_stop(validation: Sequence[float]) -> int:
    """Index of the best mock-exam score; the earliest one on a tie (stop as soon as it is reached)."""
    if len(validation) == 0:
        raise ValueError("no mock-exam scores to choose from")
    return int(np.argmax(np.asarray(validation)))


def build_network(settings: SplitSettings, seed: int) -> nn.Sequential:
    """Average 2×2 pixels, one wide hidden layer, two outputs: many knobs and no built-in idea of shape, so a
    small pile can be learnt by heart."""
    return build_mlp(settings.image_size, settings.hidden, len(COARSE_CLASSES), seed)


def count_knobs(settings: SplitSettings) -> int:
    """Weights and biases of the network: (3·(s/2)² + 1)·hidden + (hidden + 1)·2."""
    inputs = 3 * (settings.image_size // 2) ** 2
    return (inputs + 1) * settings.hidden + (settings.hidden + 1) * len(COARSE_CLASSES)


@torch.no_grad()
def _right(network: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    return float((network(inputs).argmax(1) == targets).float().mean())


def train(settings: SplitSettings, piles: Piles, on_progress: ProgressCallback | None = None) -> SplitRun:
    """Train a fresh network on the practice pile for exactly `settings.nudges` nudges of full batches (a
    remainder waits for the next pass), scoring all three piles before the first nudge and every
    `settings.record_every` nudges. `on_progress` gets a `Progress` in nudges at each point (and may raise to
    stop the training there)."""
    if piles.sizes() != (settings.num_practice, settings.num_validation, settings.num_test):
        raise ValueError(f"the piles hold {piles.sizes()} pictures, the settings ask for "
                         f"{(settings.num_practice, settings.num_validation, settings.num_test)}")
    answers = practice_answers(settings, piles.practice_labels)
    inputs, targets = to_inputs(piles.practice_images), torch.as_tensor(answers, dtype=torch.long)
    exams = [(to_inputs(images), torch.as_tensor(labels, dtype=torch.long)) for images, labels in
             ((piles.validation_images, piles.validation_labels), (piles.test_images, piles.test_labels))]
    network = build_network(settings, stream(settings.seed, "splits-weights"))
    order = torch.Generator().manual_seed(stream(settings.seed, "splits-order"))
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    loss_function = nn.CrossEntropyLoss()
    batches = Batches(settings.num_practice, settings.pictures_per_nudge, order, drop_last=True)
    stage = f"Practising on {settings.num_practice:,} pictures"
    curves: tuple[list[int], list[float], list[float], list[float]] = ([], [], [], [])

    def score(nudges: int) -> None:
        curves[0].append(nudges)
        for curve, (pictures, labels) in zip(curves[1:], [(inputs, targets), *exams]):
            curve.append(_right(network, pictures, labels))
        if on_progress is not None:
            on_progress(Progress(nudges, settings.nudges, epoch=nudges / batches.per_pass, stage=stage))

    def after_step(nudges: int) -> None:
        if nudges % settings.record_every == 0 or nudges == settings.nudges:
            score(nudges)  # all three piles, every `record_every` nudges and after the last

    score(0)
    with single_thread(), short_gil_slices():  # many small operations: see both in core.runtime
        fitted = fit(lambda batch: loss_function(network(inputs[batch]), targets[batch]), optimizer, batches,
                     settings.nudges, after_step=after_step)
    return SplitRun(settings, tuple(int(answer) for answer in answers), tuple(curves[0]), tuple(curves[1]),
                    tuple(curves[2]), tuple(curves[3]),
                    wrong_share(answers, piles.practice_labels), fitted.seconds)


def run_split(settings: SplitSettings, on_progress: ProgressCallback | None = None) -> SplitRun:
    """Draw the piles and train: the whole lesson in one call (the lesson's `run`)."""
    return train(settings, make_piles(settings), on_progress)


# ------------------------------------------------------------------------------------------------ takeaways
def takeaways(run: SplitRun) -> list[str]:
    """A few plain sentences (Markdown, **bold** leads) about what these very curves show."""
    settings = run.settings
    practice, exam, gap = run.final_practice, run.final_test, round(100 * run.gap)
    pictures = f"{settings.num_practice:,} practice pictures"
    lines = []
    if run.verdict == "shuffled":
        lines.append(f"**Nothing to learn, only to memorise.** The answers were shuffled, so {run.wrong_answers:.0%} "
                     f"of the {pictures} carry the wrong name. ")
        if practice >= 0.99:
            lines[-1] += (f"It still gets {practice:.0%} of them “right” — learnt by heart — while the final "
                          f"exam scores {exam:.0%}, about what guessing gives.")
        else:
            lines[-1] += (f"Learning that many random answers by heart takes far longer: after {settings.nudges} "
                          f"nudges it gets {practice:.0%} of them, and {exam:.0%} of the final exam (guessing gives "
                          "50%).")
    elif run.verdict == "memorised":
        lines.append(f"**It memorised.** After {settings.nudges} nudges it gets {practice:.0%} of its {pictures} "
                     f"right, but only {exam:.0%} of the final exam: a gap of **{gap} points**. Give it more pictures "
                     "to practise on (slider) and watch the gap close.")
    elif run.verdict == "generalised":
        lines.append(f"**It learnt, not memorised.** With {pictures} — too many, and too varied, to learn by "
                     f"heart — practice ({practice:.0%}) and final exam ({exam:.0%}) differ by only {gap} "
                     f"point{'s' if gap != 1 else ''}.")
    else:
        lines.append(f"**Partly memorised.** Practice {practice:.0%}, final exam {exam:.0%}: a gap of {gap} points. "
                     "More pictures to practise on close it further.")
    if run.best == 0:
        why = "there was nothing to learn" if settings.shuffle_answers else "practice never beat the untrained network"
        lines.append(f"**When to stop:** the mock exam was best *before any practice* ({run.mock_score:.0%}) — "
                     f"{why}. The final exam at that moment: {run.exam_score:.0%}.")
    else:
        lines.append(f"**When to stop:** the mock exam was best after {run.stopped_at} nudges "
                     f"({run.mock_score:.0%}); stopping there, the final exam — opened once — says "
                     f"**{run.exam_score:.0%}**.")
    if run.mock_score - run.exam_score >= FLATTERS:
        lines.append(f"The mock exam flatters ({run.mock_score:.0%} vs {run.exam_score:.0%}): we picked its best "
                     f"moment out of {len(run.nudges)}. Only an exam used once gives an honest score.")
    return lines

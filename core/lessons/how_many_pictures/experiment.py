"""The "how many pictures?" lesson: learning curves of a coarse task (bunny vs elephant) and a fine one (two
bunny breeds that differ only in their ear tips), plus the breeds learned starting from the bunny-vs-elephant
network.

settings → two picture pools and two fixed test sets → many small trainings (one per task, size and seed, two at
a time in threads) → points of the curves, as they finish → the pictures each task needed to reach the target.
Every training is a plain function of its pictures and an explicit seed; nothing here touches Streamlit.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from core.fit import Batches, Progress, ProgressCallback, fit
from core.lesson import setting
from core.lessons.how_many_pictures.maps import MapComparison, compare_maps
from core.models import ModelConfig, SmallCNN, build_model
from core.runtime import short_gil_slices, single_thread
from core.scenes import (
    COARSE_CLASSES,
    SceneSpec,
    clear_breed_specs,
    draw_scene,
    shortcut_specs,
)
from core.seeds import stream
from core.training import accuracy, one_cycle, predict_proba, recalibrate_batch_norm, to_tensor

COARSE, FINE, TRANSFER = "coarse", "fine", "transfer"
CURVES: tuple[str, ...] = (COARSE, FINE, TRANSFER)
CURVE_NAMES: dict[str, str] = {
    COARSE: "bunny vs elephant",
    FINE: "bunny breed vs bunny breed",
    TRANSFER: "breeds, starting from the bunny-vs-elephant network",
}
TASK_OF: dict[str, str] = {COARSE: COARSE, FINE: FINE, TRANSFER: FINE}  # which pictures each curve learns
TARGET = 0.9  # the accuracy the headline asks about, unless chosen otherwise
MAX_JOBS = 2  # trainings at once: one per core of the 2-core server, each on one torch thread


@dataclass(frozen=True)
class HowManySettings:
    """One set of learning curves. Hashable, so it keys the page's store; printable, so the page shows it as code."""

    sizes: tuple[int, ...] = setting((5, 10, 30, 100, 300, 1000),
                                     "pictures of each class to train on, one point per size, comma-separated")
    seeds: int = setting(3, "trainings per point, each from its own seed (pictures, first weights, order): "
                            "the band shows their spread")
    transfer: bool = setting(True, "add the curve of the breeds learned starting from the bunny-vs-elephant network")
    min_passes: int = setting(4, "every training looks through all its pictures at least this many times")
    min_nudges: int = setting(120, "and makes at least this many nudges (so small sets are not under-trained "
                                   "either)")
    batch_size: int = setting(32, "pictures per nudge")
    learning_rate: float = setting(0.01, "Adam's step size (top of the one-cycle schedule)")
    image_size: int = setting(48, "side of the pictures in pixels")
    width: int = setting(8, "filters in the network's first layer (doubling in each later one)")
    num_test: int = setting(400, "new pictures of each task the accuracy is measured on (one fixed set per task)")
    target: float = setting(TARGET, "the accuracy the headline asks about, 0.5..1")
    map_sizes: tuple[int, ...] = setting((30, 1000), "the small and the large size whose breed networks get maps")
    map_pictures: int = setting(24, "breed pictures the evidence on the ear tips is measured on")
    seed: int = setting(0, "seed of everything: the pools, the test sets, each training's seeds")

    def __post_init__(self) -> None:
        if not self.sizes or any(size < 1 for size in self.sizes):
            raise ValueError(f"choose at least one size of one picture or more per class, got {self.sizes}")
        if list(self.sizes) != sorted(set(self.sizes)):
            raise ValueError(f"sizes must go up and differ, got {self.sizes}")
        if self.sizes[-1] > 5000:
            raise ValueError(f"at most 5,000 pictures per class, got {self.sizes[-1]}")
        if not 1 <= self.seeds <= 10:
            raise ValueError(f"seeds must be between 1 and 10, got {self.seeds}")
        if self.min_passes < 1 or self.min_nudges < 1 or self.batch_size < 1 or self.width < 1:
            raise ValueError("min_passes, min_nudges, batch_size and width must each be at least 1")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate}")
        if self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {self.image_size}")
        if self.num_test < 2 or self.map_pictures < 1 or self.map_pictures > self.num_test:
            raise ValueError("num_test must be at least 2 and map_pictures between 1 and num_test")
        if not 0.5 < self.target < 1:
            raise ValueError(f"target must be between 0.5 and 1, got {self.target}")
        if len(self.map_sizes) != 2 or any(size not in self.sizes for size in self.map_sizes) \
                or self.map_sizes[0] >= self.map_sizes[1]:
            raise ValueError(f"map_sizes must be a small and a larger size out of sizes, got {self.map_sizes}")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")

    @property
    def curves(self) -> tuple[str, ...]:
        return CURVES if self.transfer else (COARSE, FINE)

    @property
    def model_config(self) -> ModelConfig:
        return ModelConfig(num_classes=2, width=self.width)

    def nudges(self, per_class: int) -> int:
        """Nudges of one training on `per_class` pictures of each class: at least `min_passes` passes and at
        least `min_nudges` nudges."""
        pictures = 2 * per_class
        per_pass = -(-pictures // min(self.batch_size, pictures))
        return max(self.min_passes * per_pass, self.min_nudges)

    @property
    def trainings(self) -> int:
        return len(self.curves) * len(self.sizes) * self.seeds

    def data_key(self) -> tuple:
        """What the test pictures depend on."""
        return ("how_many_pictures_tests", self.image_size, self.num_test, self.seed)

    def training_key(self) -> HowManySettings:
        """What the trainings depend on: these settings with the default target (the target only changes the
        headline, read from the same curves)."""
        return replace(self, target=TARGET)


# ------------------------------------------------------------------------------------------------ pictures
def _label(spec: SceneSpec, task: str) -> int:
    return COARSE_CLASSES.index(spec.animal) if task == COARSE else spec.breed


def task_specs(task: str, count: int, seed: int) -> list[SceneSpec]:
    """`count` scenes of one task, the two classes alternating: bunny/elephant (half the bunnies on grass, half
    the elephants too: no grass shortcut) or meadow/hollow bunnies."""
    if task == COARSE:
        return shortcut_specs(count, 0.5, seed)
    if task == FINE:
        return clear_breed_specs(count, seed)
    raise ValueError(f"unknown task {task!r}; expected {COARSE!r} or {FINE!r}")


class Pool:
    """The training pictures of one task, drawn only when a training first asks for them (so the first small
    trainings start at once), each picture once, safely from several threads."""

    def __init__(self, task: str, specs: Sequence[SceneSpec], image_size: int) -> None:
        self.task, self.specs, self.image_size = task, tuple(specs), image_size
        self.labels = np.array([_label(spec, task) for spec in self.specs], dtype=np.int64)  # (N,)
        self._images = np.zeros((len(self.specs), image_size, image_size, 3), dtype=np.uint8)  # (N, H, W, 3)
        self._drawn = np.zeros(len(self.specs), dtype=bool)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.specs)

    def take(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, H, W, 3) uint8 pictures and (K,) labels at `indices`, drawing those not drawn yet."""
        with self._lock:
            for index in indices[~self._drawn[indices]]:
                self._images[index] = draw_scene(self.specs[index], self.image_size)[0]
                self._drawn[index] = True
            return self._images[indices].copy(), self.labels[indices]

    @property
    def drawn(self) -> int:
        with self._lock:
            return int(self._drawn.sum())


@dataclass(frozen=True)
class TestSet:
    """One task's fixed test pictures: (N, H, W, 3) uint8, (N,) labels, and the specs they were drawn from."""

    images: np.ndarray
    labels: np.ndarray
    specs: tuple[SceneSpec, ...]


def make_test_set(task: str, settings: HowManySettings) -> TestSet:
    specs = task_specs(task, settings.num_test, stream(settings.seed, f"how-many-{task}-test"))
    images = np.stack([draw_scene(spec, settings.image_size)[0] for spec in specs])
    return TestSet(images, np.array([_label(spec, task) for spec in specs], dtype=np.int64), tuple(specs))


def make_tests(settings: HowManySettings) -> dict[str, TestSet]:
    """Both tasks' fixed test sets (what `settings.data_key()` names)."""
    return {task: make_test_set(task, settings) for task in (COARSE, FINE)}


def make_pool(task: str, settings: HowManySettings) -> Pool:
    """Enough pictures for the largest size, nothing drawn yet; every seed's training set is a subset of it."""
    return Pool(task, task_specs(task, 2 * settings.sizes[-1], stream(settings.seed, f"how-many-{task}-pool")),
                settings.image_size)


def subset(pool: Pool, per_class: int, seed: int) -> np.ndarray:
    """Indices of `per_class` pictures of each class, chosen at random by `seed`; for one seed a larger set
    contains every smaller one (each class's pictures are taken in one shuffled order)."""
    generator = np.random.default_rng(seed)
    chosen = []
    for label in (0, 1):
        members = np.flatnonzero(pool.labels == label)
        if per_class > len(members):
            raise ValueError(f"the pool holds only {len(members)} pictures of class {label}, asked for {per_class}")
        chosen.append(generator.permutation(members)[:per_class])
    return np.sort(np.concatenate(chosen))


# ------------------------------------------------------------------------------------------------ one training
class Stopped(Exception):
    """The lesson was stopped (the page reran or was closed) while this training ran."""


def train_network(
    settings: HowManySettings,
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    start: dict[str, torch.Tensor] | None = None,
    stop: threading.Event | None = None,
) -> SmallCNN:
    """A network trained on (N, H, W, 3) uint8 `images`: fresh weights from `seed`, or `start`'s weights with a
    fresh last layer (the transfer curve), then `settings.nudges(N // 2)` nudges with Adam and a one-cycle
    learning rate; the pictures' order comes from its own `torch.Generator`, so threads never share random
    state. Returns the network in eval mode; raises `Stopped` soon after `stop` is set."""
    inputs = to_tensor(images)  # (N, 3, H, W) in [0, 1], channels-last
    targets = torch.as_tensor(labels, dtype=torch.long)
    model = build_model(settings.model_config, stream(seed, "weights"))
    if start is not None:  # keep what the bunny-vs-elephant network learned; only its answer layer starts afresh
        model.load_state_dict({name: value for name, value in start.items() if not name.startswith("classifier")},
                              strict=False)
    model.train()
    order = torch.Generator().manual_seed(stream(seed, "order"))
    batches = Batches(len(inputs), min(settings.batch_size, len(inputs)), order)
    total = settings.nudges(len(inputs) // 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    loss_function = nn.CrossEntropyLoss()

    def check_stop(step: int) -> None:
        if stop is not None and stop.is_set():
            raise Stopped

    fit(lambda batch: loss_function(model(inputs[batch]), targets[batch]), optimizer, batches, total,
        schedule=one_cycle(optimizer, settings.learning_rate, total), after_step=check_stop)
    recalibrate_batch_norm(model, inputs, 64)
    return model.eval()


@dataclass(frozen=True)
class Point:
    """One finished training: a point of one curve for one seed."""

    curve: str
    per_class: int
    replicate: int  # 0..seeds-1
    accuracy: float  # on the task's fixed test set
    nudges: int
    seconds: float


# ------------------------------------------------------------------------------------------------ the curves
@dataclass(frozen=True)
class Band:
    """One curve over its seeds: at each size the mean, lowest and highest accuracy (only sizes with a point)."""

    curve: str
    sizes: tuple[int, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    counts: tuple[int, ...]  # seeds finished at each size


def band(points: Sequence[Point], curve: str) -> Band:
    """The band of one curve from whatever points are finished so far."""
    by_size: dict[int, list[float]] = {}
    for point in points:
        if point.curve == curve:
            by_size.setdefault(point.per_class, []).append(point.accuracy)
    sizes = tuple(sorted(by_size))
    return Band(curve, sizes, tuple(float(np.mean(by_size[s])) for s in sizes),
                tuple(float(min(by_size[s])) for s in sizes), tuple(float(max(by_size[s])) for s in sizes),
                tuple(len(by_size[s]) for s in sizes))


def pictures_to_reach(sizes: Sequence[int], accuracies: Sequence[float], target: float) -> float | None:
    """Pictures per class where the curve first reaches `target`, read between its points on the log axis
    (the size itself when its first point is already there); None when it never gets there."""
    for index, (size, value) in enumerate(zip(sizes, accuracies)):
        if value >= target:
            if index == 0:
                return float(size)
            before, previous = sizes[index - 1], accuracies[index - 1]
            share = (target - previous) / (value - previous)
            return float(math.exp(math.log(before) + share * (math.log(size) - math.log(before))))
    return None


@dataclass(frozen=True)
class Curves:
    """Every point of the lesson, the breed maps, and how long it all took."""

    settings: HowManySettings
    points: tuple[Point, ...]
    maps: MapComparison | None
    seconds: float
    first_point_seconds: float

    def band(self, curve: str) -> Band:
        return band(self.points, curve)

    def needed(self, curve: str, target: float | None = None) -> float | None:
        """Pictures per class the curve's mean needs to reach `target` (default: the settings' target)."""
        curve_band = self.band(curve)
        return pictures_to_reach(curve_band.sizes, curve_band.mean, self.settings.target if target is None else target)

    def needed_per_seed(self, curve: str, target: float | None = None) -> list[float | None]:
        """The same, for each seed's own curve."""
        goal = self.settings.target if target is None else target
        return [pictures_to_reach(*zip(*sorted((p.per_class, p.accuracy) for p in self.points
                                                 if p.curve == curve and p.replicate == replicate)), goal)
                for replicate in range(self.settings.seeds)]

    def ratio(self, target: float | None = None) -> float | None:
        """How many times more pictures the breeds needed than bunny vs elephant to reach the target."""
        coarse, fine = self.needed(COARSE, target), self.needed(FINE, target)
        return None if coarse is None or fine is None else fine / coarse


def _jobs(settings: HowManySettings) -> list[tuple[str, int, int]]:
    """(curve, pictures per class, seed number) in the order they are started: smallest sizes first, so the
    first points appear at once; each seed's largest bunny-vs-elephant training early, because its network
    is where that seed's transfer curve starts; each transfer point one size behind the others."""
    largest = settings.sizes[-1]
    order: list[tuple[str, int, int]] = []
    for replicate in range(settings.seeds):
        order += [(COARSE, settings.sizes[0], replicate), (FINE, settings.sizes[0], replicate)]
        if settings.transfer and largest != settings.sizes[0]:
            order.append((COARSE, largest, replicate))
    for rank, size in enumerate(settings.sizes):
        for replicate in range(settings.seeds):
            order += [(curve, size, replicate) for curve in (COARSE, FINE) if (curve, size, replicate) not in order]
        if settings.transfer and rank >= 1:
            order += [(TRANSFER, settings.sizes[rank - 1], replicate) for replicate in range(settings.seeds)]
    if settings.transfer:
        order += [(TRANSFER, largest, replicate) for replicate in range(settings.seeds)]
    return order


PointCallback = Callable[[tuple[Point, ...]], None]


def learning_curves(
    settings: HowManySettings,
    on_progress: ProgressCallback | None = None,
    on_point: PointCallback | None = None,
    tests: dict[str, TestSet] | None = None,
) -> Curves:
    """Every training of the lesson, at most `MAX_JOBS` at once (threads, each computing on one torch thread).
    After each one finishes, on the calling thread: `on_point(points so far)` (a live chart), then
    `on_progress` (trainings done of all); either may raise to stop, which stops the running trainings too.
    `tests` are the test sets `make_tests(settings)` gives, if already drawn (the page keeps them)."""
    started = time.perf_counter()
    jobs = _jobs(settings)
    if tests is None:
        if on_progress is not None:
            on_progress(Progress(0, len(jobs), stage=f"Drawing {2 * settings.num_test:,} test pictures",
                                 unit="networks"))
        tests = make_tests(settings)
    elif any(len(tests[task].labels) != settings.num_test for task in (COARSE, FINE)):
        raise ValueError(f"expected test sets of {settings.num_test} pictures")
    pools = {task: make_pool(task, settings) for task in (COARSE, FINE)}
    stop = threading.Event()
    bases: dict[int, _StateFuture] = {}  # seed number → state of its largest bunny-vs-elephant network
    kept: dict[int, dict[str, torch.Tensor]] = {}  # map size → the first seed's breed network
    base_results: dict[int, dict[str, torch.Tensor]] = {}  # seed number → its largest bunny-vs-elephant network

    def one(curve: str, per_class: int, replicate: int) -> Point:
        job_started = time.perf_counter()
        seed = stream(settings.seed, f"how-many-{curve}-{per_class}-{replicate}")
        pool = pools[TASK_OF[curve]]
        images, labels = pool.take(subset(pool, per_class, stream(settings.seed, f"how-many-{TASK_OF[curve]}"
                                                                               f"-subset-{replicate}")))
        start = bases[replicate].result() if curve == TRANSFER else None
        with single_thread(), short_gil_slices():  # one torch thread per job; see core.runtime
            model = train_network(settings, images, labels, seed, start, stop)
            test = tests[TASK_OF[curve]]
            right = accuracy(predict_proba(model, test.images), test.labels)
        state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        if curve == COARSE and per_class == settings.sizes[-1]:
            base_results[replicate] = state
        if curve == FINE and replicate == 0 and per_class in settings.map_sizes:
            kept[per_class] = state
        return Point(curve, per_class, replicate, right, settings.nudges(per_class), time.perf_counter() - job_started)

    points: list[Point] = []
    first_point = math.nan
    executor = ThreadPoolExecutor(max_workers=MAX_JOBS, thread_name_prefix="how-many")
    try:
        futures: dict[Future, tuple[str, int, int]] = {}
        for job in jobs:
            future = executor.submit(one, *job)
            futures[future] = job
            if job[0] == COARSE and job[1] == settings.sizes[-1]:
                bases[job[2]] = _StateFuture(future, base_results, job[2])
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda item: jobs.index(futures[item])):
                points.append(future.result())
            if done:
                if math.isnan(first_point):
                    first_point = time.perf_counter() - started
                if on_point is not None:
                    on_point(tuple(points))
                if on_progress is not None:
                    on_progress(Progress(len(points), len(jobs), stage="Training", unit="networks"))
    except BaseException:
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    shown = sorted(jobs, key=lambda job: (CURVES.index(job[0]), job[1], job[2]))  # curve, size, seed
    order = {job: index for index, job in enumerate(shown)}
    points.sort(key=lambda point: order[(point.curve, point.per_class, point.replicate)])
    maps = compare_maps(settings, kept, tests[FINE]) if len(kept) == 2 else None
    return Curves(settings, tuple(points), maps, time.perf_counter() - started, first_point)


class _StateFuture:
    """The weights a finished bunny-vs-elephant training left for its seed's transfer trainings."""

    def __init__(self, future: Future, states: dict[int, dict[str, torch.Tensor]], replicate: int) -> None:
        self.future, self.states, self.replicate = future, states, replicate

    def result(self) -> dict[str, torch.Tensor]:
        self.future.result()  # waits (and re-raises its error)
        return self.states[self.replicate]


# ------------------------------------------------------------------------------------------------ in words
def needed_words(count: float | None, largest: int) -> str:
    """'about 700 pictures of each', or 'more than 1,000 pictures of each' when the curve never got there."""
    if count is None:
        return f"more than {largest:,} pictures of each"
    return f"about {_round_nicely(count):,} pictures of each"


def _round_nicely(value: float) -> int:
    """2 significant digits: 47 → 47, 183 → 180, 1234 → 1200."""
    if value < 10:
        return max(1, round(value))
    digits = int(math.floor(math.log10(value))) - 1
    return int(round(value, -digits))


def headline(curves: Curves, goal: float | None = None) -> str:
    """The lesson's headline, computed from these very curves (Markdown), for the target `goal` (default: the
    settings' own)."""
    settings = curves.settings
    goal = settings.target if goal is None else goal
    target = f"{goal:.0%}"
    coarse, fine = curves.needed(COARSE, goal), curves.needed(FINE, goal)
    largest = settings.sizes[-1]
    if coarse is None:
        return (f"**Even bunny vs elephant did not reach {target} here** with up to {largest:,} pictures of each — "
                "try more pictures or another seed.")
    if fine is None:
        return (f"**To reach {target}, bunny vs elephant needed about {_round_nicely(coarse):,} pictures of each; "
                f"the breeds did not get there even with {largest:,}.**")
    ratio = fine / coarse
    return (f"**To reach {target} the breeds needed about {_ratio_words(ratio)} more pictures** than bunny vs "
            f"elephant: about {_round_nicely(fine):,} of each breed against {_round_nicely(coarse):,} of each animal.")


def _ratio_words(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 10 else f"{round(ratio):,}×"


def transfer_line(curves: Curves, goal: float | None = None) -> str | None:
    """What starting from the bunny-vs-elephant network changed, in one sentence (Markdown); None without it."""
    if not curves.settings.transfer:
        return None
    goal = curves.settings.target if goal is None else goal
    target = f"{goal:.0%}"
    fine, transfer = curves.needed(FINE, goal), curves.needed(TRANSFER, goal)
    largest = curves.settings.sizes[-1]
    fine_band, transfer_band = curves.band(FINE), curves.band(TRANSFER)
    same_sizes = fine_band.sizes == transfer_band.sizes
    gain = float(np.mean(np.array(transfer_band.mean) - np.array(fine_band.mean))) if same_sizes else 0.0
    words = (f"to reach {target} the breeds needed {needed_words(fine, largest)} from nothing, and "
             f"{needed_words(transfer, largest)} starting from the bunny-vs-elephant network")
    if transfer is not None and (fine is None or transfer <= 0.8 * fine):
        lead = f"**Starting from what it knew helped:** {words}"
    elif fine is not None and (transfer is None or transfer >= 1.25 * fine):
        lead = f"**Starting from what it knew did not help here:** {words}"
    else:
        lead = f"**Starting from what it knew made little difference here:** {words}"
    return f"{lead} (on average {100 * gain:+.0f} points of accuracy over the sizes)."


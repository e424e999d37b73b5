"""The "programs as templates" lesson: a tiny network *is* a program with blanks (its weights), and training is a
search over all the programs those blanks allow for the one that makes the fewest mistakes.

settings → face / not-face pictures → a race of three searches (random search, hill climbing, gradient descent),
each allowed the same number of programs tried → the error of each as it goes, snapshots of its program, and
its accuracy on pictures it never saw. The program can be written out as plain Python (`program_text`), which
gives exactly the network's answers. Every step is a plain function of its inputs and an explicit seed; nothing
here touches Streamlit.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from core.fit import Progress, ProgressCallback, fit
from core.lesson import setting, settings_json
from core.runtime import short_gil_slices, single_thread
from core.seeds import stream

SEARCHERS: tuple[str, ...] = ("random", "hill", "gradient")
SEARCHER_NAMES: dict[str, str] = {
    "random": "Random search",
    "hill": "Hill climbing",
    "gradient": "Gradient descent",
}
BUDGET_CHOICES: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000)
CLASSES: tuple[str, ...] = ("not a face", "face")
# The searchers read each pixel's darkness minus this (about the average darkness): with plain darkness, every
# weight of a detector moves its sum the same way at once, and one nudge switched whole detectors off for good.
CENTRE = 0.25

# The parts of a face, as (rows, columns) of dark pixels relative to the part's top-left corner.
EYE = (2, 2)
MOUTH = (1, 5)
# Where the parts of a face sit (top-left corners) in a 12×12 picture, before the jitter.
FACE_LAYOUT = {"left eye": (3, 2), "right eye": (3, 8), "mouth": (8, 4)}


@dataclass(frozen=True)
class TemplatesSettings:
    """One race. Hashable, so it keys the page's store and the training queue; JSON, so a link or the command
    line can give it."""

    budget: int = setting(300, "programs each searcher may try (each try = run the program on every practice "
                               "picture)")
    detectors: int = setting(3, "hidden neurons: the program's detectors, each a weighted sum of all pixels")
    num_train: int = setting(400, "practice pictures: half faces, half scrambled faces")
    num_test: int = setting(200, "pictures none of the searchers ever sees while searching")
    size: int = setting(12, "pictures are size × size greyscale")
    jitter: int = setting(1, "a face's parts move up to this many pixels (all together) from the usual layout")
    noise: float = setting(0.08, "spread of the pixel noise (darkness 0 = white … 1 = black)")
    hill_step: float = setting(0.5, "hill climbing: how far each try strays from the best program so far")
    learning_rate: float = setting(0.3, "gradient descent: size of each nudge (with momentum 0.9)")
    snapshots: int = setting(24, "programs kept along the way per searcher, for replaying the search")
    seed: int = setting(0, "seed of the pictures and of every search")

    def __post_init__(self) -> None:
        if self.budget < 1 or self.detectors < 1 or self.snapshots < 2:
            raise ValueError("budget and detectors must be at least 1, snapshots at least 2")
        if self.num_train < 4 or self.num_test < 2:
            raise ValueError(f"need at least 4 practice and 2 test pictures, got {self.num_train} and {self.num_test}")
        if self.size < 12:
            raise ValueError(f"pictures must be at least 12 pixels wide to hold a face, got {self.size}")
        if not 0 <= self.jitter <= 2 or not 0.0 <= self.noise <= 0.5:
            raise ValueError(f"jitter must be 0–2 pixels and noise 0–0.5, got {self.jitter} and {self.noise}")
        if not 0 < self.hill_step < 10 or not 0 < self.learning_rate < 100:
            raise ValueError("hill_step and learning_rate must be positive (and sensible)")

    def data_key(self) -> tuple:
        """What the pictures depend on (the searches do not change them)."""
        return ("templates", self.num_train, self.num_test, self.size, self.jitter, self.noise, self.seed)

    @property
    def num_weights(self) -> int:
        """Blanks in the template: each detector's pixel weights and offset, then the final weights and offset."""
        return self.detectors * (self.size * self.size + 1) + self.detectors + 1


@dataclass(frozen=True)
class FaceData:
    """Practice and test pictures: (N, size, size) float32 darkness in [0, 1] (0 white … 1 black); labels (N,)
    1 face, 0 not."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


@dataclass(frozen=True)
class Program:
    """One filled-in template: `hidden` (detectors, size·size) pixel weights, `hidden_bias` (detectors,),
    `out` (detectors,) weights of the detectors in the score and `out_bias` the score's offset."""

    hidden: np.ndarray
    hidden_bias: np.ndarray
    out: np.ndarray
    out_bias: float

    @property
    def size(self) -> int:
        return math.isqrt(self.hidden.shape[1])


@dataclass(frozen=True)
class Search:
    """One searcher's race: the error of its current program after each program tried (index 0 = the first),
    snapshots of its program along the way, and how its final program does on the test pictures."""

    searcher: str
    loss: tuple[float, ...]  # average loss on the practice pictures of the program it holds at that point
    error: tuple[float, ...]  # fraction of practice pictures that program gets wrong
    snapshot_tried: tuple[int, ...]  # programs tried when each snapshot was taken
    snapshot_programs: tuple[Program, ...] = field(repr=False)
    test_accuracy: float  # the final program, on pictures never seen during the search
    seconds: float

    @property
    def name(self) -> str:
        return SEARCHER_NAMES[self.searcher]

    @property
    def tried(self) -> tuple[int, ...]:
        """Programs tried so far at each point of the curves: 1, 2, … budget (one point per try)."""
        return tuple(range(1, len(self.error) + 1))

    @property
    def final_error(self) -> float:
        return self.error[-1]

    @property
    def program(self) -> Program:
        return self.snapshot_programs[-1]

    def tries_to_reach(self, error: float) -> int | None:
        """Programs tried until the held program got at most `error` of the practice pictures wrong (None: never)."""
        return next((tried for tried, value in zip(self.tried, self.error) if value <= error), None)

    def program_at(self, tried: int) -> tuple[int, Program]:
        """The latest snapshot taken after at most `tried` programs (and how many it had tried by then); the
        first snapshot (after 1 try) for anything smaller."""
        index = max(0, int(np.searchsorted(self.snapshot_tried, tried, side="right")) - 1)
        return self.snapshot_tried[index], self.snapshot_programs[index]


@dataclass(frozen=True)
class Race:
    settings: TemplatesSettings
    searches: tuple[Search, ...]
    seconds: float

    def search(self, searcher: str) -> Search:
        return next(search for search in self.searches if search.searcher == searcher)


# ------------------------------------------------------------------------------------------------ pictures
def _overlaps(boxes: list[tuple[int, int, int, int]]) -> bool:
    """True if any two (row, column, height, width) boxes touch or overlap (a one-pixel gap is required)."""
    for index, (r1, c1, h1, w1) in enumerate(boxes):
        for r2, c2, h2, w2 in boxes[index + 1 :]:
            if r1 <= r2 + h2 and r2 <= r1 + h1 and c1 <= c2 + w2 and c2 <= c1 + w1:
                return True
    return False


def _scrambled_layout(rng: np.random.Generator, size: int, jitter: int) -> list[tuple[int, int, int, int]]:
    """Two eyes and a mouth at random, separate places — never in the arrangement of a face."""
    parts = [EYE, EYE, MOUTH]
    while True:
        boxes = [(int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1)), h, w) for h, w in parts]
        if _overlaps(boxes):
            continue
        eyes_on_top = max(boxes[0][0], boxes[1][0]) + EYE[0] <= boxes[2][0]
        apart = abs(boxes[0][1] - boxes[1][1]) >= 3 and abs(boxes[0][0] - boxes[1][0]) <= 2 * jitter
        mouth_between = min(boxes[0][1], boxes[1][1]) - 2 <= boxes[2][1] <= max(boxes[0][1], boxes[1][1])
        if not (eyes_on_top and apart and mouth_between):  # that would just be a face again
            return boxes


def draw_faces(count: int, settings: TemplatesSettings, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` pictures, alternately a face (two eyes above a mouth, shifted together by up to `jitter`
    pixels, each part wobbling by one more pixel at most) and a scrambled face (the same three parts at random
    places); light grey with noise, parts dark. Pixels hold *darkness* (0 white … 1 black), so the blank paper
    adds little to a weighted sum and the dark parts a lot. Returns (images, labels), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    size = settings.size
    offset = (size - 12) // 2  # centre the 12×12 layout in bigger pictures
    images = np.empty((count, size, size), dtype=np.float32)
    labels = np.empty(count, dtype=np.int64)
    for index in range(count):
        picture = np.full((size, size), rng.uniform(0.1, 0.3), dtype=np.float32)  # how dark: 0 white … 1 black
        face = index % 2 == 0
        if face:
            shift_r, shift_c = rng.integers(-settings.jitter, settings.jitter + 1, size=2)
            boxes = []
            for name, (row, column) in FACE_LAYOUT.items():
                part = MOUTH if name == "mouth" else EYE
                wobble_r, wobble_c = rng.integers(-1, 2, size=2) if settings.jitter > 1 else (0, 0)
                boxes.append((int(np.clip(offset + row + shift_r + wobble_r, 0, size - part[0])),
                              int(np.clip(offset + column + shift_c + wobble_c, 0, size - part[1])), *part))
        else:
            boxes = _scrambled_layout(rng, size, settings.jitter)
        for row, column, height, width in boxes:
            picture[row : row + height, column : column + width] += rng.uniform(0.45, 0.65)
        picture += rng.normal(0.0, settings.noise, size=picture.shape).astype(np.float32)
        images[index] = np.clip(picture, 0.0, 1.0)
        labels[index] = int(face)
    order = rng.permutation(count)
    return images[order], labels[order]


def make_data(settings: TemplatesSettings) -> FaceData:
    """Practice and test pictures from independent random streams of the seed."""
    train = draw_faces(settings.num_train, settings, stream(settings.seed, "templates-train"))
    test = draw_faces(settings.num_test, settings, stream(settings.seed, "templates-test"))
    return FaceData(train[0], train[1], test[0], test[1])


# ------------------------------------------------------------------------------------------------ programs
# A program's weights live in one flat vector so that the three searchers handle them alike:
# [hidden weights (detectors × pixels) | hidden offsets (detectors) | final weights (detectors) | final offset].
def _split(flat: torch.Tensor, detectors: int, pixels: int) -> tuple[torch.Tensor, ...]:
    cut = detectors * pixels
    return (flat[..., :cut].reshape(*flat.shape[:-1], detectors, pixels), flat[..., cut : cut + detectors],
            flat[..., cut + detectors : cut + 2 * detectors], flat[..., -1])


def _scores(flat: torch.Tensor, inputs: torch.Tensor, detectors: int) -> torch.Tensor:
    """The programs' scores: (programs, pictures) for flat weights (programs, W), or (pictures,) for (W,).
    score = out · max(0, hidden · pixels + hidden_bias) + out_bias; above 0 means "face"."""
    hidden, hidden_bias, out, out_bias = _split(flat, detectors, inputs.shape[1])
    detected = torch.relu(torch.matmul(hidden, inputs.T) + hidden_bias.unsqueeze(-1))
    return (out.unsqueeze(-1) * detected).sum(-2) + out_bias.unsqueeze(-1)


def _losses(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Average logistic loss per program (the smooth "how wrong" all three searchers minimise)."""
    return torch.nn.functional.binary_cross_entropy_with_logits(
        scores, targets.expand_as(scores), reduction="none").mean(-1)


def _errors(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return ((scores > 0).float() != targets).float().mean(-1)


def random_programs(count: int, settings: TemplatesSettings, generator: torch.Generator) -> torch.Tensor:
    """`count` programs with every blank filled at random, the way PyTorch starts a network: uniform within
    ±1/√(inputs) of each layer. (count, num_weights) float32."""
    pixels = settings.size * settings.size
    first = torch.rand(count, settings.detectors * (pixels + 1), generator=generator) * 2 - 1
    second = torch.rand(count, settings.detectors + 1, generator=generator) * 2 - 1
    first = first / math.sqrt(pixels)
    second = second / math.sqrt(settings.detectors)
    hidden, hidden_bias = first[:, : settings.detectors * pixels], first[:, settings.detectors * pixels :]
    return torch.cat([hidden, hidden_bias, second], dim=1).contiguous()


def to_program(flat: torch.Tensor, settings: TemplatesSettings) -> Program:
    """The searchers' flat weights (which read darkness − CENTRE) as the same program on plain darkness:
    Σ w·(dark − c) + b = Σ w·dark + (b − c·Σ w), so only the detectors' offsets change."""
    hidden, hidden_bias, out, out_bias = _split(flat.detach().to(torch.float64), settings.detectors,
                                                settings.size * settings.size)
    hidden_bias = hidden_bias - CENTRE * hidden.sum(-1)
    return Program(hidden.numpy().copy(), hidden_bias.numpy().copy(), out.numpy().copy(), float(out_bias))


def run_program(program: Program, images: np.ndarray) -> np.ndarray:
    """The program's scores for (N, size, size) pictures, in plain numpy (float64)."""
    pixels = images.reshape(len(images), -1).astype(np.float64)
    detected = np.maximum(0.0, pixels @ program.hidden.T + program.hidden_bias)
    return detected @ program.out + program.out_bias


def accuracy(program: Program, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((run_program(program, images) > 0).astype(np.int64) == labels))


def _snapshot_points(budget: int, count: int) -> set[int]:
    """Roughly evenly spaced on a log scale from 1 to `budget` programs tried (always both ends)."""
    points = np.unique(np.round(np.geomspace(1, budget, count)).astype(int))
    return set(points.tolist()) | {1, budget}


# ------------------------------------------------------------------------------------------------ searches
def _gradient_descent(start: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor, settings: TemplatesSettings,
                      record: Callable[[int, torch.Tensor, float, float], None]) -> torch.Tensor:
    """Gradient descent's tries: each runs the current program on every practice picture (recorded), then
    `fit` nudges it against the slope; the last try is measured, not nudged. Returns the final weights."""
    weights = start.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([weights], lr=settings.learning_rate, momentum=0.9)
    everything = torch.arange(len(inputs))  # every try looks at all the practice pictures
    tried = 0

    def one_try(batch: torch.Tensor) -> torch.Tensor:  # batch: always all of them (no copy made by indexing)
        nonlocal tried
        tried += 1
        scores = _scores(weights, inputs, settings.detectors)
        loss = _losses(scores, targets)
        record(tried, weights, float(loss.detach()), float(_errors(scores.detach(), targets)))
        return loss

    fit(one_try, optimizer, itertools.repeat(everything), settings.budget - 1)  # zero_grad, backward, step
    one_try(everything)
    return weights.detach()


def _search(searcher: str, settings: TemplatesSettings, data: FaceData, on_progress: ProgressCallback | None) -> Search:
    """One searcher, `settings.budget` programs tried. Each try runs a program on all the practice pictures and
    measures its loss; the searcher then decides which program to try next:
    - random search: a brand-new random program each time, keeping the best so far;
    - hill climbing: the best program so far with every blank changed a little at random, kept if better;
    (for these two, "better" = fewer mistakes on the practice pictures, or as many but a lower loss)
    - gradient descent: the current program moved a little against the slope of the loss (backpropagation),
      always kept. (Working out the slope costs about as much as two more tries: the backward run costs about
      twice the forward one.)"""
    started = time.perf_counter()
    inputs = torch.from_numpy(data.train_images.reshape(len(data.train_images), -1) - CENTRE)
    targets = torch.from_numpy(data.train_labels.astype(np.float32))
    generator = torch.Generator().manual_seed(stream(settings.seed, f"templates-{searcher}"))
    start = random_programs(1, settings, torch.Generator().manual_seed(stream(settings.seed, "templates-start")))[0]
    snapshot_at = _snapshot_points(settings.budget, settings.snapshots)
    losses: list[float] = []
    errors: list[float] = []
    snapshot_tried: list[int] = []
    snapshots: list[Program] = []

    def record(tried: int, current: torch.Tensor, loss: float, error: float) -> None:
        losses.append(loss)
        errors.append(error)
        if tried in snapshot_at:
            snapshot_tried.append(tried)
            snapshots.append(to_program(current, settings))
        if on_progress is not None and (tried % 25 == 0 or tried == settings.budget):
            on_progress(Progress(tried, settings.budget, stage=SEARCHER_NAMES[searcher], unit="programs tried",
                                 stage_index=SEARCHERS.index(searcher), stages=len(SEARCHERS)))

    if searcher == "gradient":
        best = _gradient_descent(start, inputs, targets, settings, record)
    elif searcher in ("random", "hill"):
        with torch.no_grad():
            best = start.clone()
            best_scores = _scores(best, inputs, settings.detectors)
            best_loss, best_error = float(_losses(best_scores, targets)), float(_errors(best_scores, targets))
            record(1, best, best_loss, best_error)
            chunk = 64  # try this many programs in one go (same results as one at a time, much faster)
            tried = 1
            while tried < settings.budget:
                count = min(chunk, settings.budget - tried)
                if searcher == "random":
                    candidates = random_programs(count, settings, generator)
                    scores = _scores(candidates, inputs, settings.detectors)
                    candidate_losses, candidate_errors = _losses(scores, targets), _errors(scores, targets)
                    for index in range(count):  # keep the best so far, try by try
                        tried += 1
                        if (float(candidate_errors[index]), float(candidate_losses[index])) < (best_error, best_loss):
                            best = candidates[index]
                            best_loss, best_error = float(candidate_losses[index]), float(candidate_errors[index])
                        record(tried, best, best_loss, best_error)
                else:  # each try starts from the best so far, so hill climbing goes one try at a time
                    for _ in range(count):
                        tried += 1
                        candidate = best + settings.hill_step * torch.randn(best.shape, generator=generator) \
                            / math.sqrt(settings.size * settings.size)
                        scores = _scores(candidate, inputs, settings.detectors)
                        candidate_loss, candidate_error = float(_losses(scores, targets)), float(_errors(scores, targets))
                        if (candidate_error, candidate_loss) < (best_error, best_loss):
                            best, best_loss, best_error = candidate, candidate_loss, candidate_error
                        record(tried, best, best_loss, best_error)
    else:
        raise ValueError(f"unknown searcher {searcher!r}; choose one of {', '.join(SEARCHERS)}")
    final = to_program(best, settings)
    return Search(
        searcher=searcher,
        loss=tuple(losses),
        error=tuple(errors),
        snapshot_tried=tuple(snapshot_tried),
        snapshot_programs=tuple(snapshots),
        test_accuracy=accuracy(final, data.test_images, data.test_labels),
        seconds=time.perf_counter() - started,
    )


def race(settings: TemplatesSettings, data: FaceData, on_progress: ProgressCallback | None = None) -> Race:
    """The three searchers, one after another, each with `settings.budget` programs to try, all starting from the
    same random program. `on_progress` gets a `Progress` every 25 tries (stage: the searcher's name, unit:
    programs tried, stage_index of 3) and may raise to stop."""
    started = time.perf_counter()
    searches = []
    for searcher in SEARCHERS:
        with single_thread(), short_gil_slices():  # thousands of tiny operations: see both for why
            searches.append(_search(searcher, settings, data, on_progress))
    return Race(settings, tuple(searches), time.perf_counter() - started)


def run(settings: TemplatesSettings, on_progress: ProgressCallback | None = None) -> Race:
    """Draw the pictures and race: the whole lesson in one call (the command line, the benchmark, the tests)."""
    return race(settings, make_data(settings), on_progress)


# ------------------------------------------------------------------------------------------------ what it means
def takeaway_lines(result: Race) -> list[str]:
    """Plain sentences about this very race (Markdown: the searchers' names in bold)."""
    budget = result.settings.budget
    gradient, hill, random_search = (result.search(name) for name in ("gradient", "hill", "random"))
    lines = []
    reached = gradient.tries_to_reach(0.0)
    if reached is not None:
        lines.append(f"**Gradient descent** made no mistakes on the practice pictures after **{reached:,}** "
                     f"programs tried" + (f" (about {3 * reached:,} even counting its slope as two extra tries)."
                                          if 3 * reached <= budget else "."))
    else:
        lines.append(f"**Gradient descent** still got {gradient.final_error:.0%} of the practice pictures wrong "
                     f"after {budget:,} programs.")
    for search in (hill, random_search):
        lines.append(f"**{search.name}** got {search.final_error:.0%} wrong after all {budget:,}.")
    lines.append(f"On {result.settings.num_test:,} pictures **none of them ever saw**: gradient descent "
                 f"{gradient.test_accuracy:.0%} right, hill climbing {hill.test_accuracy:.0%}, random search "
                 f"{random_search.test_accuracy:.0%} (guessing gives 50 %).")
    return lines


def report(result: Race) -> dict:
    """The race as JSON: each searcher's mistakes on the practice pictures and score on unseen ones, and the
    takeaway sentences."""
    gradient = result.search("gradient")
    return {
        "settings": settings_json(result.settings),
        "searches": {
            search.searcher: {
                "name": search.name,
                "practice_wrong": search.final_error,
                "test_accuracy": search.test_accuracy,
                "tries_to_no_mistakes": search.tries_to_reach(0.0),
                "error_curve": list(search.error),
                "seconds": round(search.seconds, 3),
            }
            for search in result.searches
        },
        "program": program_text(gradient.program),
        "seconds": round(result.seconds, 3),
        "takeaway": [line.replace("**", "") for line in takeaway_lines(result)],
    }


def summary(report: dict) -> str:
    """A few plain lines for `netlens templates`."""
    budget = report["settings"]["budget"]
    lines = [f"{budget:,} programs tried by each searcher (seed {report['settings']['seed']}):"]
    for search in report["searches"].values():
        lines.append(f"  {search['name']:<17} {search['practice_wrong']:5.0%} of the practice pictures wrong, "
                     f"{search['test_accuracy']:4.0%} right on unseen ones")
    lines += [f"  {line}" for line in report["takeaway"]]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ the program as text
def _number(value: float, decimals: int | None) -> str:
    return repr(float(value)) if decimals is None else f"{value:.{decimals}f}"


def _terms(values: Sequence[float], names: Sequence[str], decimals: int | None) -> list[str]:
    """['1.03*dark[7][7]', '- 0.98*dark[7][5]', '+ 0.25'] — the first term carries its sign alone."""
    pieces = []
    for position, (value, name) in enumerate(zip(values, names)):
        number = _number(abs(float(value)), decimals) + (f"*{name}" if name else "")
        sign = "-" if value < 0 else "+"
        pieces.append((f"-{number}" if sign == "-" else number) if position == 0 else f"{sign} {number}")
    return pieces


def _assignment(name: str, pieces: list[str], width: int | None) -> list[str]:
    """`name = a + b + …` as lines of at most `width` characters (None: one line), continued inside brackets."""
    head = f"    {name} = "
    if width is None or len(head) + len(" ".join(pieces)) <= width:
        return [head + " ".join(pieces)]
    lines, current = [], head + "(" + pieces[0]
    for piece in pieces[1:]:
        if len(current) + 1 + len(piece) + 1 > width:
            lines.append(current)
            current = " " * (len(head) + 1) + piece
        else:
            current += " " + piece
    return lines + [current + ")"]


def program_text(program: Program, terms: int | None = 3, decimals: int | None = 2, width: int | None = None) -> str:
    """The program the network is, as Python a person can read. With `terms=None` every pixel's weight is
    written out and the text runs: `exec` it and `is_it_a_face(dark)` gives the network's answers (dark is
    a size × size list of darkness values). With `terms=k` only the k strongest pixels of each detector are
    written and the rest summarised ("+ …142 more"), for reading. `decimals=None` writes every number in full;
    `width` wraps long lines (inside brackets, so the full text still runs)."""
    size = program.size
    lines = ["def is_it_a_face(dark):  # 0 = white … 1 = black"]
    for index, weights in enumerate(program.hidden):
        name = f"detector_{index + 1}"
        order = np.argsort(-np.abs(weights), kind="stable")
        shown = order if terms is None else order[:terms]
        pixels = [f"dark[{int(i) // size}][{int(i) % size}]" for i in shown]
        pieces = _terms([*weights[shown], program.hidden_bias[index]], [*pixels, ""], decimals)
        if len(shown) < len(weights):
            pieces.insert(len(shown), f"+ …{len(weights) - len(shown)} more")
        lines += _assignment(name, pieces, width)
        lines.append(f"    if {name} < 0: {name} = 0")
    names = [f"detector_{index + 1}" for index in range(len(program.out))]
    lines += _assignment("score", _terms([*program.out, program.out_bias], [*names, ""], decimals), width)
    lines.append('    if score > 0: return "face"')
    lines.append('    return "not a face"')
    return "\n".join(lines)


def detector_images(program: Program) -> np.ndarray:
    """Each detector's pixel weights as a picture: (detectors, size, size), in the program's own units."""
    return program.hidden.reshape(len(program.hidden), program.size, program.size)

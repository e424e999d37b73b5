"""The house-price formula: X·bedrooms + Y·bathrooms + Z·footage = price, tuned by gradient descent.

Prices are in thousands of dollars (k$). The knobs are always shown in human units — k$ per bedroom, per
bathroom and per 1,000 square feet — but the nudging can work on footage measured in raw square feet, which
is the lesson's teachable moment: one input a thousand times larger than the others makes a learning rate
that suits two knobs blow up the third.

settings (where the knobs start, step size, units, how many nudges) → the town's sales → the nudges: the knobs
and the error after each → the least-squares answer for the reveal. Nothing here touches Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.fit import Progress, ProgressCallback
from core.lesson import setting, settings_json

KNOBS: tuple[str, ...] = ("X (per bedroom)", "Y (per bathroom)", "Z (per 1,000 sq ft)")
TRUE_WEIGHTS = (25.0, 15.0, 150.0)  # k$ per bedroom, per bathroom, per 1,000 sq ft
SQUARE_FEET_PER_UNIT = 1000.0


@dataclass(frozen=True)
class Houses:
    """Sold houses: (N,) bedrooms, bathrooms, footage in square feet, price in k$."""

    bedrooms: np.ndarray
    bathrooms: np.ndarray
    footage: np.ndarray
    price: np.ndarray


def make_houses(num_houses: int = 120, seed: int = 0, noise: float = 25.0) -> Houses:
    """Sales drawn from the true formula plus noise (k$); the same seed gives the same town."""
    if num_houses < 3:
        raise ValueError(f"num_houses must be at least 3, got {num_houses}")
    rng = np.random.default_rng(seed)
    bedrooms = rng.integers(1, 6, num_houses).astype(np.float64)
    bathrooms = np.clip(bedrooms - rng.integers(0, 3, num_houses), 1, 4).astype(np.float64)
    footage = np.round(400 + 450 * bedrooms + rng.normal(0, 250, num_houses), -1).clip(350, None)
    price = (TRUE_WEIGHTS[0] * bedrooms + TRUE_WEIGHTS[1] * bathrooms
             + TRUE_WEIGHTS[2] * footage / SQUARE_FEET_PER_UNIT + rng.normal(0, noise, num_houses))
    return Houses(bedrooms, bathrooms, footage, price)


def inputs(houses: Houses, raw_footage: bool = False) -> np.ndarray:
    """(N, 3) inputs the formula multiplies: footage in square feet when `raw_footage`, else in 1,000s."""
    footage = houses.footage if raw_footage else houses.footage / SQUARE_FEET_PER_UNIT
    return np.stack([houses.bedrooms, houses.bathrooms, footage], axis=1)


def to_internal(knobs: np.ndarray, raw_footage: bool) -> np.ndarray:
    """Knobs in human units (Z per 1,000 sq ft) → the weights that multiply `inputs(..., raw_footage)`."""
    weights = np.asarray(knobs, dtype=np.float64).copy()
    if raw_footage:
        weights[2] /= SQUARE_FEET_PER_UNIT
    return weights


def to_knobs(weights: np.ndarray, raw_footage: bool) -> np.ndarray:
    knobs = np.asarray(weights, dtype=np.float64).copy()
    if raw_footage:
        knobs[2] *= SQUARE_FEET_PER_UNIT
    return knobs


def predict(knobs: np.ndarray, houses: Houses) -> np.ndarray:
    """(N,) predicted prices in k$ for knob values in human units."""
    return inputs(houses) @ np.asarray(knobs, dtype=np.float64)


def error(knobs: np.ndarray, houses: Houses) -> float:
    """Mean squared error of the formula over all sales, in (k$)²."""
    return float(np.mean((predict(knobs, houses) - houses.price) ** 2))


def typical_error(knobs: np.ndarray, houses: Houses) -> float:
    """The square root of the mean squared error: how far off a typical price is, in k$."""
    return float(np.sqrt(error(knobs, houses)))


def gradient(knobs: np.ndarray, houses: Houses, raw_footage: bool = False) -> np.ndarray:
    """d(mean squared error)/d(weights) by torch autograd, for the weights `raw_footage` nudges: (3,)."""
    features = torch.as_tensor(inputs(houses, raw_footage))  # (N, 3) float64
    weights = torch.as_tensor(to_internal(knobs, raw_footage)).requires_grad_()
    loss = ((features @ weights - torch.as_tensor(houses.price)) ** 2).mean()
    (grad,) = torch.autograd.grad(loss, weights)
    return grad.numpy()


@dataclass(frozen=True)
class Nudge:
    """One step of gradient descent: where the knobs were, which way each wants to go, where they end up."""

    before: np.ndarray  # (3,) knobs, human units
    gradient: np.ndarray  # (3,) in the units being nudged
    after: np.ndarray  # (3,) knobs, human units


def nudge(knobs: np.ndarray, houses: Houses, learning_rate: float, raw_footage: bool = False) -> Nudge:
    """Move every weight a little against its gradient: w ← w − learning_rate · ∂error/∂w."""
    if not 0 < learning_rate < 10:
        raise ValueError(f"learning_rate must be between 0 and 10, got {learning_rate}")
    grad = gradient(knobs, houses, raw_footage)
    weights = to_internal(knobs, raw_footage) - learning_rate * grad
    return Nudge(np.asarray(knobs, dtype=np.float64), grad, to_knobs(weights, raw_footage))


LIMIT = 1e7  # knob values beyond this mean the nudges have exploded


def descend(knobs: np.ndarray, houses: Houses, learning_rate: float, steps: int,
            raw_footage: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """`steps` nudges: the knobs after each, (steps + 1, 3), and the error after each, (steps + 1,).
    Stops early (the rest filled with the last values) once the knobs have exploded past LIMIT."""
    path = [np.asarray(knobs, dtype=np.float64)]
    for _ in range(steps):
        if not np.all(np.abs(path[-1]) < LIMIT):
            path.append(path[-1])
            continue
        path.append(nudge(path[-1], houses, learning_rate, raw_footage).after)
    knobs_path = np.array(path)
    errors = np.array([error(step, houses) if np.all(np.abs(step) < LIMIT) else np.inf for step in knobs_path])
    return knobs_path, errors


def best_knobs(houses: Houses) -> np.ndarray:
    """The knobs with the smallest possible error (least squares), for the reveal at the end."""
    return np.linalg.lstsq(inputs(houses), houses.price, rcond=None)[0]


def landscape(houses: Houses, knobs: np.ndarray, first: int, second: int, first_values: np.ndarray,
              second_values: np.ndarray) -> np.ndarray:
    """Error over a grid of two knobs (the third held at its current value): (len(second), len(first))."""
    features = inputs(houses)  # (N, 3)
    grid = np.broadcast_to(np.asarray(knobs, dtype=np.float64), (len(second_values), len(first_values), 3)).copy()
    grid[..., first] = first_values[None, :]
    grid[..., second] = second_values[:, None]
    predictions = grid @ features.T  # (S, F, N)
    return ((predictions - houses.price) ** 2).mean(-1)


# ------------------------------------------------------------------------------------------------ the lesson
MAX_NUDGES = 10_000  # a link may ask for this many at most (10,000 nudges take about a second)
EXPLODED = ("The nudges exploded: the knobs flew off to astronomical values. Try a smaller step size — "
            "or measure size in thousands of square feet.")


@dataclass(frozen=True)
class HousePricesSettings:
    """Where the knobs start, how the nudges go, and how many: the whole screen (and its link)."""

    start: tuple[float, float, float] = setting(
        (0.0, 0.0, 0.0), "knobs X,Y,Z where the nudges start (k$ per bedroom, per bathroom, per 1,000 sq ft)")
    learning_rate: float = setting(0.02, "step size of each nudge (the learning rate)", flag="step-size")
    raw_footage: bool = setting(False, "measure size in raw square feet instead of thousands (yes/no)")
    nudges: int = setting(50, "how many nudges to take")
    seed: int = setting(0, "which made-up town of sales")
    num_houses: int = setting(120, "sold houses in the town", cli=False)
    noise: float = setting(25.0, "spread of the prices around the true formula, k$", cli=False)

    def __post_init__(self) -> None:
        start = tuple(float(value) for value in self.start)
        if len(start) != len(KNOBS) or not all(math.isfinite(value) for value in start):
            raise ValueError(f"start must be three finite knob values X,Y,Z, got {self.start!r}")
        object.__setattr__(self, "start", start)  # (0, 0, 0) and (0.0, 0.0, 0.0) are one cache key
        if not 0 < self.learning_rate < 10:
            raise ValueError(f"the step size must be between 0 and 10, got {self.learning_rate}")
        if not 0 <= self.nudges <= MAX_NUDGES:
            raise ValueError(f"nudges must be between 0 and {MAX_NUDGES:,}, got {self.nudges}")
        if self.num_houses < 3 or self.noise < 0:
            raise ValueError(f"need at least 3 houses and noise ≥ 0, got {self.num_houses} and {self.noise}")


@dataclass(frozen=True)
class HousePricesResult:
    """The nudges: the knobs after each, (nudges + 1, 3) in human units, and the mean squared error after each,
    (nudges + 1,) in (k$)² (inf once exploded); the slope of the last nudge; the least-squares knobs."""

    settings: HousePricesSettings
    houses: Houses
    path: np.ndarray
    errors: np.ndarray
    last_gradient: np.ndarray | None  # (3,) in the units being nudged; None before any nudge
    best: np.ndarray

    @property
    def exploded(self) -> bool:
        return not np.all(np.abs(self.path[-1]) < LIMIT)

    @property
    def knobs(self) -> np.ndarray:
        """The knobs after the nudges — or, if they exploded, where the nudges started (what the sliders show)."""
        return self.path[0] if self.exploded else self.path[-1]

    @property
    def typical_errors(self) -> np.ndarray:
        """How far off a typical price is after each nudge, k$ (inf once exploded)."""
        return np.sqrt(self.errors)

    @property
    def typical_error(self) -> float:
        """The typical error of the knobs on screen, k$."""
        return typical_error(self.knobs, self.houses)

    @property
    def best_typical_error(self) -> float:
        return typical_error(self.best, self.houses)


def run(settings: HousePricesSettings, on_progress: ProgressCallback | None = None) -> HousePricesResult:
    """The whole lesson headless: the town of the seed, `settings.nudges` nudges from `settings.start`."""
    houses = make_houses(settings.num_houses, settings.seed, settings.noise)
    path, errors = descend(np.array(settings.start), houses, settings.learning_rate, settings.nudges,
                           settings.raw_footage)
    before_last = path[-2] if settings.nudges else None
    last_gradient = (gradient(before_last, houses, settings.raw_footage)
                     if before_last is not None and np.all(np.abs(before_last) < LIMIT) else None)
    if on_progress is not None:
        on_progress(Progress(settings.nudges, settings.nudges, stage="Nudging"))
    return HousePricesResult(settings, houses, path, errors, last_gradient, best_knobs(houses))


def _knob_values(knobs: np.ndarray) -> str:
    return ", ".join(f"{name.split(' ')[0]} = {value:.1f}" for name, value in zip(KNOBS, knobs))


def directions(last_gradient: np.ndarray) -> str:
    """Which way each knob wanted to go at the last nudge, and how hard."""
    moves = [f"{name.split(' ')[0]} {'↓ down' if slope > 0 else '↑ up'} (slope {abs(slope):,.3g})"
             for name, slope in zip(KNOBS, last_gradient)]
    return "Last nudge — which way each knob wanted to go and how hard: " + "; ".join(moves) + "."


def best_formula(result: HousePricesResult) -> str:
    """The reveal: the least-squares knobs and why even they are not exact."""
    best = result.best
    return (f"The smallest possible error comes from **X = {best[0]:.1f}, Y = {best[1]:.1f}, Z = {best[2]:.1f}** "
            f"(thousand $ per bedroom, per bathroom, per 1,000 sq ft): a typical error of "
            f"${1000 * result.best_typical_error:,.0f}, because real prices are noisy. These sales were made up "
            f"from X = {TRUE_WEIGHTS[0]:g}, Y = {TRUE_WEIGHTS[1]:g}, Z = {TRUE_WEIGHTS[2]:g} plus noise.")


def _finite(values: np.ndarray) -> list:
    return [round(float(value), 4) if np.isfinite(value) else None for value in values]


def report(result: HousePricesResult) -> dict:
    """The nudges as JSON: final knobs and typical error (k$), the error curve, the path, the least-squares answer."""
    settings = result.settings
    return {
        "settings": settings_json(settings),
        "exploded": result.exploded,
        "knobs": None if result.exploded else _finite(result.path[-1]),
        "typical_error": None if result.exploded else round(typical_error(result.path[-1], result.houses), 4),
        "typical_errors": _finite(result.typical_errors),  # k$ after each nudge (null once exploded)
        "path": [_finite(knobs) for knobs in result.path],
        "last_gradient": None if result.last_gradient is None else _finite(result.last_gradient),
        "best_knobs": _finite(result.best),
        "best_typical_error": round(result.best_typical_error, 4),
        "takeaway": EXPLODED if result.exploded else best_formula(result).replace("**", ""),
    }


def summary(report: dict) -> str:
    """A few plain lines for `netlens house_prices`."""
    settings = report["settings"]
    units = "raw square feet" if settings["raw_footage"] else "thousands of square feet"
    start = _knob_values(settings["start"])
    lines = [f"{settings['nudges']:,} nudges of size {settings['learning_rate']:g} (size in {units}) from {start}:"]
    if report["exploded"]:
        lines.append(f"  {EXPLODED}")
    else:
        lines.append(f"  {_knob_values(report['knobs'])}: a typical error of ${1000 * report['typical_error']:,.0f}")
    lines.append(f"  best possible: {_knob_values(report['best_knobs'])}, "
                 f"a typical error of ${1000 * report['best_typical_error']:,.0f}")
    return "\n".join(lines)

"""The house-price formula: X·bedrooms + Y·bathrooms + Z·footage = price, tuned by gradient descent.

Prices are in thousands of dollars (k$). The knobs are always shown in human units — k$ per bedroom, per
bathroom and per 1,000 square feet — but the nudging can work on footage measured in raw square feet, which
is the lesson's teachable moment: one input a thousand times larger than the others makes a learning rate
that suits two knobs blow up the third.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

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

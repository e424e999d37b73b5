"""Does a map deserve trust? Two checks that need no ground truth.

- Deletion (Petsiuk et al., https://arxiv.org/abs/1806.07421): remove the pixels the map calls most
  important, step by step, and watch the confidence fall; it should fall faster than when removing pixels
  at random.
- Randomisation (Adebayo et al., "Sanity checks for saliency maps", https://arxiv.org/abs/1810.03292):
  scramble the network's weights from the output layer backwards and redraw the map; a map that stays the
  same on a scrambled network explains the picture, not the network.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from core.explain import explain
from core.training import to_tensor

REMOVED_VALUE = 128  # removed pixels become plain mid-grey, the same "nothing here" as the default baseline


@dataclass(frozen=True)
class DeletionCheck:
    """Confidence in `target` as ever more pixels are removed, in the map's order and in random order."""

    fractions: np.ndarray  # (S,) share of pixels removed, from 0 to 1
    map_confidence: np.ndarray  # (S,)
    random_confidence: np.ndarray  # (S,) averaged over several random orders

    @property
    def map_area(self) -> float:
        """Average confidence along the map's curve: lower means the map found what matters."""
        return _area(self.map_confidence, self.fractions)

    @property
    def random_area(self) -> float:
        return _area(self.random_confidence, self.fractions)

    @property
    def passes(self) -> bool:
        return self.map_area < self.random_area


def _area(values: np.ndarray, positions: np.ndarray) -> float:
    """Trapezoid rule: the area under a curve sampled at `positions`."""
    return float(((values[1:] + values[:-1]) / 2 * np.diff(positions)).sum())


@torch.no_grad()
def _confidence(model: nn.Module, images: np.ndarray, target: int, batch_size: int = 16) -> np.ndarray:
    chunks = [torch.softmax(model(to_tensor(images[i : i + batch_size])), dim=1)[:, target]
              for i in range(0, len(images), batch_size)]
    return torch.cat(chunks).numpy()


def _patch_ids(height: int, width: int, grid: int) -> np.ndarray:
    """(H, W) id of the grid × grid patch each pixel belongs to."""
    rows = np.minimum(np.arange(height) * grid // height, grid - 1)
    columns = np.minimum(np.arange(width) * grid // width, grid - 1)
    return rows[:, None] * grid + columns[None, :]


def _removal_series(image: np.ndarray, patches: np.ndarray, order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(S, H, W, 3): the picture with the first counts[s] patches of `order` set to grey."""
    series = np.broadcast_to(image, (len(counts), *image.shape)).copy()
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    pixel_rank = rank[patches]  # (H, W): when each pixel's patch is removed
    for step, count in enumerate(counts):
        series[step][pixel_rank < count] = REMOVED_VALUE
    return series


def deletion_check(
    model: nn.Module, image: np.ndarray, target: int, attribution: np.ndarray, steps: int = 16,
    grid: int = 8, random_orders: int = 3, seed: int = 0,
) -> DeletionCheck:
    """Remove a grid × grid division of an (H, W, 3) uint8 picture patch by patch, the patches with the
    most evidence in the (H, W) map first, and compare with removing patches in random order. Patches, not
    single pixels: scattered grey pixels are a strange picture of their own and fool the network either way.
    The model must be in eval mode."""
    if model.training:
        raise ValueError("run the deletion check on a model in eval mode (model.eval())")
    if attribution.shape != image.shape[:2]:
        raise ValueError(f"map {attribution.shape} and picture {image.shape[:2]} must have the same size")
    if steps < 2 or grid < 2:
        raise ValueError(f"steps and grid must be at least 2, got {steps} and {grid}")
    patches = _patch_ids(*attribution.shape, grid)
    evidence = np.bincount(patches.reshape(-1), weights=attribution.reshape(-1), minlength=grid * grid)
    counts = np.linspace(0, grid * grid, steps + 1).round().astype(int)
    map_order = np.argsort(-evidence, kind="stable")
    map_curve = _confidence(model, _removal_series(image, patches, map_order, counts), target)
    rng = np.random.default_rng(seed)
    random_curves = [
        _confidence(model, _removal_series(image, patches, rng.permutation(grid * grid), counts), target)
        for _ in range(random_orders)
    ]
    return DeletionCheck(counts / (grid * grid), map_curve, np.mean(random_curves, axis=0))


@dataclass(frozen=True)
class RandomisationCheck:
    """How similar the map stays as more and more of the network is scrambled (output side first)."""

    layers: tuple[str, ...]  # what had been scrambled at each step, cumulatively
    similarity: np.ndarray  # (L,) rank correlation of |map| with the original |map|, 1 = unchanged
    maps: tuple[np.ndarray, ...]  # (H, W) map after each step

    @property
    def passes(self) -> bool:
        """The map must change once the whole network is scrambled (rank correlation below 0.5)."""
        return bool(self.similarity[-1] < 0.5)


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation of two arrays of the same size (ties broken by position)."""
    ranks = [np.argsort(np.argsort(values.reshape(-1), kind="stable"), kind="stable").astype(np.float64)
             for values in (first, second)]
    a, b = (rank - rank.mean() for rank in ranks)
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def weight_layers(model: nn.Module) -> list[str]:
    """Names of the modules with weights, from the output back to the input (the scrambling order)."""
    return [name for name, module in model.named_modules()
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)) and name][::-1]


def randomisation_check(
    model: nn.Module, image: np.ndarray, target: int, method: str, seed: int = 0,
    groups: Sequence[Sequence[str]] | None = None, baseline: torch.Tensor | None = None,
) -> RandomisationCheck:
    """Scramble the weights of a copy of `model` group by group, output side first (default: one layer at a
    time), redraw the `method` map of an (H, W, 3) uint8 picture for `target` after each, and measure how
    similar it stays to the original map."""
    original = explain(model, image[None], target, method, baseline=baseline, seed=seed)[0]
    scrambled = copy.deepcopy(model).eval()
    modules = dict(scrambled.named_modules())
    generator = torch.Generator().manual_seed(seed)
    chosen = [list(group) for group in groups] if groups is not None else [[name] for name in weight_layers(model)]
    names, similarity, maps = [], [], []
    with torch.no_grad():
        for group in chosen:
            for name in group:
                if name not in modules:
                    raise ValueError(f"the model has no layer called {name!r}")
                for parameter in modules[name].parameters(recurse=False):
                    parameter.copy_(torch.randn(parameter.shape, generator=generator) * parameter.std().clamp(min=1e-3))
            redrawn = explain(scrambled, image[None], target, method, baseline=baseline, seed=seed)[0]
            names.append(group[-1] if len(group) == 1 else f"{group[0]} … {group[-1]}")
            similarity.append(rank_correlation(np.abs(original), np.abs(redrawn)))
            maps.append(redrawn)
    return RandomisationCheck(tuple(names), np.array(similarity), tuple(maps))

"""Does a map deserve trust? Two checks that need no ground truth.

- Deletion (Petsiuk et al., https://arxiv.org/abs/1806.07421; Samek et al., https://arxiv.org/abs/1509.06321):
  remove the patches the map calls most important, step by step, and watch the network's log-odds for the
  explained class fall. Three choices follow the literature on where the simple version misleads:
  * most-important-first is compared with **least-important-first** as well as with random order (MoRF vs
    LeRF, as in ROAD, Rong et al., https://arxiv.org/abs/2202.00449): a map passes only when removing what it
    points at hurts more than removing what it calls unimportant, and more than chance;
  * the measure is the class's **log-odds**, log(p / (1 − p)), not its probability: among near-synonym classes
    (tiger cat / tabby / Egyptian cat) the probability of one of them can stay put while the evidence for it
    collapses, and a probability near 0 or 1 hides large changes;
  * removed patches are filled with a **blurred copy of the picture** (Fong & Vedaldi,
    https://arxiv.org/abs/1704.03296), not flat grey: grey squares are new objects with hard edges of their own.
  The same check ordered, stepped and scored by Quantus's PixelFlipping gives the same curves
  (tests/core/test_trust_reference.py).
- Randomisation (Adebayo et al., "Sanity checks for saliency maps", https://arxiv.org/abs/1810.03292):
  re-initialise the network's layers from the output backwards (cascading) and redraw the map; a map that stays
  the same on a re-initialised network explains the picture, not the network. Layers are re-initialised with
  their own `reset_parameters()` under one seed, the procedure of Quantus's ModelParameterRandomisation (MPRT),
  and similarity is Spearman's rank correlation of the maps' magnitudes, ties sharing their average rank (as
  `scipy.stats.spearmanr`), which matters for maps with many zeros such as Grad-CAM's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import nn

from core.explain import LogOdds, explain, global_random
from core.training import to_tensor

FILLS: dict[str, str] = {
    "blur": "a blurred copy of the picture",
    "grey": "plain mid-grey",
}
GREY = 128


@dataclass(frozen=True)
class DeletionCheck:
    """The explained class's log-odds as ever more patches are removed: the map's most important first, its
    least important first, and in random order."""

    fractions: np.ndarray  # (S,) share of the picture removed, from 0 to 1
    most_first: np.ndarray  # (S,) log-odds, the map's most important patches removed first
    least_first: np.ndarray  # (S,) the map's least important patches removed first
    random_order: np.ndarray  # (S,) averaged over several random orders
    fill: str  # a key of FILLS: what removed patches become

    @property
    def most_first_area(self) -> float:
        """Average log-odds along the most-important-first curve: lower means the map found what matters."""
        return _area(self.most_first, self.fractions)

    @property
    def least_first_area(self) -> float:
        return _area(self.least_first, self.fractions)

    @property
    def random_area(self) -> float:
        return _area(self.random_order, self.fractions)

    @property
    def passes(self) -> bool:
        """Removing what the map points at hurts more than removing what it calls unimportant, and than chance."""
        return self.most_first_area < min(self.least_first_area, self.random_area)


def _area(values: np.ndarray, positions: np.ndarray) -> float:
    """Trapezoid rule: the area under a curve sampled at `positions` (spanning 0..1: the curve's average)."""
    return float(((values[1:] + values[:-1]) / 2 * np.diff(positions)).sum())


@torch.no_grad()
def log_odds(model: nn.Module, images: np.ndarray, target: int, batch_size: int = 16) -> np.ndarray:
    """(N,) the network's log-odds log(p / (1 − p)) for class `target` on (N, H, W, 3) uint8 pictures."""
    scorer = LogOdds(model)
    chunks = [scorer(to_tensor(images[i : i + batch_size]))[:, target] for i in range(0, len(images), batch_size)]
    return torch.cat(chunks).numpy().astype(np.float64)


def filled(image: np.ndarray, fill: str) -> np.ndarray:
    """(H, W, 3) uint8: what every removed patch of `image` becomes under `fill` (a key of FILLS). The blur's
    radius is a sixteenth of the picture's side: a patch's own detail goes, its colour stays."""
    if fill not in FILLS:
        raise ValueError(f"unknown fill {fill!r}; choose one of {', '.join(FILLS)}")
    if fill == "grey":
        return np.full_like(image, GREY)
    radius = max(1.0, min(image.shape[:2]) / 16)
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)), dtype=np.uint8)


def patch_ids(height: int, width: int, grid: int) -> np.ndarray:
    """(H, W) id of the grid × grid patch each pixel belongs to, row by row."""
    rows = np.minimum(np.arange(height) * grid // height, grid - 1)
    columns = np.minimum(np.arange(width) * grid // width, grid - 1)
    return rows[:, None] * grid + columns[None, :]


def patch_evidence(attribution: np.ndarray, grid: int) -> np.ndarray:
    """(grid * grid,) the map's evidence summed over each patch."""
    patches = patch_ids(*attribution.shape, grid)
    return np.bincount(patches.reshape(-1), weights=attribution.reshape(-1), minlength=grid * grid)


def _removal_series(image: np.ndarray, fill: np.ndarray, patches: np.ndarray, order: np.ndarray,
                    counts: np.ndarray) -> np.ndarray:
    """(S, H, W, 3): the picture with the first counts[s] patches of `order` replaced by `fill`."""
    series = np.broadcast_to(image, (len(counts), *image.shape)).copy()
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    pixel_rank = rank[patches]  # (H, W): when each pixel's patch is removed
    for step, count in enumerate(counts):
        removed = pixel_rank < count
        series[step][removed] = fill[removed]
    return series


def deletion_check(
    model: nn.Module, image: np.ndarray, target: int, attribution: np.ndarray, steps: int = 16,
    grid: int = 8, random_orders: int = 3, seed: int = 0, fill: str = "blur",
) -> DeletionCheck:
    """Remove a grid × grid division of an (H, W, 3) uint8 picture patch by patch — the patches with the most
    evidence in the (H, W) map first, then those with the least first, then in random orders — and record the
    log-odds of `target` after each of `steps` steps. Patches, not single pixels: scattered pixels are a strange
    picture of their own and fool the network either way. The model must be in eval mode."""
    if model.training:
        raise ValueError("run the deletion check on a model in eval mode (model.eval())")
    if attribution.shape != image.shape[:2]:
        raise ValueError(f"map {attribution.shape} and picture {image.shape[:2]} must have the same size")
    if steps < 2 or grid < 2:
        raise ValueError(f"steps and grid must be at least 2, got {steps} and {grid}")
    patches = patch_ids(*attribution.shape, grid)
    evidence = patch_evidence(attribution, grid)
    counts = np.linspace(0, grid * grid, steps + 1).round().astype(int)
    replacement = filled(image, fill)

    def curve(order: np.ndarray) -> np.ndarray:
        return log_odds(model, _removal_series(image, replacement, patches, order, counts), target)

    rng = np.random.default_rng(seed)
    random_curves = [curve(rng.permutation(grid * grid)) for _ in range(random_orders)]
    return DeletionCheck(
        fractions=counts / (grid * grid),
        most_first=curve(np.argsort(-evidence, kind="stable")),
        least_first=curve(np.argsort(evidence, kind="stable")),
        random_order=np.mean(random_curves, axis=0),
        fill=fill,
    )


@dataclass(frozen=True)
class RandomisationCheck:
    """How similar the map stays as more and more of the network is re-initialised (output side first)."""

    layers: tuple[str, ...]  # what had been re-initialised at each step, cumulatively
    similarity: np.ndarray  # (L,) rank correlation of |map| with the original |map|, 1 = unchanged
    maps: tuple[np.ndarray, ...]  # (H, W) map after each step

    @property
    def passes(self) -> bool:
        """The map must change once the whole network is re-initialised (rank correlation below 0.5)."""
        return bool(self.similarity[-1] < 0.5)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0 of a flat array, tied values sharing the average of their ranks."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # first position of each run of ties
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends - 1) / 2, ends - starts)
    return ranks


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation of two arrays of the same size, ties sharing their average rank."""
    a, b = (_average_ranks(np.asarray(values, dtype=np.float64).reshape(-1)) for values in (first, second))
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def weight_layers(model: nn.Module) -> list[str]:
    """Names of the layers that can be re-initialised (those with `reset_parameters`), from the output back to
    the input: the cascading order of the randomisation check."""
    return [name for name, module in model.named_modules() if name and hasattr(module, "reset_parameters")][::-1]


def _reinitialise(module: nn.Module, seed: int) -> None:
    """Re-initialise every layer inside `module` (itself included) as at the start of training, each from the
    same seed, as Quantus's MPRT does (`torch.manual_seed(seed + 1)` before each `reset_parameters`)."""
    layers = [layer for _, layer in module.named_modules() if hasattr(layer, "reset_parameters")][::-1]
    with global_random, torch.random.fork_rng(devices=[]):
        for layer in layers:
            torch.manual_seed(seed + 1)
            layer.reset_parameters()


def randomisation_check(
    model: nn.Module, image: np.ndarray, target: int, method: str, seed: int = 0,
    groups: Sequence[Sequence[str]] | None = None, baseline: torch.Tensor | None = None,
) -> RandomisationCheck:
    """Re-initialise a copy of `model` group by group, output side first (default: one layer at a time), each
    named layer with everything inside it; redraw the `method` map of an (H, W, 3) uint8 picture for `target`
    after each group, and measure how similar it stays to the original map."""
    original = explain(model, image[None], target, method, baseline=baseline, seed=seed)[0]
    scrambled = copy.deepcopy(model).eval()
    modules = dict(scrambled.named_modules())
    chosen = [list(group) for group in groups] if groups is not None else [[name] for name in weight_layers(model)]
    names, similarity, maps = [], [], []
    for group in chosen:
        for name in group:
            if name not in modules:
                raise ValueError(f"the model has no layer called {name!r}")
            _reinitialise(modules[name], seed)
        redrawn = explain(scrambled, image[None], target, method, baseline=baseline, seed=seed)[0]
        names.append(group[-1] if len(group) == 1 else f"{group[0]} … {group[-1]}")
        similarity.append(rank_correlation(np.abs(original), np.abs(redrawn)))
        maps.append(redrawn)
    return RandomisationCheck(tuple(names), np.array(similarity), tuple(maps))

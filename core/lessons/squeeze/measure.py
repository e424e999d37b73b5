"""How the squeeze lesson measures a network: accuracy, file size on disk, the clock, and how its maps compare
with the big network's (Occlusion: the one method that needs no gradients, so it runs on int8 too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.evidence import area_shares, part_shares
from core.explain import explain
from core.lessons.squeeze.int8 import save_int8
from core.lessons.squeeze.networks import (
    accuracy,
    count_weights,
    milliseconds_per_picture,
    rank_correlation,
    save_weights,
)
from core.scenes import GRASS, Scenes

KINDS: tuple[str, ...] = ("big", "int8", "pruned", "distilled", "scratch")
NAMES: dict[str, str] = {
    "big": "Big network",
    "int8": "8-bit copy (int8)",
    "pruned": "Pruned copy",
    "distilled": "Distilled small",
    "scratch": "Small from scratch",
}
HOW: dict[str, str] = {
    "big": "the teacher: trained on the labelled pictures",
    "int8": "the big network, every number stored in 8 bits instead of 32",
    "pruned": "the big network, its weakest filters cut out, then fine-tuned",
    "distilled": "a small network that learned to copy the big network's answers",
    "scratch": "the same small network, trained on the same labelled pictures alone",
}
MAP_METHOD = "occlusion"  # the one method that runs on every network here, int8 included (no gradients needed)
SAME_MAP = 0.7  # mean rank correlation with the big network's maps above which "the maps agree"
SAME_GRASS = 0.05  # grass evidence within this of the big network's: "looks at the grass as much"


@dataclass(frozen=True)
class Squeezed:
    """One network as the lesson compares it."""

    key: str
    accuracy: float  # on the test pictures
    filters: tuple[int, ...]  # filters per layer
    weights: int  # numbers it stores (for int8: the same count, each in 8 bits)
    file_bytes: int  # size of its saved state_dict, measured on disk
    file: bytes  # that file, for download (read back with `torch.load(weights_only=True)`)
    ms_one: float  # milliseconds per picture, one picture at a time, one processor core
    ms_batch: float  # milliseconds per picture, 64 pictures at once
    seconds: float  # training or shrinking time

    @property
    def name(self) -> str:
        return NAMES[self.key]

    @property
    def kb(self) -> float:
        return self.file_bytes / 1000


@dataclass(frozen=True)
class MapComparison:
    """How one network's Occlusion maps of the check pictures compare with the big network's."""

    key: str
    rank_correlation: float  # mean over the check pictures (1 for the big network itself)
    grass_share: float  # mean share of positive evidence on grass, check pictures with grass
    grass_area: float  # the share of those pictures' pixels that are grass

    @property
    def survives(self) -> bool:
        return self.rank_correlation >= SAME_MAP


def measure(key: str, network: nn.Module, folder: Path, test: torch.Tensor, labels: torch.Tensor,
            seconds: float) -> Squeezed:
    """Accuracy, file size on disk, and the clock (one picture at a time and 64 at once) of one network."""
    path = folder / f"{key}.pt"
    size = save_int8(network, path) if key == "int8" else save_weights(network, path)
    weights = count_weights(network) if key != "int8" else count_weights_int8(network)
    return Squeezed(key, accuracy(network, test, labels), tuple(network.channels), weights, size, path.read_bytes(),
                    milliseconds_per_picture(network, test, 1, 30), milliseconds_per_picture(network, test, 64, 5),
                    seconds)


def count_weights_int8(network: nn.Module) -> int:
    """Numbers an int8 network stores in its convolutions and its linear layer (weights and biases)."""
    total = 0
    for module in network.modules():
        if hasattr(module, "weight") and callable(module.weight):  # quantised modules expose weight()
            total += module.weight().numel()
            bias = module.bias() if callable(getattr(module, "bias", None)) else None
            total += 0 if bias is None else bias.numel()
    return total


def compare_maps(models: dict[str, nn.Module], check: Scenes, baseline: torch.Tensor,
                 seed: int) -> tuple[dict[str, np.ndarray], tuple[MapComparison, ...]]:
    """Occlusion maps of the `check` pictures towards their right answers, for every network, and how each compares
    with the big network's: rank correlation per picture (averaged), and grass evidence on the pictures with grass."""
    on_grass = check.on_grass
    maps = {key: explain(model, check.images, check.labels, MAP_METHOD, baseline=baseline, seed=seed)
            for key, model in models.items()}
    area = float(area_shares(check.masks[on_grass])[:, GRASS].mean()) if on_grass.any() else 0.0
    comparisons = []
    for key in models:
        correlation = float(np.mean([rank_correlation(maps["big"][i], maps[key][i]) for i in range(len(check))]))
        grass = float(part_shares(maps[key][on_grass], check.masks[on_grass])[:, GRASS].mean()) if on_grass.any() else 0.0
        comparisons.append(MapComparison(key, correlation, grass, area))
    return maps, tuple(comparisons)

"""Where the breed networks look: maps of a network trained on few pictures and of one trained on many, and the
share of their evidence that falls on the ear tips — the one place where the two breeds differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from core.explain import METHODS, average_colour_baseline, explain
from core.models import SmallCNN
from core.scenes import ear_tip_mask
from core.training import accuracy, predict_proba

if TYPE_CHECKING:
    from core.lessons.how_many_pictures.experiment import HowManySettings, TestSet

# Integrated Gradients: signed, pixel-sharp (the ear tips are a few pixels), ~50 ms a picture on this CPU.
MAP_METHOD = "ig"


@dataclass(frozen=True)
class BreedMaps:
    """One breed network's maps on the first `map_pictures` test pictures, and where their evidence falls."""

    per_class: int
    accuracy: float  # on the whole breed test set
    maps: np.ndarray  # (N, H, W) float32, towards the network's own answer
    predicted: np.ndarray  # (N,) the network's answers
    tip_share: float  # mean share of the positive evidence on the ear tips
    tip_area: float  # mean share of the pixels that are ear tips: what a map blind to content gives
    tip_shares: np.ndarray  # (N,) per picture

    @property
    def focus(self) -> float:
        """How many times more evidence the ear tips get than their share of the picture."""
        return self.tip_share / self.tip_area if self.tip_area > 0 else 0.0


@dataclass(frozen=True)
class MapComparison:
    """The small and the large breed network side by side, on the same pictures."""

    method: str
    images: np.ndarray  # (N, H, W, 3) uint8
    labels: np.ndarray  # (N,)
    tips: np.ndarray  # (N, H, W) bool: the telling part
    small: BreedMaps
    large: BreedMaps


def tip_shares(maps: np.ndarray, tips: np.ndarray) -> np.ndarray:
    """Share of each map's positive evidence that falls on the ear tips: (N, H, W) maps and masks → (N,)
    (0 for a map with no positive evidence)."""
    if maps.shape != tips.shape:
        raise ValueError(f"maps {maps.shape} and masks {tips.shape} must have the same shape")
    positive = np.clip(maps, 0, None).reshape(len(maps), -1).astype(np.float64)
    inside = (positive * tips.reshape(len(tips), -1)).sum(1)
    total = positive.sum(1)
    return np.divide(inside, total, out=np.zeros_like(total), where=total > 0)


def breed_maps(model: SmallCNN, per_class: int, test: "TestSet", count: int, baseline: torch.Tensor,
               tips: np.ndarray, seed: int) -> BreedMaps:
    images = test.images[:count]
    predicted = predict_proba(model, images).argmax(1)
    maps = explain(model, images, predicted, MAP_METHOD, baseline=baseline, seed=seed)  # (N, H, W)
    shares = tip_shares(maps, tips)
    return BreedMaps(per_class, accuracy(predict_proba(model, test.images), test.labels), maps, predicted,
                     float(shares.mean()), float(tips.reshape(len(tips), -1).mean(1).mean()), shares)


def compare_maps(settings: "HowManySettings", states: dict[int, dict[str, torch.Tensor]],
                 test: "TestSet") -> MapComparison:
    """Maps of the first seed's breed networks at `settings.map_sizes`, on the first `map_pictures` breed test
    pictures; the "nothing here" picture is the breed test pictures' average colour."""
    count = settings.map_pictures
    tips = np.stack([ear_tip_mask(spec, settings.image_size) for spec in test.specs[:count]])
    baseline = average_colour_baseline(test.images)
    networks = []
    for per_class in settings.map_sizes:
        model = SmallCNN(settings.model_config).to(memory_format=torch.channels_last)
        model.load_state_dict(states[per_class])
        networks.append(breed_maps(model.eval(), per_class, test, count, baseline, tips, settings.seed))
    return MapComparison(METHODS[MAP_METHOD].key, test.images[:count], test.labels[:count], tips, *networks)

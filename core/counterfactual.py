"""The counterfactual check: move the same animal to another background and see how much the answer changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from core.scenes import NON_GRASS, SceneSpec, Scenes, draw_scenes, with_ground
from core.training import predict_proba


def swap_grounds(specs: tuple[SceneSpec, ...], seed: int) -> list[SceneSpec]:
    """Each scene with its ground swapped: grass becomes sand, snow or dirt; everything else becomes grass."""
    rng = np.random.default_rng(seed)
    return [with_ground(spec, str(rng.choice(NON_GRASS)) if spec.ground == "grass" else "grass") for spec in specs]


@dataclass(frozen=True)
class BackgroundSwap:
    """How much the network's confidence in the right answer moves when only the background changes."""

    reliance: float  # mean |P(right | original) - P(right | swapped)|, 0 = ignores background, 1 = background decides
    flipped: float  # share of pictures whose predicted class changes
    original_confidence: np.ndarray  # (N,) P(right answer) on the original pictures
    swapped_confidence: np.ndarray  # (N,) the same on the swapped pictures


def background_swap(model: nn.Module, scenes: Scenes, seed: int) -> BackgroundSwap:
    """Redraw `scenes` with swapped grounds and compare the network's answers."""
    swapped = draw_scenes(swap_grounds(scenes.specs, seed), scenes.classes, scenes.images.shape[1])
    rows = np.arange(len(scenes))
    before = predict_proba(model, scenes.images)
    after = predict_proba(model, swapped.images)
    original, moved = before[rows, scenes.labels], after[rows, scenes.labels]
    return BackgroundSwap(
        reliance=float(np.abs(original - moved).mean()),
        flipped=float((before.argmax(1) != after.argmax(1)).mean()),
        original_confidence=original,
        swapped_confidence=moved,
    )

"""Where the evidence comes from: attribution maps summed over the parts of each scene."""

from __future__ import annotations

import numpy as np

from core.scenes import PARTS


def part_shares(maps: np.ndarray, masks: np.ndarray, num_parts: int = len(PARTS)) -> np.ndarray:
    """Share of each picture's positive evidence that falls on each part: (N, H, W) maps and part masks
    → (N, num_parts), rows summing to 1 (all zeros for a picture with no positive evidence)."""
    if maps.shape != masks.shape:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} must have the same shape")
    positive = np.clip(maps, 0, None).reshape(len(maps), -1).astype(np.float64)  # (N, H*W)
    flat_masks = masks.reshape(len(masks), -1)
    sums = np.stack([(positive * (flat_masks == part)).sum(1) for part in range(num_parts)], axis=1)  # (N, P)
    totals = sums.sum(1, keepdims=True)
    return np.divide(sums, totals, out=np.zeros_like(sums), where=totals > 0)


def area_shares(masks: np.ndarray, num_parts: int = len(PARTS)) -> np.ndarray:
    """Share of each picture's pixels that each part covers: (N, H, W) masks → (N, num_parts)."""
    flat = masks.reshape(len(masks), -1)
    return np.stack([(flat == part).mean(1) for part in range(num_parts)], axis=1)


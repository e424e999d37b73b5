"""Evidence per part and the background swap, on hand-computed examples and invariants."""

from __future__ import annotations

import numpy as np
import pytest

from core.counterfactual import background_swap, swap_grounds
from core.evidence import area_shares, part_shares
from core.scenes import GRASS


def test_part_shares_on_a_hand_computed_example():
    """Test whether positive evidence is summed per part and negative evidence is ignored."""
    maps = np.array([[[1.0, 3.0], [-5.0, 4.0]]])  # (1, 2, 2)
    masks = np.array([[[0, 1], [1, 3]]], dtype=np.uint8)
    expected = [1 / 8, 3 / 8, 0, 4 / 8, 0]
    assert np.allclose(part_shares(maps, masks), [expected])


def test_part_shares_rows_sum_to_one_and_an_empty_map_gives_zeros():
    """Test whether every picture's shares sum to 1, and a map with no positive evidence gives all zeros."""
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(5, 8, 8))
    maps[2] = -np.abs(maps[2])
    masks = rng.integers(0, 5, size=(5, 8, 8)).astype(np.uint8)
    shares = part_shares(maps, masks)
    assert np.allclose(np.delete(shares, 2, axis=0).sum(1), 1.0)
    assert np.all(shares[2] == 0)


def test_area_shares_count_pixels():
    """Test whether area shares are pixel fractions."""
    masks = np.array([[[3, 3], [3, 4]]], dtype=np.uint8)
    assert np.allclose(area_shares(masks), [[0, 0, 0, 0.75, 0.25]])


def test_mismatched_shapes_are_refused():
    """Test whether a map and a mask of different sizes raise ValueError."""
    with pytest.raises(ValueError):
        part_shares(np.zeros((1, 4, 4)), np.zeros((1, 5, 5), dtype=np.uint8))


def test_swapping_grounds_flips_grass_and_keeps_everything_else(small_data):
    """Test whether every grass scene moves off grass and every other scene moves onto it."""
    specs = small_data.check.specs
    swapped = swap_grounds(specs, seed=0)
    for before, after in zip(specs, swapped):
        assert (before.ground == "grass") != (after.ground == "grass")
        assert (before.animal, before.centre_x, before.colour) == (after.animal, after.centre_x, after.colour)


def test_background_swap_of_a_background_blind_model_is_zero(small_data):
    """Test whether a model that ignores the ground entirely shows zero reliance."""
    import torch

    class ConstantModel(torch.nn.Module):
        def forward(self, inputs):  # type: ignore[no-untyped-def]
            return torch.tensor([[2.0, -1.0]]).expand(len(inputs), 2)

    swap = background_swap(ConstantModel().eval(), small_data.check, seed=0)
    assert swap.reliance == pytest.approx(0.0) and swap.flipped == 0.0


def test_background_swap_of_a_grass_detector_is_total(small_data):
    """Test whether a model that only looks at the amount of green says 'bunny' on grass, and shows full
    reliance (every answer flips when the ground is swapped)."""
    import torch

    class GreenModel(torch.nn.Module):
        def forward(self, inputs):  # type: ignore[no-untyped-def]
            red, green, blue = inputs[:, 0], inputs[:, 1], inputs[:, 2]
            grassy = ((green > red + 0.15) & (green > blue + 0.15)).float().mean((1, 2)) - 0.3  # (N,)
            return torch.stack([grassy * 100, -grassy * 100], dim=1)

    swap = background_swap(GreenModel().eval(), small_data.check, seed=0)
    assert swap.flipped == 1.0 and swap.reliance > 0.9
    assert (small_data.check.masks == GRASS).any()

"""Overlays: size, and colours that mean what the legend says."""

from __future__ import annotations

import numpy as np
import pytest

from core.overlay import AGAINST_COLOUR, FOR_COLOUR, IMPORTANCE_COLOUR, colour_strip, overlay


def test_overlay_is_enlarged_and_colours_follow_the_sign():
    """Test whether positive evidence turns pixels orange, negative blue, and zero leaves the picture."""
    image = np.full((8, 8, 3), 128, dtype=np.uint8)
    attribution = np.zeros((8, 8))
    attribution[0, 0], attribution[7, 7] = 1.0, -1.0
    result = overlay(image, attribution, scale=1.0, opacity=1.0, zoom=1)
    assert result.shape == (8, 8, 3)
    assert np.allclose(result[0, 0], FOR_COLOUR, atol=1)
    assert np.allclose(result[7, 7], AGAINST_COLOUR, atol=1)
    assert np.all(result[4, 4] == 128)
    assert overlay(image, attribution, zoom=4).shape == (32, 32, 3)


def test_overlay_refuses_a_map_of_the_wrong_size():
    """Test whether a mismatched map raises ValueError."""
    with pytest.raises(ValueError):
        overlay(np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4)))


def test_colour_strip_runs_from_blue_to_orange():
    """Test whether the legend strip starts blue and ends orange."""
    strip = colour_strip(width=50, height=4)
    assert strip.shape == (4, 50, 3)
    assert np.allclose(strip[0, 0], AGAINST_COLOUR, atol=1) and np.allclose(strip[0, -1], FOR_COLOUR, atol=1)


def test_importance_only_maps_use_their_own_colour():
    """Test whether unsigned maps are drawn in the importance colour, not the 'pushed towards' orange."""
    image = np.full((4, 4, 3), 128, dtype=np.uint8)
    attribution = np.zeros((4, 4))
    attribution[1, 1] = 1.0
    result = overlay(image, attribution, scale=1.0, opacity=1.0, zoom=1, signed=False)
    assert np.allclose(result[1, 1], IMPORTANCE_COLOUR, atol=1)
    strip = colour_strip(width=10, height=2, signed=False)
    assert np.all(strip[0, 0] == 200) and np.allclose(strip[0, -1], IMPORTANCE_COLOUR, atol=1)

"""The scene generator: shapes, part masks that match what is drawn, determinism, the grass rate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.scenes import (
    BODY, COARSE_CLASSES, EARS, EYE, FINE_CLASSES, GRASS, OTHER, breed_specs, draw_scene, draw_scenes,
    shortcut_specs, surprise_specs, with_ground,
)


def test_shapes_and_types():
    """Test whether a batch has (N, H, W, 3) uint8 pictures, (N, H, W) masks and one label per picture."""
    scenes = draw_scenes(shortcut_specs(10, 0.7, seed=1), COARSE_CLASSES, image_size=48)
    assert scenes.images.shape == (10, 48, 48, 3) and scenes.images.dtype == np.uint8
    assert scenes.masks.shape == (10, 48, 48) and scenes.masks.dtype == np.uint8
    assert scenes.labels.tolist() == [0, 1] * 5  # bunny, elephant, alternating
    assert set(np.unique(scenes.masks)) <= {EYE, EARS, BODY, GRASS, OTHER}


def test_every_animal_has_an_eye_ears_and_a_body_in_its_mask():
    """Test whether the mask marks the story's features on every drawn animal."""
    scenes = draw_scenes(shortcut_specs(40, 0.5, seed=2), COARSE_CLASSES)
    for mask in scenes.masks:
        counts = np.bincount(mask.ravel(), minlength=5)
        assert counts[EYE] >= 2 and counts[EARS] >= 10 and counts[BODY] >= 100


def test_masks_cover_what_is_drawn():
    """Test whether the masked parts have the colours they were drawn with: dark eyes, green grass."""
    scenes = draw_scenes(shortcut_specs(40, 0.5, seed=3), COARSE_CLASSES)
    eye_pixels = scenes.images[scenes.masks == EYE].astype(int)
    assert eye_pixels.mean() < 90  # eyes are drawn near-black; edges blend a little
    grass_pixels = scenes.images[scenes.masks == GRASS].astype(int)
    assert (grass_pixels[:, 1] > grass_pixels[:, 0]).mean() > 0.95  # green beats red
    assert (grass_pixels[:, 1] > grass_pixels[:, 2]).mean() > 0.95  # green beats blue


def test_grass_mask_only_on_grass_scenes():
    """Test whether grass pixels appear exactly in the scenes whose ground is grass."""
    scenes = draw_scenes(shortcut_specs(30, 0.5, seed=4), COARSE_CLASSES)
    has_grass = (scenes.masks == GRASS).any(axis=(1, 2))
    assert has_grass.tolist() == scenes.on_grass.tolist()


def test_same_seed_same_scenes_and_different_seed_different_scenes():
    """Test whether drawing is a pure function of the seed."""
    first = draw_scenes(shortcut_specs(8, 0.9, seed=5), COARSE_CLASSES)
    again = draw_scenes(shortcut_specs(8, 0.9, seed=5), COARSE_CLASSES)
    other = draw_scenes(shortcut_specs(8, 0.9, seed=6), COARSE_CLASSES)
    assert np.array_equal(first.images, again.images) and np.array_equal(first.masks, again.masks)
    assert not np.array_equal(first.images, other.images)


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_grass_rate_at_the_extremes(rate):
    """Test whether at rate 1 every bunny is on grass and no elephant is (and the reverse at 0)."""
    specs = shortcut_specs(60, rate, seed=7)
    for spec in specs:
        expected = rate == 1.0 if spec.animal == "bunny" else rate == 0.0
        assert (spec.ground == "grass") == expected


def test_surprise_pictures_break_the_pattern():
    """Test whether surprise pictures are bunnies off grass and elephants on grass."""
    for spec in surprise_specs(20, seed=8):
        assert (spec.ground == "grass") == (spec.animal == "elephant")


def test_swapping_the_ground_keeps_the_animal():
    """Test whether the counterfactual redraw changes the background and nothing else."""
    spec = shortcut_specs(1, 1.0, seed=9)[0]
    image, mask = draw_scene(spec)
    moved_image, moved_mask = draw_scene(with_ground(spec, "snow"))
    animal = np.isin(mask, (EYE, EARS, BODY))
    assert np.array_equal(animal, np.isin(moved_mask, (EYE, EARS, BODY)))
    inside = animal.copy()
    for _ in range(2):  # two pixels in from the edge: edges blend with the new ground when shrunk
        inside &= np.roll(inside, 1, 0) & np.roll(inside, -1, 0) & np.roll(inside, 1, 1) & np.roll(inside, -1, 1)
    assert inside.sum() > 100
    same = (image[inside] == moved_image[inside]).all(-1).mean()
    assert same > 0.97  # a thin ear's rasterised mask can be a pixel wider than its smoothed drawing
    assert (mask == GRASS).any() and not (moved_mask == GRASS).any()


def test_breeds_differ_only_around_the_ears():
    """Test whether the two bunny breeds of the fine-grained task differ only in subtle ear features."""
    spec = breed_specs(1, seed=10)[0]
    meadow, meadow_mask = draw_scene(replace(spec, breed=0))
    hollow, hollow_mask = draw_scene(replace(spec, breed=1))
    changed = (meadow != hollow).any(-1)
    ears = (meadow_mask == EARS) | (hollow_mask == EARS)
    grown = ears | np.roll(ears, 1, 0) | np.roll(ears, -1, 0) | np.roll(ears, 1, 1) | np.roll(ears, -1, 1)
    assert changed.any()
    assert changed[~grown].sum() == 0
    labels = draw_scenes(breed_specs(4, seed=11), FINE_CLASSES).labels
    assert labels.tolist() == [0, 1, 0, 1]


def test_bad_settings_are_rejected():
    """Test whether impossible settings raise a clear ValueError."""
    with pytest.raises(ValueError, match="grass_rate"):
        shortcut_specs(4, 1.5, seed=0)
    with pytest.raises(ValueError, match="image_size"):
        draw_scene(shortcut_specs(1, 0.5, seed=0)[0], image_size=4)
    with pytest.raises(ValueError, match="ground"):
        with_ground(shortcut_specs(1, 0.5, seed=0)[0], "lava")

"""The coarse scenes the other lessons use stay pixel-identical whatever this lesson adds to core/scenes.py."""

from __future__ import annotations

import hashlib

import pytest

from core.scenes import COARSE_CLASSES, PARTS, draw_scenes, shortcut_specs, surprise_specs

# sha256 (first 16 hex digits) of images + masks + labels, drawn by core/scenes.py as it was before this lesson
# added anything to it (commit a5a56c6).
PINNED = [
    (lambda: shortcut_specs(12, 1.0, 3), 64, "78caa87a9bb81670"),
    (lambda: shortcut_specs(12, 0.5, 4), 32, "ffb26d80e236d047"),
    (lambda: surprise_specs(8, 5), 64, "04e7f0aa30c176df"),
]


@pytest.mark.parametrize("specs, size, digest", PINNED, ids=["shortcut64", "shortcut32", "surprise64"])
def test_coarse_scenes_are_drawn_exactly_as_before(specs, size, digest):
    """Test whether bunny-vs-elephant scenes (pictures, part masks, labels) are byte for byte those drawn before."""
    scenes = draw_scenes(specs(), COARSE_CLASSES, size)
    hasher = hashlib.sha256()
    for array in (scenes.images, scenes.masks, scenes.labels):
        hasher.update(array.tobytes())
    assert hasher.hexdigest()[:16] == digest


def test_the_flagship_parts_keep_their_meaning():
    """Test whether the part ids the flagship lesson measures are still the same, in the same order."""
    assert PARTS == ("eye", "ears", "fur / body", "grass", "other background")

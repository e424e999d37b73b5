"""The photo pipeline shared by the page and the CLI: targets, maps, trust checks, thread safety."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.images import load_image
from core.photo import (
    deletion,
    explain_photo,
    overlay_png,
    predict,
    randomisation,
    resolve_target,
    square_view,
)
from core.photo_model import IMAGENET_LABELS, load_photo_model

PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "photos"


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    return load_photo_model()


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return load_image((PHOTOS / "coffee.jpg").read_bytes())


def test_targets_can_be_a_rank_a_number_or_a_name(network, coffee):
    """Test whether top2, a class number and a class name all resolve to class indices."""
    predictions = predict(network, coffee)
    assert resolve_target("top1", predictions) == predictions[0].index == IMAGENET_LABELS.index("espresso")
    assert resolve_target("top2", predictions) == predictions[1].index
    assert resolve_target("281", predictions) == 281
    assert resolve_target("Tabby", predictions) == IMAGENET_LABELS.index("tabby")
    for bad in ("top9", "1000", "unicorn"):
        with pytest.raises(ValueError):
            resolve_target(bad, predictions)


def test_the_deletion_check_falls_faster_for_grad_cam_than_at_random(network, coffee):
    """Test whether greying out what Grad-CAM points at lowers 'espresso' faster than random patches."""
    target = predict(network, coffee)[0].index
    check = deletion(network, coffee, target, explain_photo(network, coffee, target, "gradcam"))
    assert check.passes and check.map_area < check.random_area - 0.05


def test_the_randomisation_check_sees_grad_cam_change(network, coffee):
    """Test whether scrambling the photo network changes Grad-CAM's map (so the check passes)."""
    target = predict(network, coffee)[0].index
    check = randomisation(network, coffee, target, "gradcam")
    assert len(check.layers) == 6 and check.passes


def test_two_sessions_explaining_at_once_get_the_right_maps(network, coffee):
    """Test whether two threads drawing Grad-CAM maps for different classes on the one shared network
    get exactly the maps they would get alone."""
    cat = load_image((PHOTOS / "chelsea.jpg").read_bytes())
    jobs = [(coffee, 967), (cat, 281)]
    expected = [explain_photo(network, picture, target, "gradcam") for picture, target in jobs]
    results: dict[int, list[np.ndarray]] = {0: [], 1: []}

    def work(index: int) -> None:
        for _ in range(5):
            results[index].append(explain_photo(network, *jobs[index], "gradcam"))

    threads = [threading.Thread(target=work, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index in (0, 1):
        assert len(results[index]) == 5
        assert all(np.allclose(result, expected[index], atol=1e-6) for result in results[index])


def test_overlay_png_and_square_view(network, coffee):
    """Test whether the download is a 448×448 PNG and the bunny-world view is a centred 64×64 square."""
    attribution = explain_photo(network, coffee, 967, "gradcam")
    png = Image.open(io.BytesIO(overlay_png(coffee, attribution, "gradcam")))
    assert png.format == "PNG" and png.size == (448, 448)
    view = square_view(coffee, 64)
    assert view.shape == (64, 64, 3) and view.dtype == np.uint8

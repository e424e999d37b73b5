"""A known answer for the photo trust checks, and the shipped verdicts the page shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.images import load_image
from core.lessons.photo.experiment import SAMPLES, deletion, explain_photo, predict
from core.lessons.photo.truth import inside_share, pasted_on_plain, shipped_verdicts, verdict_rows
from core.photo_model import load_photo_model
from core.trust import filled

PHOTOS = Path(__file__).resolve().parents[3] / "assets" / "photos"


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    return load_photo_model()


@pytest.fixture(scope="module")
def coffee_on_plain():  # type: ignore[no-untyped-def]
    return pasted_on_plain(load_image((PHOTOS / "coffee.jpg").read_bytes()))


def test_removing_the_plain_canvas_removes_nothing(coffee_on_plain):
    """Test whether the known answer holds by construction: the blur of the plain canvas is the canvas, so every
    patch outside the photo (beyond the blur's reach) is unchanged by 'removing' it."""
    canvas, inside = coffee_on_plain
    assert inside.mean() == pytest.approx(0.25)
    near = np.zeros_like(inside)
    rows, columns = np.nonzero(inside)
    reach = 45  # three times the blur's radius (224 / 16 = 14 pixels)
    near[max(rows.min() - reach, 0) : rows.max() + reach + 1, max(columns.min() - reach, 0) : columns.max() + reach + 1] = True
    far = ~near
    difference = np.abs(filled(canvas, "blur")[far].astype(int) - canvas[far].astype(int))
    assert far.mean() > 0.1 and difference.max() <= 1  # at most a rounding step


def test_a_map_on_the_photo_passes_and_a_map_on_the_canvas_fails(network, coffee_on_plain):
    """Test the check's verdicts where the right answer is known: a map that marks exactly the pasted photo
    passes; the same map turned inside out (all evidence on the empty canvas) fails."""
    canvas, inside = coffee_on_plain
    target = predict(network, canvas, k=1)[0].index
    assert deletion(network, canvas, target, inside.astype(np.float32)).passes
    assert not deletion(network, canvas, target, (~inside).astype(np.float32)).passes


def test_grad_cam_finds_the_pasted_photo_and_passes(network, coffee_on_plain):
    """Test whether Grad-CAM, on the coffee pasted on plain grey, puts most of its evidence on the photo (a quarter
    of the canvas; measured 65 %) and passes the deletion check there."""
    canvas, inside = coffee_on_plain
    target = predict(network, canvas, k=1)[0].index
    attribution = explain_photo(network, canvas, target, "gradcam")
    assert inside_share(attribution, inside) > 0.5
    assert deletion(network, canvas, target, attribution).passes


def test_the_shipped_verdicts_are_what_the_checks_give_today(network):
    """Test whether the page's table (assets/lessons/photo/verdicts.json, from `netlens truth --write-verdicts`)
    still holds for the default sample: Grad-CAM's check recomputed gives the same verdict and averages (within
    CPU rounding), and every sample and default method has a row."""
    verdicts = shipped_verdicts()
    assert set(verdicts["samples"]) == set(SAMPLES)
    coffee = load_image((PHOTOS / "coffee.jpg").read_bytes())
    target = predict(network, coffee, k=1)[0].index
    check = deletion(network, coffee, target, explain_photo(network, coffee, target, "gradcam"))
    shipped = verdicts["samples"]["coffee"]["deletion"]["gradcam"]
    assert shipped["passes"] == check.passes
    assert shipped["most_first"] == pytest.approx(check.most_first_area, abs=2e-3)
    assert shipped["least_first"] == pytest.approx(check.least_first_area, abs=2e-3)
    rows = verdict_rows(verdicts, "coffee")
    assert [row["deletion check"] for row in rows].count("fails") == 1
    with pytest.raises(ValueError, match="no verdicts"):
        verdict_rows(verdicts, "unicorn")


@pytest.mark.parametrize("flags, words", [
    (["--rates", "0.5,1", "--seeds", "0"], "at least 3 networks"),
    (["--rates", "half"], "comma-separated numbers"),
    (["--rates", "0.5,1.5,1", "--seeds", "0"], "from 0 to 1"),
])
def test_truth_refuses_a_sweep_it_cannot_measure(capsys, flags, words):
    """Test whether `netlens truth` answers impossible sweeps with one line and exit code 2, before any work."""
    assert main(["truth", "--no-photos", *flags]) == 2
    error = capsys.readouterr().err
    assert words in error and error.count("\n") == 1

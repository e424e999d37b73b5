"""The photo pipeline shared by the page and the CLI: targets, maps, trust checks, thread safety; the lesson's
settings, run, report, excerpts and snippet."""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.explain import METHODS
from core.fit import Progress
from core.images import load_image
from core.lesson import settings_json
from core.lessons.photo import LESSON, PhotoSettings, run_picture
from core.lessons.photo.experiment import (
    DEFAULT_METHODS,
    deletion,
    digest,
    explain_photo,
    overlay_png,
    predict,
    randomisation,
    resolve_target,
    square_view,
)
from core.photo_model import IMAGENET_LABELS, load_photo_model
from core.scenes import COARSE_CLASSES

PHOTOS = Path(__file__).resolve().parents[3] / "assets" / "photos"


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
    """Test whether blurring what Grad-CAM points at lowers 'espresso' faster than random patches and than
    Grad-CAM's least important patches."""
    target = predict(network, coffee)[0].index
    check = deletion(network, coffee, target, explain_photo(network, coffee, target, "gradcam"))
    assert check.passes and check.most_first_area < min(check.random_area, check.least_first_area) - 0.05


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


# ---------------------------------------------------------------------------------------------- the lesson
# Measured with the code before the move into core/lessons/photo (core/photo.py at the starting commit): the
# default screen (the cat, seed 0), top-5 and the sum of each default map.
CAT_TOP5 = [(282, "tiger cat", 0.39141363), (285, "Egyptian cat", 0.33895162), (281, "tabby", 0.18669337),
            (287, "lynx", 0.01780747), (904, "window screen", 0.00129736)]
CAT_MAP_SUMS = {"gradcam": 1402.39697265625, "ig": 9.284383773803711, "occlusion": 4441.81640625,
                "smoothgrad": 1353.5233154296875, "gradientshap": -0.07246708869934082}


@pytest.fixture(scope="module")
def default_run():  # type: ignore[no-untyped-def]
    reports: list[Progress] = []
    return LESSON.run(PhotoSettings(picture="chelsea"), reports.append), reports


def test_the_default_screen_has_the_numbers_of_before_the_move(default_run):
    """Test whether the cat's run (every default method, seed 0) gives exactly the top-5 and the
    maps the old code gave."""
    result, _ = default_run
    # Probabilities to 1e-6: the last digits of float32 arithmetic differ between CPUs (seen: 2e-7 between two).
    assert [(p.index, p.label) for p in result.predictions] == [(index, label) for index, label, _ in CAT_TOP5]
    assert [p.probability for p in result.predictions] == pytest.approx([p for _, _, p in CAT_TOP5], abs=1e-6)
    assert list(result.maps) == list(DEFAULT_METHODS)
    for method, total in CAT_MAP_SUMS.items():
        assert result.maps[method].shape == (224, 224)
        assert float(result.maps[method].sum()) == pytest.approx(total, rel=1e-4, abs=1e-3), method  # CPUs differ ~4e-6


def test_run_and_report_give_the_promised_fields(default_run):
    """Test whether the report has the settings, the top 5, the class explained, one timing per map and
    progress that ends at 100 %, and whether its summary names the class and every method."""
    result, reports = default_run
    answer = LESSON.report(result)
    json.dumps(answer)
    assert answer["settings"] == settings_json(PhotoSettings(picture="chelsea"))
    assert [item["label"] for item in answer["predictions"]] == [label for _, label, _ in CAT_TOP5]
    assert answer["target"] == {"index": 282, "label": "tiger cat", "rank": 1,
                                "probability": result.predictions[0].probability}
    assert set(answer["seconds"]["maps"]) == set(DEFAULT_METHODS) and answer["seconds"]["predict"] > 0
    assert "deletion" not in answer
    assert reports and reports[-1].fraction == 1.0
    text = LESSON.summary(answer)
    assert "explained: tiger cat (class 282, ranked 1, 39.1%)" in text
    assert all(METHODS[method].name in text for method in DEFAULT_METHODS)


def test_the_coffee_check_gives_the_measured_numbers():
    """Test whether `check` runs both trust checks with the numbers measured when the checks moved to log-odds,
    blur, least-important-first and layer re-initialisation (coffee, Grad-CAM: deletion areas −4.004 most
    important first, 0.105 least important first, −3.911 at random; similarity after the last group −0.404;
    measured 2026-12-02) and reports their verdicts."""
    answer = LESSON.report(LESSON.run(PhotoSettings(picture="coffee", methods=("gradcam",), check="gradcam")))
    assert answer["predictions"][0]["label"] == "espresso"
    assert answer["deletion"]["most_first_area"] == pytest.approx(-4.004384413361549, abs=1e-4)
    assert answer["deletion"]["least_first_area"] == pytest.approx(0.10478504002094269, abs=1e-4)
    assert answer["deletion"]["random_area"] == pytest.approx(-3.9106741845607758, abs=1e-4)
    assert answer["randomisation"]["similarity"][-1] == pytest.approx(-0.40419826796981184, abs=1e-6)
    assert answer["deletion"]["sentence"].startswith("Passes: blurring what the map points at")
    assert answer["randomisation"]["sentence"].startswith("Passes: once the network is scrambled")
    assert "deletion check on Grad-CAM: Passes" in LESSON.summary(answer)


def test_a_class_number_outside_the_top_5_is_explained_with_its_rank():
    """Test whether target=281 (tabby) on the coffee photo explains tabby and says how far down it ranks."""
    result = LESSON.run(PhotoSettings(picture="coffee", methods=("gradcam",), target="281"))
    assert result.target.index == 281 and result.target.label == "tabby" and result.rank > 5


@pytest.mark.parametrize("values, words", [
    ({"picture": "holiday"}, "unknown sample photo 'holiday'"),
    ({"methods": ()}, "at least one of"),
    ({"methods": ("gradcam", "magic")}, "unknown method 'magic'"),
    ({"methods": ("ig", "ig")}, "each method once"),
    ({"target": "top6"}, "top1..top5"),
    ({"target": "1000"}, "top1..top5"),
    ({"opacity": 1.5}, "opacity"),
    ({"network": "resnet"}, "unknown network"),
    ({"check": "occlusion", "methods": ("gradcam",)}, "check must be one of the methods shown"),
    ({"check": "gradcam", "network": "bunny-world"}, "ImageNet network only"),
    ({"seed": -1}, "seed"),
])
def test_impossible_settings_are_refused_with_a_reason(values, words):
    """Test whether each impossible setting raises a ValueError naming the problem."""
    with pytest.raises(ValueError, match=re.escape(words)):
        PhotoSettings(**values)


def test_a_fingerprint_names_an_uploaded_photo_that_run_cannot_find():
    """Test whether an upload's fingerprint is a valid picture setting (the link's), which `run` refuses with a
    pointer to `netlens explain`, while `run_picture` runs it from the file's bytes."""
    data = (PHOTOS / "coffee.jpg").read_bytes()
    settings = PhotoSettings(picture=digest(data), methods=("gradcam",))
    with pytest.raises(ValueError, match="netlens explain"):
        LESSON.run(settings)
    assert run_picture(settings, data).predictions[0].label == "espresso"


def test_every_excerpt_is_code_that_exists():
    """Test whether every excerpt the page shows is found in its function's source (not silently empty)."""
    found = LESSON.excerpts()
    assert set(found) == {"answers", "map"}
    assert all(text.strip() for text in found.values())
    assert "explain(PixelInput(model)" in found["map"] and "softmax" in found["answers"]


def test_the_snippets_run_and_print_the_screen(capsys, tmp_path, monkeypatch):
    """Test whether the "from Python" code runs as shown — for a sample, and for an uploaded photo saved as
    my_photo.jpg — and prints the answers and one line per map."""
    settings = PhotoSettings(picture="coffee", methods=("gradcam",))
    exec(LESSON.snippet(settings), {})
    assert "espresso" in capsys.readouterr().out
    data = (PHOTOS / "chelsea.jpg").read_bytes()
    (tmp_path / "my_photo.jpg").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    exec(LESSON.snippet(replace(settings, picture=digest(data))), {})
    printed = capsys.readouterr().out
    assert "tiger cat" in printed and "gradcam (224, 224)" in printed


def test_the_bunny_world_network_looks_at_the_photo_shrunk():
    """Test whether network="bunny-world" trains lesson 1's network and gives its two answers and 64 × 64 maps."""
    result = LESSON.run(PhotoSettings(network="bunny-world", methods=("gradcam", "saliency")))
    assert sorted(p.label for p in result.predictions) == sorted(COARSE_CLASSES)
    assert abs(sum(p.probability for p in result.predictions) - 1) < 1e-5
    assert all(attribution.shape == (64, 64) for attribution in result.maps.values())
    assert "training" in result.seconds

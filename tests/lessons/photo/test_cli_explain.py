"""`netlens explain`: a photo's top-5, the map of the chosen class as a PNG, the trust checks, and one-line
refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from core.cli import main
from core.photo_model import IMAGENET_LABELS

COFFEE = Path(__file__).resolve().parents[3] / "assets" / "photos" / "coffee.jpg"
ESPRESSO = 967


def run_json(capsys, *args: str) -> dict:  # type: ignore[no-untyped-def]
    """The JSON `netlens explain COFFEE ... --json` prints, after checking it succeeded."""
    assert main(["explain", str(COFFEE), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def refusal(capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    """The one stderr line of a `netlens explain` run that must fail with exit code 2."""
    assert main(["explain", *args]) == 2
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert error.startswith("netlens:") and "\n" not in error and "Traceback" not in error
    assert captured.out == ""
    return error


def test_espresso_is_the_class_number_the_test_uses():
    """Test whether class 967 is called "espresso" in the shipped labels."""
    assert IMAGENET_LABELS[ESPRESSO] == "espresso"


def test_explain_json_reports_espresso_and_writes_the_overlay(capsys, tmp_path):
    """Test whether the coffee photo is read as espresso (> 90 %) and the Grad-CAM overlay is a 448×448 PNG."""
    out = tmp_path / "o.png"
    result = run_json(capsys, "--method", "gradcam", "--out", str(out))
    assert len(result["predictions"]) == 5
    assert set(result["predictions"][0]) == {"index", "label", "probability"}
    assert result["predictions"][0]["label"] == "espresso" and result["predictions"][0]["probability"] > 0.9
    assert result["target"]["index"] == ESPRESSO and result["target"]["label"] == "espresso"
    assert result["method"] == "gradcam" and result["out"] == str(out)
    assert result["seconds"]["predict"] > 0 and result["seconds"]["map"] > 0
    assert "deletion" not in result and "randomisation" not in result
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (448, 448)


def test_target_top2_explains_the_second_class(capsys):
    """Test whether `--target top2` explains the second-likeliest class, and no PNG is promised without --out."""
    result = run_json(capsys, "--target", "top2")
    second = result["predictions"][1]
    assert result["target"]["index"] == second["index"] and result["target"]["label"] == second["label"]
    assert result["out"] is None


def test_target_by_class_number(capsys):
    """Test whether `--target 967` explains espresso."""
    result = run_json(capsys, "--target", str(ESPRESSO))
    assert result["target"] == {**result["target"], "index": ESPRESSO, "label": "espresso"}


def test_plain_output_names_the_explained_class(capsys, tmp_path):
    """Test whether the plain output lists the top 5 with percentages, the explained class and the PNG's path."""
    out = tmp_path / "o.png"
    assert main(["explain", str(COFFEE), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "espresso (class 967)" in text and "%" in text and "explained: espresso" in text and str(out) in text


def test_trust_json_has_the_checks_with_matching_lengths(capsys):
    """Test whether `--trust --json` adds the deletion curve and the randomisation steps, consistently sized."""
    result = run_json(capsys, "--method", "gradcam", "--trust")
    deletion = result["deletion"]
    assert {"most_first_area", "least_first_area", "random_area", "passes", "fractions", "most_first", "least_first",
            "random_order", "fill", "measure"} <= set(deletion)
    assert deletion["fill"] == "blur" and deletion["measure"] == "log-odds of the explained class"
    assert (len(deletion["fractions"]) == len(deletion["most_first"]) == len(deletion["least_first"])
            == len(deletion["random_order"]) == 17)
    assert deletion["fractions"][0] == 0 and deletion["fractions"][-1] == 1
    assert isinstance(deletion["passes"], bool)
    randomisation = result["randomisation"]
    assert len(randomisation["layers"]) == len(randomisation["similarity"]) == 6
    assert isinstance(randomisation["passes"], bool)


@pytest.mark.parametrize("target", ["top9", "1000", "no such class"])
def test_bad_target_is_refused_with_one_line(target, capsys):
    """Test whether an impossible --target gives exit code 2 and one line."""
    refusal(capsys, str(COFFEE), "--target", target)


def test_unknown_method_is_refused_before_the_file_is_read(capsys, tmp_path):
    """Test whether an unknown method is named as the problem even when the file is missing too."""
    assert "unknown method 'magic'" in refusal(capsys, str(tmp_path / "missing.jpg"), "--method", "magic")


def test_missing_file_is_refused_with_one_line(capsys, tmp_path):
    """Test whether a missing photo gives exit code 2 and one line naming the file."""
    assert "missing.jpg" in refusal(capsys, str(tmp_path / "missing.jpg"))


def test_text_file_is_refused_with_one_line(capsys, tmp_path):
    """Test whether a text file named .jpg is refused as not a picture."""
    fake = tmp_path / "fake.jpg"
    fake.write_text("this is not a photo\n", encoding="utf-8")
    assert "not a picture" in refusal(capsys, str(fake))


def test_bad_opacity_is_refused_with_one_line(capsys):
    """Test whether an opacity outside 0..1 is refused up front."""
    assert "opacity" in refusal(capsys, str(COFFEE), "--opacity", "2")


def test_explain_has_help(capsys):
    """Test whether `netlens explain --help` documents itself."""
    with pytest.raises(SystemExit) as stopped:
        main(["explain", "--help"])
    assert stopped.value.code == 0 and "usage: netlens explain" in capsys.readouterr().out

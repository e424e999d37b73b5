"""The bunnies lesson as every other part sees it: settings (flags, link, cache keys), run, report, summary,
the takeaway sentences and the code the page shows."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.explain import METHODS
from core.fit import Progress
from core.lesson import settings_from_dict, settings_json
from core.lessons.bunnies import LESSON
from core.lessons.bunnies.experiment import (
    HEADLINE_METHOD,
    BunniesSettings,
    methods_story,
    thresholds,
    verdict,
)

SMALL = BunniesSettings(grass_rate=1.0, num_train=200, epochs=2, num_test=40, num_check=8, seed=3,
                        methods=("gradcam", HEADLINE_METHOD))
# The keys of `netlens shortcut --json` before the move (issue 8), in order.
OLD_KEYS = ["config", "ordinary_accuracy", "surprise_accuracy", "training_seconds", "drawing_seconds", "parts",
            "evidence_pictures", "area_shares", "evidence", "counterfactual"]


@pytest.fixture(scope="module")
def small_run():  # type: ignore[no-untyped-def]
    reports: list[Progress] = []
    result = LESSON.run(SMALL, reports.append)
    return result, LESSON.report(result), reports


def test_run_and_report_give_the_promised_fields(small_run):
    """Test whether the report has exactly the old command's keys plus the settings and the headline method,
    is JSON, covers the chosen methods only, and its numbers are those of the result."""
    result, report, _ = small_run
    assert list(report) == OLD_KEYS + ["settings", "headline_method"]
    assert json.loads(json.dumps(report)) == report
    assert report["headline_method"] == HEADLINE_METHOD
    assert settings_from_dict(BunniesSettings, report["settings"]) == SMALL
    assert report["config"] == {key: value for key, value in dataclasses.asdict(SMALL).items() if key != "methods"}
    assert list(report["evidence"]) == ["gradcam", HEADLINE_METHOD]
    assert report["surprise_accuracy"] == result.evaluation.surprise_accuracy
    assert report["counterfactual"]["reliance"] == result.evidence.swap.reliance
    assert report["training_seconds"] == result.training.seconds > 0
    for item in report["evidence"].values():
        assert set(item["part_shares"]) == set(report["parts"])
        assert abs(sum(item["part_shares"].values()) - 1) < 1e-6


def test_run_reports_its_three_parts_in_order(small_run):
    """Test whether on_progress hears drawing, learning and measuring as parts 0, 1, 2 of 3, with the whole
    computation's fraction never going back and reaching the last part."""
    _, _, reports = small_run
    assert all(report.stages == 3 for report in reports)
    assert [report.stage_index for report in reports] == sorted(report.stage_index for report in reports)
    assert {report.stage_index: report.unit for report in reports} == {0: "pictures", 1: "nudges", 2: "methods"}
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and fractions[-1] >= 2 / 3
    drawn = [report for report in reports if report.stage_index == 0][-1]
    assert drawn.step == drawn.total_steps == 200 + 40 + 40 + 8


def test_summary_prints_the_numbers_and_the_takeaway(small_run):
    """Test whether `netlens bunnies` without --json prints the scores, each method's verdict and the
    lesson's takeaway sentence for the headline method."""
    _, report, _ = small_run
    text = LESSON.summary(report)
    assert f"surprise pictures right: {report['surprise_accuracy']:.1%}" in text
    assert text.count("grass gets") == 2
    relies = report["counterfactual"]["relies_on_grass"]
    assert verdict(relies, report["evidence"][HEADLINE_METHOD]["agrees_with_swap"]).replace("**", "") in text


def test_the_snippet_the_page_shows_runs_and_gives_the_lessons_numbers(small_run):
    """Test whether the "from Python" code runs as printed (new import paths) and prints the very surprise
    accuracy and reliance that `run` measured for the same settings."""
    _, report, _ = small_run
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(LESSON.snippet(SMALL), {})  # noqa: S102 - our own code, the point of the test
    lines = printed.getvalue().split("\n")
    assert float(lines[0]) == report["surprise_accuracy"]
    assert float(lines[1].split()[0]) == pytest.approx(report["counterfactual"]["reliance"], abs=1e-12)


def test_every_excerpt_is_real_code():
    """Test whether every excerpt the lesson offers is non-empty (the page shows none but the snippet)."""
    excerpts = LESSON.excerpts()
    assert isinstance(excerpts, dict)
    assert all(text.strip() for text in excerpts.values())


def test_the_steps_are_the_pages_numbered_sections():
    """Test whether the page's numbered headers are the lesson's steps, in order."""
    page = (Path(__file__).resolve().parents[3] / LESSON.page).read_text(encoding="utf-8")
    assert [f"st.header(f\"{number}. {{STEPS[{number - 1}]}}\")" in page for number in (1, 2, 3, 4)] == [True] * 4
    assert LESSON.steps[0] == "How well does it do?" and len(LESSON.steps) == 4


# ------------------------------------------------------------------------------------------------- settings
@pytest.mark.parametrize("changes, words", [
    ({"grass_rate": 1.5}, "grass_rate must be between 0 and 1"),
    ({"num_train": 1}, "must each be at least 2"),
    ({"extra_pictures": -1}, "extra_pictures must be zero or more"),
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"width": 0}, "width must be between 1 and 128"),
    ({"seed": -4}, "seed must be zero or more"),
    ({"image_size": 8}, "image_size must be at least 16"),
    ({"methods": ("ig", "magic")}, "unknown method 'magic'"),
    ({"methods": ()}, "at least one of"),
    ({"methods": ["ig"]}, "must be a tuple"),
])
def test_impossible_settings_are_refused_in_one_line(changes, words):
    """Test whether every impossible setting raises a one-line ValueError naming the problem."""
    with pytest.raises(ValueError) as refused:
        BunniesSettings(**changes)
    assert words in str(refused.value) and "\n" not in str(refused.value)


def test_settings_are_a_cache_key_and_a_link():
    """Test whether settings are hashable, survive JSON, and default to every method of the registry."""
    settings = BunniesSettings(grass_rate=0.55, num_train=500, extra_pictures=250, seed=9, methods=("ig",))
    assert hash(settings) == hash(replace(settings))
    assert settings_from_dict(BunniesSettings, json.loads(json.dumps(settings_json(settings)))) == settings
    assert BunniesSettings().methods == tuple(METHODS)


def test_the_training_key_does_not_depend_on_the_methods():
    """Test whether two settings that differ only in their methods share one trained network (the page trains
    once per grass, pictures, extra and seed), while any other change gives another key."""
    one, other = BunniesSettings(methods=("ig",)), BunniesSettings(methods=("occlusion", "saliency"))
    assert one != other and one.training_key() == other.training_key()
    assert one.training_key() != replace(one, seed=1).training_key()
    assert one.training_key() != replace(one, extra_pictures=250).training_key()


def test_the_command_line_keeps_its_flag_names():
    """Test whether `netlens bunnies` and its old name `netlens shortcut` take --grass, --pictures, --extra,
    --seed and --methods for the settings they always meant."""
    from core.cli import build_parser
    from core.lesson import settings_from_flags

    for command in ("bunnies", "shortcut"):
        args = build_parser().parse_args([command, "--grass", "0.5", "--pictures", "500", "--extra", "250",
                                          "--seed", "4", "--methods", "ig,saliency"])
        assert settings_from_flags(BunniesSettings, args) == BunniesSettings(
            grass_rate=0.5, num_train=500, extra_pictures=250, seed=4, methods=("ig", "saliency"))


# --------------------------------------------------------------------------------------------- the takeaways
def test_the_verdict_says_whether_the_map_and_the_swap_agree():
    """Test whether the takeaway names agreement or disagreement and what the swap found."""
    assert verdict(True, True) == "**The map and the experiment agree: this network relies on the grass.**"
    disagreeing = verdict(False, False)
    assert disagreeing.startswith("**The map and the experiment disagree.**")
    assert "does not rely on the grass" in disagreeing and "Integrated Gradients' map says otherwise" in disagreeing


def test_the_methods_story_names_the_methods_that_disagree():
    """Test whether the methods sentence lists agreeing and disagreeing methods by name, or says all agree."""
    story = methods_story({"ig": False, "occlusion": True, "saliency": True})
    assert "Occlusion, Saliency" in story and "**Integrated Gradients**" in story
    assert methods_story({key: True for key in METHODS}) == "All six methods tell the same story as the swap."


def test_the_thresholds_sentence_gives_the_thresholds_in_percent():
    """Test whether the page's thresholds sentence shows the margin and the reliance threshold."""
    assert "more than 8% above" in thresholds() and "above 15% average change" in thresholds()
    assert "Integrated Gradients' map leans on grass" in thresholds() and "calibrated on 21 networks" in thresholds()

"""The batch-size lesson's experiment: a fair budget, honest nudge counts, reproducible and telling curves."""

from __future__ import annotations

import json
import math

import pytest

from core.fit import Progress
from core.lesson import settings_from_dict
from core.lessons.batch_size import LESSON
from core.lessons.batch_size.experiment import (
    ALL,
    BatchSizeSettings,
    compare,
    make_data,
    per_nudge,
    run_comparison,
    seen_after,
    wobble,
)
from core.lessons.batch_size.figures import cost_bars, learning_curves

SMALL = BatchSizeSettings(batch_sizes=(1, 3, 7, 50, ALL), passes=2, num_train=100, num_test=40, seed=5)
TINY = BatchSizeSettings(batch_sizes=(8, ALL), passes=1, num_train=64, num_test=16, seed=1)


@pytest.fixture(scope="module")
def default_comparison():
    """The page's default comparison (1, 8, 64 and all 512 pictures per nudge, 4 passes), seed 0."""
    return run_comparison(BatchSizeSettings(seed=0))


@pytest.fixture(scope="module")
def small_comparison():
    return run_comparison(SMALL)


def test_every_batch_size_sees_the_same_number_of_pictures(default_comparison, small_comparison):
    """Test whether the budget is fair: passes × training pictures for every batch size."""
    for comparison in (default_comparison, small_comparison):
        settings = comparison.settings
        assert len(comparison.runs) == len(settings.batch_sizes)
        for run in comparison.runs:
            assert run.examples_seen == settings.passes * settings.num_train
            assert run.seen[0] == 0 and run.seen[-1] == run.examples_seen
            assert list(run.seen) == sorted(run.seen)


def test_nudges_per_pass_is_pictures_divided_by_batch_size_rounded_up(small_comparison):
    """Test whether a pass over N pictures makes ceil(N / b) nudges, the last batch being the remainder."""
    settings = small_comparison.settings
    sizes = [run.batch_size for run in small_comparison.runs]
    assert sizes == [1, 3, 7, 50, 100]  # smallest first; ALL became every training picture
    for run in small_comparison.runs:
        assert run.nudges_per_pass == math.ceil(settings.num_train / run.batch_size)
        assert run.nudges == settings.passes * run.nudges_per_pass
    assert small_comparison.runs[-1].everything and not small_comparison.runs[0].everything


def test_the_same_seed_gives_the_same_curves_and_another_seed_other_ones(small_comparison):
    """Test whether training is reproducible whatever the global random state, and depends on the seed."""
    import torch

    torch.manual_seed(12345)  # the global generator must play no part
    again = run_comparison(SMALL)
    for first, second in zip(small_comparison.runs, again.runs):
        assert first.loss == second.loss
        assert first.accuracy == second.accuracy
        assert first.seen == second.seen
    other = run_comparison(BatchSizeSettings(batch_sizes=(1,), passes=2, num_train=100, num_test=40, seed=6))
    assert other.runs[0].loss != small_comparison.runs[0].loss


def test_one_picture_per_nudge_is_noisier_than_all_of_them(default_comparison):
    """Test the lesson's claim: the loss curve of batch size 1 goes back up far more than the full batch's,
    and its step-to-step changes vary more."""
    import numpy as np

    one, everything = default_comparison.runs[0], default_comparison.runs[-1]
    assert one.batch_size == 1 and everything.everything
    assert one.wobble > 0.3
    assert one.wobble > 10 * everything.wobble
    # step-to-step changes vary more, although its points are 32 pictures apart and the full batch's 512
    assert np.diff(one.loss).std() > 2 * np.diff(everything.loss).std()
    assert one.setbacks > everything.setbacks


def test_every_batch_size_beats_guessing(default_comparison):
    """Test whether every network learned something: clearly above 50 % on 256 new pictures."""
    for run in default_comparison.runs:
        assert run.final_accuracy >= 0.58, (run.label, run.final_accuracy)
        assert run.final_loss < run.loss[0]
    assert max(run.final_accuracy for run in default_comparison.runs) >= 0.8


def test_progress_reports_go_forward_and_finish():
    """Test whether progress comes as core.fit.Progress, one stage per batch size, counted in pictures seen,
    in order, about twenty reports per training, ending at 1."""
    reports: list[Progress] = []
    compare(TINY, make_data(TINY), reports.append)
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert [report.stage_index for report in reports] == sorted(report.stage_index for report in reports)
    assert {report.stage_index for report in reports} == {0, 1} and {report.stages for report in reports} == {2}
    assert {report.unit for report in reports} == {"pictures seen"}
    assert {report.total_steps for report in reports} == {TINY.examples_seen}
    assert reports[-1].step == TINY.examples_seen
    assert reports[0].text == "Learning with 8 pictures per nudge (1 of 2)… 32 of 64 pictures seen"
    assert reports[-1].stage == "Learning with all 64 pictures per nudge (2 of 2)"
    assert len(reports) <= 2 * 21


def test_an_exception_from_the_progress_callback_stops_the_training():
    """Test whether a session that leaves (its callback raises) stops the comparison there."""

    class Stop(Exception):
        pass

    calls: list[int] = []

    def stop_early(report: Progress) -> None:
        calls.append(report.step)
        raise Stop

    with pytest.raises(Stop):
        compare(TINY, make_data(TINY), stop_early)
    assert calls == [32]


def test_pictures_seen_count_the_short_last_batch_of_each_pass():
    """Test whether pictures seen after each nudge add up a pass of 10 pictures in batches of 4 as 4, 8, 10."""
    assert [seen_after(step, 10, 4) for step in range(7)] == [0, 4, 8, 10, 14, 18, 20]
    assert [seen_after(step, 10, 10) for step in range(3)] == [0, 10, 20]
    assert [seen_after(step, 6, 1) for step in (1, 6, 7)] == [1, 6, 7]


def test_the_default_comparison_gives_the_numbers_measured_before_the_move(default_comparison):
    """Test whether moving the lesson onto core.fit changed nothing: the default comparison, seed 0, gives the
    nudge counts, curve lengths and scores measured from the code before the move (core/batch_size.py, its own
    loop; identical for every point of every curve, seeds 0 and 1 and other settings, when compared then)."""
    runs = default_comparison.runs
    assert [run.nudges for run in runs] == [2048, 256, 32, 4]
    assert [len(run.seen) for run in runs] == [65, 65, 33, 5]
    assert [run.final_accuracy for run in runs] == [0.90625, 0.93359375, 0.8046875, 0.640625]
    assert [round(sum(run.accuracy) * 256) for run in runs] == [13405, 12812, 5585, 705]  # every point, in 256ths
    assert list(runs[-1].accuracy) == [0.48046875, 0.515625, 0.5625, 0.5546875, 0.640625]
    assert [run.final_loss for run in runs] == pytest.approx(
        [0.21449553966522217, 0.23807783424854279, 0.4651387631893158, 0.6554452776908875], abs=1e-6)


def test_wobble_counts_only_the_rises():
    """Test whether wobble adds up the rises of a curve and nothing else."""
    assert wobble([3.0, 2.0, 1.0]) == 0.0
    assert wobble([1.0, 2.0, 1.5, 2.5]) == pytest.approx(2.0)
    assert wobble([1.0]) == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [dict(batch_sizes=()), dict(batch_sizes=(8, 8)), dict(batch_sizes=(1000,)), dict(batch_sizes=(-1,)),
     dict(passes=0), dict(learning_rate=0.0), dict(grass_rate=1.5), dict(image_size=4)],
)
def test_nonsense_settings_are_refused(kwargs):
    """Test whether impossible settings raise a one-line ValueError when they are made."""
    with pytest.raises(ValueError) as raised:
        BatchSizeSettings(**kwargs)
    assert "\n" not in str(raised.value)


def test_figures_have_one_panel_and_one_bar_per_batch_size(small_comparison):
    """Test whether the curves have one panel per batch size, named as the page names it, and the bars one
    bar per batch size in each of their two charts."""
    runs = small_comparison.runs
    curves = learning_curves(runs)
    assert len(curves.data) == len(runs)
    assert [trace.name for trace in curves.data] == [per_nudge(run) for run in runs]
    bars = cost_bars(runs)
    assert [len(trace.x) for trace in bars.data] == [len(runs), len(runs)]
    with pytest.raises(ValueError):
        learning_curves([])


# --------------------------------------------------------------------------------------- the lesson contract
def test_the_lesson_runs_headless_and_reports_what_the_command_line_promises():
    """Test whether LESSON.run + LESSON.report on small settings give the settings back, one entry per batch size
    with its numbers and curve, the best one and the takeaways, all JSON-ready, and a summary with a line each."""
    result = LESSON.report(LESSON.run(TINY, None))
    assert json.loads(json.dumps(result)) == result
    assert settings_from_dict(BatchSizeSettings, result["settings"]) == TINY
    assert result["pictures_seen"] == 64
    assert [run["label"] for run in result["runs"]] == ["8", "all 64"]
    assert [run["nudges"] for run in result["runs"]] == [8, 1]
    for run in result["runs"]:
        assert run["pictures_seen"] == 64 and run["curve"]["seen"][-1] == 64
        assert len(run["curve"]["accuracy"]) == len(run["curve"]["seen"]) == len(run["curve"]["loss"])
        assert 0 <= run["final_accuracy"] <= 1 and run["seconds"] >= 0
    assert result["best"] in ("8", "all 64")
    assert any(line.startswith("Best here:") for line in result["takeaways"])
    assert not any("**" in line for line in result["takeaways"])
    summary = LESSON.summary(result)
    assert "1 pass through 64" in summary and summary.count("\n") >= 3 + len(result["takeaways"])


def test_every_excerpt_is_found_and_the_snippet_runs(capsys):
    """Test whether every code excerpt the page shows is found in the code (not empty), and the "from Python"
    snippet runs as printed and prints one line per batch size."""
    excerpts = LESSON.excerpts()
    assert set(excerpts) == {"batches", "nudge"}
    assert all(text.strip() for text in excerpts.values())
    assert "torch.randperm" in excerpts["batches"] and "loss.backward()" in excerpts["nudge"]
    exec(LESSON.snippet(TINY), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["8", "all"]


def test_the_settings_are_hashable_and_round_trip_through_json():
    """Test whether the settings key a store (hashable, equal when equal) and come back from their JSON."""
    from core.lesson import settings_json

    again = settings_from_dict(BatchSizeSettings, json.loads(json.dumps(settings_json(SMALL))))
    assert again == SMALL and hash(again) == hash(SMALL)
    assert {SMALL: 1}[again] == 1

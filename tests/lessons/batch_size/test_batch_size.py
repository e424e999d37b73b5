"""The batch-size lesson's experiment: a fair budget, honest nudge counts, reproducible and telling curves."""

from __future__ import annotations

import math

import pytest

from core.batch_figures import cost_bars, learning_curves, per_nudge
from core.batch_size import ALL, BatchConfig, BatchProgress, compare, make_data, run_comparison, wobble

SMALL = BatchConfig(batch_sizes=(1, 3, 7, 50, ALL), passes=2, num_train=100, num_test=40, seed=5)


@pytest.fixture(scope="module")
def default_comparison():
    """The page's default comparison (1, 8, 64 and all 512 pictures per nudge, 4 passes), seed 0."""
    return run_comparison(BatchConfig(seed=0))


@pytest.fixture(scope="module")
def small_comparison():
    return run_comparison(SMALL)


def test_every_batch_size_sees_the_same_number_of_pictures(default_comparison, small_comparison):
    """Test whether the budget is fair: passes × training pictures for every batch size."""
    for comparison in (default_comparison, small_comparison):
        config = comparison.config
        assert len(comparison.runs) == len(config.batch_sizes)
        for run in comparison.runs:
            assert run.examples_seen == config.passes * config.num_train
            assert run.seen[0] == 0 and run.seen[-1] == run.examples_seen
            assert list(run.seen) == sorted(run.seen)


def test_nudges_per_pass_is_pictures_divided_by_batch_size_rounded_up(small_comparison):
    """Test whether a pass over N pictures makes ceil(N / b) nudges, the last batch being the remainder."""
    config = small_comparison.config
    sizes = [run.batch_size for run in small_comparison.runs]
    assert sizes == [1, 3, 7, 50, 100]  # smallest first; ALL became every training picture
    for run in small_comparison.runs:
        assert run.nudges_per_pass == math.ceil(config.num_train / run.batch_size)
        assert run.nudges == config.passes * run.nudges_per_pass
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
    other = run_comparison(BatchConfig(batch_sizes=(1,), passes=2, num_train=100, num_test=40, seed=6))
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
    """Test whether the progress callback is called for every training, in order, and ends at 1."""
    config = BatchConfig(batch_sizes=(8, ALL), passes=1, num_train=64, num_test=16, seed=1)
    reports: list[BatchProgress] = []
    compare(config, make_data(config), reports.append)
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert {report.run_index for report in reports} == {0, 1}
    assert len(reports) <= 2 * 21


def test_wobble_counts_only_the_rises():
    assert wobble([3.0, 2.0, 1.0]) == 0.0
    assert wobble([1.0, 2.0, 1.5, 2.5]) == pytest.approx(2.0)
    assert wobble([1.0]) == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [dict(batch_sizes=()), dict(batch_sizes=(8, 8)), dict(batch_sizes=(1000,)), dict(batch_sizes=(-1,)),
     dict(passes=0), dict(learning_rate=0.0), dict(grass_rate=1.5)],
)
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        BatchConfig(**kwargs)


def test_figures_have_one_panel_and_one_bar_per_batch_size(small_comparison):
    runs = small_comparison.runs
    curves = learning_curves(runs)
    assert len(curves.data) == len(runs)
    assert [trace.name for trace in curves.data] == [per_nudge(run) for run in runs]
    bars = cost_bars(runs)
    assert [len(trace.x) for trace in bars.data] == [len(runs), len(runs)]
    with pytest.raises(ValueError):
        learning_curves([])

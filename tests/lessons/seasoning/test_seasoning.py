"""The seasoning lesson: the grass penalty is the right gradient, it raises surprise accuracy on grass-only data
across seeds, and the tuner's study is reproducible, pruned as it says, quiet, and reports its Pareto front.

Smaller settings than the page's (300 training pictures instead of 500, 3 strengths, tiny studies), where the
properties still hold, to keep the run short."""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from core.cli import main
from core.lessons.seasoning import LESSON, LessonSettings
from core.lessons.seasoning.experiment import (
    DataSettings,
    Recipe,
    SeasoningSettings,
    curve,
    grass_penalty,
    make_data,
    takeaways,
    train_seasoned,
)
from core.lessons.seasoning.figures import how_much_curve, optuna_figures, trials_figure
from core.lessons.seasoning.tuner import TunerSettings, pareto_records, run_study

TINY_STUDY = TunerSettings(trials=5, executions=2, num_train=100, num_validation=40, seed=3)


@pytest.fixture(scope="module")
def small_curve():
    """Strengths 0, 3 and 10, three seeds each, 300 grass-only training pictures per seed."""
    return curve(SeasoningSettings(strengths=(0.0, 3.0, 10.0), seeds=3, num_train=300, num_test=100, num_check=16))


@pytest.fixture(scope="module")
def tiny_study():
    return run_study(TINY_STUDY)


def test_the_penalty_is_the_hand_computed_gradient_on_the_grass():
    """Test whether grass_penalty equals, for a linear two-class model z = W x, the sum over grass pixels of
    |Σ_k W_k − K Σ_j p_j W_j| (the input gradient of Σ_k log p_k), averaged over the pictures."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2, bias=False))
    inputs = torch.rand(3, 3, 4, 4)
    grass = (torch.rand(3, 1, 4, 4) > 0.5).float()
    logits, penalty = grass_penalty(model, inputs, grass)
    weights = model[1].weight.detach().numpy()  # (2, 48)
    p = torch.softmax(logits.detach(), 1).numpy()  # (3, 2)
    gradient = weights.sum(0)[None] - 2 * p @ weights  # (3, 48)
    expected = np.abs(gradient.reshape(3, 3, 4, 4) * grass.numpy()).sum() / 3
    assert float(penalty.detach()) == pytest.approx(expected, rel=1e-5)
    _, none = grass_penalty(model, inputs, torch.zeros_like(grass))
    assert float(none.detach()) == 0.0
    penalty.backward()  # the training backpropagates through the gradient: the weights get one
    assert model[1].weight.grad is not None and model[1].weight.grad.abs().sum() > 0


def test_seasoning_raises_surprise_accuracy_on_grass_only_pictures_across_seeds(small_curve):
    """Test whether, trained on bunnies always on grass (elephants never), the plain network fails the surprise
    pictures on every seed, and some strength raises surprise accuracy on every seed, by ≥ 25 points on average,
    while its evidence on the grass falls."""
    plain, *seasoned = small_curve.points
    assert plain.strength == 0 and all(item.surprise_accuracy <= 0.1 for item in plain.tastes)
    assert all(item.ordinary_accuracy >= 0.95 for item in plain.tastes)
    best = max(seasoned, key=lambda point: point.mean("surprise_accuracy"))
    assert best.mean("surprise_accuracy") >= plain.mean("surprise_accuracy") + 0.25
    for index, item in enumerate(plain.tastes):
        assert max(point.tastes[index].surprise_accuracy for point in seasoned) >= item.surprise_accuracy + 0.05
        assert best.tastes[index].grass_share < item.grass_share
    assert 0 < plain.tastes[0].grass_area < 1
    assert best.mean("ordinary_accuracy") < plain.mean("ordinary_accuracy")  # the price: too much spoils it
    lines = takeaways(small_curve)
    assert lines[0].startswith("**Strength 0:**") and "surprise" in lines[1]
    figure = how_much_curve(small_curve.points)
    assert len(figure.data) == 6  # a band and a line for each of the three tastes


def test_the_same_seed_cooks_the_same_network():
    """Test whether two seasoned trainings from the same seed and pictures give identical weights, and another
    seed different ones."""
    data = make_data(DataSettings(num_train=64, num_test=8, num_check=8, seed=2))
    recipe = Recipe(width=4, epochs=1, strength=3.0)
    first, second = train_seasoned(data, recipe, 7), train_seasoned(data, recipe, 7)
    other = train_seasoned(data, recipe, 8)
    assert all(torch.equal(first.state_dict[name], second.state_dict[name]) for name in first.state_dict)
    assert not all(torch.equal(first.state_dict[name], other.state_dict[name]) for name in first.state_dict)


@pytest.mark.parametrize("make, words", [
    (lambda: Recipe(strength=-1), "strength must be between 0"),
    (lambda: Recipe(width=0), "width must be between 1 and 64"),
    (lambda: SeasoningSettings(strengths=(1.0, 1.0)), "each once"),
    (lambda: SeasoningSettings(seeds=0), "seeds must be between 1 and 10"),
    (lambda: TunerSettings(trials=0), "trials must be between 1 and 200"),
    (lambda: LessonSettings(trials=-1), "trials must be zero or more"),
])
def test_bad_settings_get_one_plain_line(make, words):
    """Test whether impossible settings raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=words):
        make()


def test_a_study_is_reproducible_and_reports_its_pareto_front(tiny_study):
    """Test whether the same study settings give the same trials, the Pareto front is exactly the finished trials
    no other beats on both goals, the chosen trial is on it, and every trial trained its networks (fewer when
    stopped early)."""
    small = TunerSettings(trials=3, executions=1, num_train=64, num_validation=16, seed=3)
    once, again = run_study(small), run_study(small)
    assert [(r.recipe, r.state, r.ordinary, r.surprise) for r in again.records] == \
        [(r.recipe, r.state, r.ordinary, r.surprise) for r in once.records]
    assert len(tiny_study.records) == 5
    assert tiny_study.pareto == sorted(record.number for record in pareto_records(tiny_study.records))
    assert tiny_study.chosen in tiny_study.pareto
    for record in tiny_study.records:
        assert len(record.ordinary) == (1 if record.state == "pruned" else 2)
    assert tiny_study.networks_trained == sum(len(record.ordinary) for record in tiny_study.records)
    assert set(tiny_study.networks) == {record.number for record in tiny_study.records}
    assert 0 <= tiny_study.chosen_test.surprise_accuracy <= 1


def test_the_pruner_stops_a_trial_worse_than_the_median():
    """Test whether, with the pruner on, a trial whose first network is below the median of the earlier finished
    trials' first networks (once four have finished) stops after that network; with it off, no trial stops."""
    settings = TunerSettings(trials=9, executions=2, num_train=100, num_validation=40, seed=1)
    study = run_study(settings)
    first = {record.number: (record.ordinary[0] + record.surprise[0]) / 2 for record in study.records}
    for record in study.records:
        finished = [first[other.number] for other in study.records
                    if other.number < record.number and other.state == "complete"]  # Optuna's median: finished trials
        stops = len(finished) >= 4 and first[record.number] < float(np.median(finished))
        assert (record.state == "pruned") == stops, record
    assert study.pruned >= 1
    unpruned = run_study(TunerSettings(trials=6, executions=2, prune=False, num_train=64, num_validation=16, seed=1))
    assert unpruned.pruned == 0 and unpruned.networks_trained == 12


def test_the_study_keeps_optunas_chatter_out_of_sight(caplog, capsys):
    """Test whether a study and Optuna's figures log nothing at INFO, print nothing and warn nothing."""
    with caplog.at_level(logging.INFO), warnings.catch_warnings():
        warnings.simplefilter("error")
        study = run_study(TunerSettings(trials=3, executions=1, num_train=64, num_validation=16, seed=2))
        figures = optuna_figures(study.study)
    assert not [record for record in caplog.records if record.name.startswith("optuna")]
    output = capsys.readouterr()
    assert output.out == "" and "Trial" not in output.err
    assert {"pareto", "history", "importance"} == set(figures)
    drawn = trials_figure(study.records, study.pareto, study.chosen)
    assert drawn.data[-1].name == f"chosen: trial {study.chosen}"


def test_netlens_seasoning_prints_the_curve_and_the_study(capsys):
    """Test whether `netlens seasoning --json` (the smallest flags: one plain network, one trial) prints the curve
    and the study as JSON, and its summary starts with the curve's table."""
    assert main(["seasoning", "--strengths", "0", "--seeds", "1", "--trials", "1", "--executions", "1",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [point["strength"] for point in report["curve"]["points"]] == [0.0]
    assert report["curve"]["points"][0]["surprise_accuracy"] <= 0.1  # unseasoned, grass-only: it learned the lawn
    assert len(report["study"]["trials"]) == 1 and report["study"]["chosen"]["trial"] in report["study"]["pareto_front"]
    assert LESSON.summary(report).splitlines()[0].split() == ["strength", "ordinary", "surprise", "grass", "evidence"]

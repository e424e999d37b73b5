"""The bunnies lesson's figures: the numbers drawn are the numbers given, with plain-language labels."""

from __future__ import annotations

import numpy as np

from core.fit import Progress
from core.lessons.bunnies.figures import background_swap, evidence_by_part, learning_curve
from core.scenes import PARTS


def test_swap_figure_groups_by_animal_and_ground():
    """Test whether each bar is the mean confidence of its group, in percent, with plural animal names."""
    original = np.array([1.0, 0.0, 0.8, 0.2])
    swapped = np.array([0.0, 1.0, 0.4, 0.6])
    figure = background_swap(original, swapped, np.array([True, True, False, False]), np.array([0, 1, 0, 1]),
                             ("bunny", "elephant"))
    before, after = figure.data
    assert before.y[0] == "bunnies: grass → other ground"
    assert list(before.x) == [100.0, 80.0, 0.0, 20.0] and list(after.x) == [0.0, 40.0, 100.0, 60.0]


def test_evidence_figure_has_one_bar_series_per_method_and_the_area_reference():
    """Test whether the evidence chart shows every part for the area and for each method, in percent."""
    figure = evidence_by_part({"ig": [0.1, 0.1, 0.2, 0.5, 0.1]}, {"ig": "Integrated Gradients"}, area=[0, 0, 0.1, 0.6, 0.3])
    assert [trace.name for trace in figure.data] == ["share of the picture", "Integrated Gradients"]
    assert list(figure.data[1].x) == list(PARTS) and figure.data[1].y[3] == 50.0


def test_learning_curve_plots_accuracy_in_percent():
    """Test whether the curve's points are the training reports' passes and accuracies (core.fit.Progress)."""
    history = [Progress(1, 4, loss=0.7, accuracy=0.5, epoch=0.5), Progress(2, 4, loss=0.3, accuracy=0.9, epoch=1.0)]
    figure = learning_curve(history, 2)
    assert list(figure.data[0].x) == [0.5, 1.0] and list(figure.data[0].y) == [50.0, 90.0]

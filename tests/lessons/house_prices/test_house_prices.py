"""The house-price formula: autograd against the closed form, descent that works, and the scaling lesson."""

from __future__ import annotations

import numpy as np
import pytest

from core.house_prices import (
    best_knobs,
    descend,
    error,
    gradient,
    inputs,
    landscape,
    make_houses,
    nudge,
    to_internal,
    typical_error,
)

HOUSES = make_houses(seed=3)


@pytest.mark.parametrize("raw", [False, True])
def test_autograd_gradient_equals_the_closed_form(raw):
    """Test whether torch autograd's slope equals (2/N) Xᵀ(Xw − y), in both units of size."""
    knobs = np.array([10.0, -5.0, 80.0])
    features = inputs(HOUSES, raw)
    weights = to_internal(knobs, raw)
    closed_form = 2 / len(features) * features.T @ (features @ weights - HOUSES.price)
    assert np.allclose(gradient(knobs, HOUSES, raw), closed_form, rtol=1e-10)


def test_a_small_nudge_lowers_the_error():
    """Test whether one step against the slope makes the formula less wrong."""
    knobs = np.array([0.0, 0.0, 0.0])
    assert error(nudge(knobs, HOUSES, 0.01).after, HOUSES) < error(knobs, HOUSES)


def test_descent_in_thousands_of_square_feet_approaches_the_best_formula():
    """Test whether 300 nudges with step 0.02 get within 25 % of the least-squares error from zero."""
    path, errors = descend(np.zeros(3), HOUSES, 0.02, 300)
    assert path.shape == (301, 3) and np.all(np.diff(errors) <= 1e-9)  # never gets worse
    assert typical_error(path[-1], HOUSES) < 1.25 * typical_error(best_knobs(HOUSES), HOUSES)


def test_raw_square_feet_make_the_same_step_explode_and_a_safe_step_crawl():
    """Test the teachable moment: in raw square feet step 0.02 explodes, and a step small enough for Z
    leaves X and Y almost where they started."""
    _, exploding = descend(np.zeros(3), HOUSES, 0.02, 20, raw_footage=True)
    assert not np.isfinite(exploding[-1])
    crawling, errors = descend(np.zeros(3), HOUSES, 1e-7, 100, raw_footage=True)
    assert np.all(np.abs(crawling[-1, :2]) < 0.5) and abs(crawling[-1, 2]) > 50
    assert errors[-1] > 1.1 * error(best_knobs(HOUSES), HOUSES)


def test_the_landscape_matches_the_error_function():
    """Test whether the contour grid holds exactly the error of each knob setting."""
    knobs = np.array([20.0, 10.0, 100.0])
    first, second = np.array([0.0, 30.0]), np.array([50.0, 150.0, 200.0])
    grid = landscape(HOUSES, knobs, 0, 2, first, second)
    assert grid.shape == (3, 2)
    assert grid[2, 1] == pytest.approx(error(np.array([30.0, 10.0, 200.0]), HOUSES))


def test_same_seed_same_town_and_bad_settings_refused():
    """Test whether the data depend only on the seed, and impossible settings raise ValueError."""
    assert np.array_equal(make_houses(seed=3).price, HOUSES.price)
    assert not np.array_equal(make_houses(seed=4).price, HOUSES.price)
    with pytest.raises(ValueError):
        make_houses(num_houses=1)
    with pytest.raises(ValueError):
        nudge(np.zeros(3), HOUSES, -1.0)

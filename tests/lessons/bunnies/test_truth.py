"""Truth before beauty: on real trained networks, the lesson's grass figure agrees with the background swap.

These train the lesson's default network (a few seconds each) at different grass rates.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.explain import METHODS
from core.shortcut import (
    HEADLINE_METHOD as HEADLINE,
    RELIANCE_THRESHOLD,
    ShortcutConfig,
    evaluate,
    evidence_report,
    make_data,
    run,
    train_model,
)


def _experiment(config: ShortcutConfig):  # type: ignore[no-untyped-def]
    data = make_data(config)
    model = train_model(config, data).model()
    return evaluate(model, data), evidence_report(model, data, config.seed)


@pytest.fixture(scope="module")
def grass_always():  # type: ignore[no-untyped-def]
    return _experiment(ShortcutConfig(grass_rate=1.0))


@pytest.fixture(scope="module")
def grass_balanced():  # type: ignore[no-untyped-def]
    return _experiment(ShortcutConfig(grass_rate=0.5))


def test_grass_behind_every_bunny_means_a_grass_detector(grass_always):
    """Test whether a network that only ever saw bunnies on grass aces ordinary pictures, fails surprise
    pictures, and both the maps and the swap say it relies on grass."""
    scores, report = grass_always
    assert scores.ordinary_accuracy >= 0.97
    assert scores.surprise_accuracy <= 0.2
    assert report.swap.reliance > 0.5 and report.relies_on_grass
    headline = report.methods[HEADLINE]
    assert headline.grass_share > headline.grass_area + 0.05  # more than grass's share of the pixels
    assert report.agrees(HEADLINE)


def test_balanced_pictures_mean_an_animal_detector(grass_balanced):
    """Test whether a network trained with grass behind half the bunnies and half the elephants passes
    surprise pictures, and both the maps and the swap say it does not rely on grass."""
    scores, report = grass_balanced
    assert scores.surprise_accuracy >= 0.9
    assert report.swap.reliance < RELIANCE_THRESHOLD and not report.relies_on_grass
    headline = report.methods[HEADLINE]
    assert not headline.leans_on_grass
    assert report.agrees(HEADLINE)


def test_grass_share_is_higher_for_the_shortcut_network_with_every_method(grass_always, grass_balanced):
    """Test whether every method ranks the two networks the same way the swap does."""
    (_, always), (_, balanced) = grass_always, grass_balanced
    assert always.swap.reliance > balanced.swap.reliance
    for method in METHODS:
        assert always.methods[method].grass_share > balanced.methods[method].grass_share, method


def test_showing_it_more_varied_pictures_fixes_the_shortcut(grass_always):
    """Test whether adding 500 pattern-breaking pictures (the lesson's default) lifts surprise accuracy and
    removes the reliance on grass."""
    scores_before, report_before = grass_always
    scores_after, report_after = _experiment(ShortcutConfig(grass_rate=1.0, extra_pictures=500))
    assert scores_after.surprise_accuracy >= 0.85 > scores_before.surprise_accuracy + 0.5
    assert report_after.swap.reliance < RELIANCE_THRESHOLD < report_before.swap.reliance
    assert report_after.methods[HEADLINE].grass_share < report_before.methods[HEADLINE].grass_share


def test_same_settings_give_the_same_numbers():
    """Test whether the whole experiment is deterministic for a given seed (timings aside)."""
    config = ShortcutConfig(grass_rate=0.8, num_train=300, num_test=60, num_check=8, seed=5)
    first, again = run(config, methods=["ig", "smoothgrad"]), run(config, methods=["ig", "smoothgrad"])
    for result in (first, again):
        result.pop("training_seconds"), result.pop("drawing_seconds")
        for item in result["evidence"].values():
            item.pop("seconds")
    assert first == again
    different = run(replace(config, seed=6), methods=["ig"])
    assert different["counterfactual"] != first["counterfactual"]

"""The "how many pictures?" lesson: fair trainings, reproducible points from threads, the headline's claim held
across seeds, and maps that find the telling part."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np
import pytest

from core.fit import Progress
from core.lesson import settings_from_dict, settings_json
from core.lessons.how_many_pictures import LESSON
from core.lessons.how_many_pictures.experiment import (
    COARSE,
    FINE,
    TRANSFER,
    HowManySettings,
    _jobs,
    headline,
    learning_curves,
    make_pool,
    make_tests,
    pictures_to_reach,
    subset,
    transfer_line,
)
from core.lessons.how_many_pictures.figures import learning_curves as curves_figure
from core.lessons.how_many_pictures.maps import tip_shares
from core.scenes import (
    CLEAR_TIP_COLOUR,
    EARS,
    FINE_CLASSES,
    breed_specs,
    clear_breed_specs,
    draw_scene,
    draw_scenes,
    ear_tip_mask,
    shortcut_specs,
)

# Small settings for the tests (the page's default is 6 sizes up to 1,000 pictures, 3 seeds: 54 trainings).
TINY = HowManySettings(sizes=(5, 10), seeds=2, min_nudges=30, num_test=60, map_sizes=(5, 10), map_pictures=4, seed=3)
# The headline's claim across seeds: three seeds (each its own pictures, first weights and order), no transfer
# curve, three sizes up to 1,000 (the breeds need them).
CLAIM = HowManySettings(sizes=(10, 100, 1000), seeds=3, transfer=False, map_sizes=(10, 1000), map_pictures=16)


@pytest.fixture(scope="module")
def tiny():
    return learning_curves(TINY)


@pytest.fixture(scope="module")
def claim():
    return learning_curves(CLAIM)


def _one_seed(curves, replicate: int):  # type: ignore[no-untyped-def]
    """The curves of one seed alone, as if it had been the only one."""
    points = tuple(point for point in curves.points if point.replicate == replicate)
    return replace(curves, points=points)


# ------------------------------------------------------------------------------------------------ the claim
@pytest.mark.parametrize("replicate", [0, 1, 2], ids=lambda replicate: f"seed{replicate}")
def test_the_breeds_need_clearly_more_pictures_than_bunny_vs_elephant(claim, replicate):
    """Test the lesson's claim for each of three seeds on its own: bunny vs elephant reaches 90 % within 1,000
    pictures of each, and the breeds need at least 4× as many pictures for it (or do not get there at all); at
    80 % too; from 100 pictures of each on the breeds are never learned better; and the headline says so."""
    curves = _one_seed(claim, replicate)
    coarse, fine = curves.band(COARSE), curves.band(FINE)
    for target in (0.9, 0.8):
        needed_coarse, needed_fine = curves.needed(COARSE, target), curves.needed(FINE, target)
        assert needed_coarse is not None, (target, coarse.mean)
        assert needed_fine is None or needed_fine >= 4 * needed_coarse, (target, coarse.mean, fine.mean)
    assert all(f <= c + 0.02 for size, c, f in zip(coarse.sizes, coarse.mean, fine.mean) if size >= 100)
    text = headline(curves)
    ratio = curves.ratio()
    if ratio is not None:
        assert f"about {ratio:.1f}× more" in text or f"about {round(ratio):,}× more" in text
    else:
        assert "did not get there" in text


def test_with_many_pictures_the_breed_network_looks_at_the_ear_tips(claim):
    """Test whether the breed network trained on 1,000 pictures of each puts several times more of its evidence
    on the ear tips than their share of the picture, and more than the one trained on 10 of each does."""
    maps = claim.maps
    assert maps is not None and (maps.small.per_class, maps.large.per_class) == (10, 1000)
    assert maps.large.focus > 5, (maps.large.tip_share, maps.large.tip_area)
    assert maps.large.tip_share > 2 * maps.small.tip_share
    assert maps.large.accuracy > maps.small.accuracy


# ------------------------------------------------------------------------------------------------ the machinery
def test_every_training_gets_enough_passes_and_enough_nudges():
    """Test whether a training makes at least 4 passes and at least 120 nudges of 32 pictures: 120 for 5 or 300
    pictures of each, 4 passes of 63 nudges for 1,000 of each."""
    settings = HowManySettings()
    assert settings.nudges(5) == 120 and settings.nudges(300) == 120
    assert settings.nudges(1000) == 4 * 63
    assert settings.trainings == 54


def test_the_jobs_start_small_and_each_transfer_starts_after_its_base():
    """Test whether every point is trained once, the smallest first, and each seed's largest bunny-vs-elephant
    training (where its transfer trainings start) is started before any of that seed's transfer trainings."""
    settings = HowManySettings()
    jobs = _jobs(settings)
    assert len(jobs) == len(set(jobs)) == settings.trainings
    assert jobs[0] == (COARSE, 5, 0) and jobs[1] == (FINE, 5, 0)
    for replicate in range(settings.seeds):
        base = jobs.index((COARSE, 1000, replicate))
        assert all(index > base for index, job in enumerate(jobs) if job[0] == TRANSFER and job[2] == replicate)
    assert not [job for job in _jobs(replace(settings, transfer=False)) if job[0] == TRANSFER]


def test_a_training_set_is_balanced_nested_and_seeded():
    """Test whether n pictures of each class are taken, the same for the same seed, a larger set containing the
    smaller one, and another seed taking others."""
    pool = make_pool(FINE, HowManySettings(sizes=(5, 50), map_sizes=(5, 50)))
    small, large = subset(pool, 5, seed=1), subset(pool, 50, seed=1)
    assert np.bincount(pool.labels[small]).tolist() == [5, 5]
    assert set(small) <= set(large)
    assert np.array_equal(small, subset(pool, 5, seed=1)) and not np.array_equal(small, subset(pool, 5, seed=2))
    assert pool.drawn == 0  # nothing drawn until a training asks
    images, labels = pool.take(small)
    assert images.shape == (10, 48, 48, 3) and pool.drawn == 10 and np.array_equal(labels, pool.labels[small])


def test_points_from_threads_are_reproducible_whatever_the_global_random_state(tiny):
    """Test whether two runs of the same settings, each two trainings at a time in threads, give exactly the same
    accuracies, with torch's global generator reseeded in between (it must play no part) and the test pictures
    drawn beforehand, and whether another seed gives other ones."""
    import torch

    torch.manual_seed(999)
    again = learning_curves(TINY, tests=make_tests(TINY))  # the test pictures drawn beforehand, as the page does
    assert [(p.curve, p.per_class, p.replicate, p.accuracy) for p in again.points] == \
           [(p.curve, p.per_class, p.replicate, p.accuracy) for p in tiny.points]
    assert np.array_equal(again.maps.large.maps, tiny.maps.large.maps)
    other = learning_curves(replace(TINY, seed=4, transfer=False, seeds=1))
    assert [p.accuracy for p in other.points] != [p.accuracy for p in tiny.points if p.replicate == 0][:4]


def test_points_arrive_one_training_at_a_time_and_progress_ends_at_one():
    """Test whether `on_point` hears the points so far after each finished training (growing by whole trainings,
    the first one small), and progress counts trainings, in order, up to 1."""
    seen: list[int] = []
    reports: list[Progress] = []
    settings = replace(TINY, transfer=False, seeds=1)
    curves = learning_curves(settings, reports.append, lambda points: seen.append(len(points)))
    assert seen == sorted(seen) and seen[-1] == settings.trainings == len(curves.points) and seen[0] >= 1
    assert [report.step for report in reports] == [0] + seen  # 0: drawing the test pictures
    assert {report.unit for report in reports} == {"networks"} and reports[-1].fraction == pytest.approx(1.0)


def test_a_stop_from_the_page_stops_every_training_thread():
    """Test whether an exception from the progress callback (a page rerun) comes out of `learning_curves` after
    the first training, and no training thread is left running."""

    class Leave(Exception):
        pass

    def leave(report: Progress) -> None:
        if report.step > 0:  # after the first training
            raise Leave

    before = threading.active_count()
    with pytest.raises(Leave):
        learning_curves(replace(TINY, sizes=(5, 10, 300), map_sizes=(5, 10)), leave)
    assert threading.active_count() == before
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("how-many")]


def test_reading_pictures_needed_off_a_curve():
    """Test whether the crossing is read on the log axis between the two sizes around it (halfway between 10 and
    1,000 pictures in accuracy is 100), the first size when already there, None when never reached."""
    assert pictures_to_reach([10, 1000], [0.8, 1.0], 0.9) == pytest.approx(100)
    assert pictures_to_reach([10, 100], [0.95, 0.99], 0.9) == 10
    assert pictures_to_reach([10, 100, 1000], [0.6, 0.7, 0.85], 0.9) is None
    assert pictures_to_reach([10, 100, 1000], [0.6, 0.95, 0.85], 0.9) == pytest.approx(10 ** (1 + 0.3 / 0.35))


# ------------------------------------------------------------------------------------------------ the scenes
def test_the_breeds_differ_only_at_the_ear_tips_and_the_ear_length():
    """Test whether a meadow and a hollow bunny drawn from the same spec differ only in the ears' top half, the
    hollow bunny's tips are black, the mask covers them, and an elephant has no ear tips."""
    spec = clear_breed_specs(1, seed=10)[0]
    meadow, meadow_parts = draw_scene(replace(spec, breed=0), 48)
    hollow, hollow_parts = draw_scene(replace(spec, breed=1), 48)
    tips = ear_tip_mask(spec, 48)
    differ = np.abs(meadow.astype(int) - hollow.astype(int)).sum(-1) > 30
    ears = (meadow_parts == EARS) | (hollow_parts == EARS) | tips
    near_ears = ears | np.roll(ears, 1, 0) | np.roll(ears, -1, 0) | np.roll(ears, 1, 1) | np.roll(ears, -1, 1)
    assert differ.any() and tips.any()
    assert not (differ & ~near_ears).any()  # nothing differs away from the ears (one pixel of smoothed edge)
    dark = (hollow.astype(int) - np.array(CLEAR_TIP_COLOUR)).__abs__().sum(-1) < 60
    assert (dark & tips).sum() >= 2
    assert not ear_tip_mask(shortcut_specs(2, 0.5, seed=1)[1], 48).any()  # index 1 is an elephant


def test_the_clear_breeds_are_the_old_breeds_with_clear_tips():
    """Test whether `clear_breed_specs` keeps `breed_specs`' poses, colours, backgrounds and alternating labels."""
    clear, old = clear_breed_specs(6, seed=2), breed_specs(6, seed=2)
    assert [replace(spec, clear_tips=False) for spec in clear] == old
    assert draw_scenes(clear, FINE_CLASSES).labels.tolist() == [0, 1, 0, 1, 0, 1]


def test_tip_shares_count_only_positive_evidence_inside_the_mask():
    """Test whether the ear-tip share of a hand-made map is its positive evidence inside the mask over all of it."""
    maps = np.array([[[1.0, -5.0], [3.0, 0.0]], [[-1.0, -1.0], [-1.0, -1.0]]])
    masks = np.array([[[True, True], [False, False]], [[True, False], [False, False]]])
    assert tip_shares(maps, masks).tolist() == [0.25, 0.0]


# ------------------------------------------------------------------------------------------------ the contract
def test_the_lesson_runs_headless_and_reports_what_the_command_line_promises(tiny):
    """Test whether the report gives the settings back, each curve with one mean, low and high per size and one
    row per seed, the headline and transfer sentences without Markdown, the maps' numbers, all JSON-ready."""
    result = LESSON.report(tiny)
    assert json.loads(json.dumps(result)) == result
    assert settings_from_dict(HowManySettings, result["settings"]) == TINY
    assert set(result["curves"]) == {COARSE, FINE, TRANSFER} and result["trainings"] == TINY.trainings
    for curve in result["curves"].values():
        assert curve["pictures_per_class"] == [5, 10]
        assert all(low <= mean <= high for low, mean, high in
                   zip(curve["lowest_accuracy"], curve["mean_accuracy"], curve["highest_accuracy"]))
        assert len(curve["per_seed"]) == 2 and all(len(row) == 2 for row in curve["per_seed"])
    assert "**" not in result["headline"] and "**" not in result["transfer"]
    assert [network["pictures_per_class"] for network in result["maps"]["networks"]] == [5, 10]
    summary = LESSON.summary(result)
    assert result["headline"] in summary and summary.count("\n") >= 6


def test_the_target_changes_the_sentence_not_the_trainings(tiny):
    """Test whether the store key ignores the target, and the headline follows the target asked for."""
    assert replace(TINY, target=0.8).training_key() == TINY.training_key()
    assert "80%" in headline(tiny, 0.8) and "80%" in transfer_line(tiny, 0.8)


def test_every_excerpt_is_found_and_the_snippet_runs(capsys):
    """Test whether every code excerpt the page shows is found (not empty) and the snippet runs as printed."""
    excerpts = LESSON.excerpts()
    assert set(excerpts) == {"nudges", "start", "threads", "order"} and all(text.strip() for text in excerpts.values())
    assert "single_thread()" in excerpts["threads"] and "strict=False" in excerpts["start"]
    exec(LESSON.snippet(replace(TINY, transfer=False, seeds=1)), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[:2]] == [COARSE, FINE]


def test_the_figure_has_a_band_and_a_line_per_curve(tiny):
    """Test whether the chart draws, per curve, the band between the seeds and the mean line, and keeps a legend
    entry for a curve with no point yet."""
    figure = curves_figure(tiny.points, TINY.sizes, TINY.seeds, 0.9)
    names = [trace.name for trace in figure.data if trace.showlegend is not False]
    assert names == ["bunny vs elephant", "bunny breed vs bunny breed",
                     "breeds, starting from the bunny-vs-elephant network"]
    assert sum(trace.fill == "toself" for trace in figure.data) == 3
    assert figure.layout.xaxis.type == "log"
    empty = curves_figure((), TINY.sizes, TINY.seeds, 0.9)
    assert len(empty.data) == 3


@pytest.mark.parametrize("kwargs", [dict(sizes=()), dict(sizes=(10, 5)), dict(sizes=(5, 5)), dict(seeds=0),
                                    dict(target=0.4), dict(map_sizes=(7, 1000)), dict(map_sizes=(1000, 5)),
                                    dict(image_size=8), dict(min_nudges=0), dict(sizes=(5, 9000))])
def test_nonsense_settings_are_refused(kwargs):
    """Test whether impossible settings raise a one-line ValueError when they are made."""
    with pytest.raises(ValueError) as raised:
        HowManySettings(**kwargs)
    assert "\n" not in str(raised.value)


def test_the_settings_are_hashable_and_round_trip_through_json():
    """Test whether the settings key a store and come back from their JSON."""
    again = settings_from_dict(HowManySettings, json.loads(json.dumps(settings_json(TINY))))
    assert again == TINY and hash(again) == hash(TINY)


def test_a_transfer_training_starts_from_the_base_networks_filters_with_a_fresh_last_layer():
    """Test whether `train_network` given a start keeps that network's filters (with a learning rate too small
    to move them) and gives it a last layer of its own, and without a start does not."""
    import torch

    from core.lessons.how_many_pictures.experiment import train_network

    still = replace(TINY, learning_rate=1e-9, min_nudges=1, min_passes=1)
    images = np.zeros((4, 48, 48, 3), dtype=np.uint8)
    labels = np.array([0, 1, 0, 1])
    base = train_network(still, images, labels, seed=1).state_dict()
    started = train_network(still, images, labels, seed=2, start=base).state_dict()
    fresh = train_network(still, images, labels, seed=2).state_dict()
    first_filters = "features.0.weight"
    assert torch.allclose(started[first_filters], base[first_filters], atol=1e-6)
    assert not torch.allclose(fresh[first_filters], base[first_filters], atol=1e-3)
    assert torch.equal(started["classifier.weight"], fresh["classifier.weight"])  # its own seed's fresh layer

"""The splitting-the-data lesson's experiment: separate piles, real memorisation, honest early stopping."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pytest
import torch

from core.fit import Progress
from core.lesson import settings_from_dict, settings_json
from core.lessons.splits import LESSON
from core.lessons.splits.experiment import (
    GENERALISED,
    MEMORISED,
    Piles,
    SplitRun,
    SplitSettings,
    build_network,
    count_knobs,
    early_stop,
    make_piles,
    practice_answers,
    takeaways,
    train,
)
from core.lessons.splits.figures import PILE_COLOURS, PILE_NAMES, WRONG, accuracy_curves, pile_strip
from core.seeds import stream
from core.tiny_network import to_inputs

MEMORISING = SplitSettings(num_practice=32)  # the page's default: few pictures, ~200,000 knobs
VARIED = SplitSettings(num_practice=1024)
SMALL = SplitSettings(num_practice=16, num_validation=24, num_test=20, nudges=25, record_every=7, seed=4)


_PILES: dict[tuple, Piles] = {}


def piles_of(settings: SplitSettings) -> Piles:
    """The piles for `settings`, drawn once per test session (shuffling the answers does not change them)."""
    if settings.data_key() not in _PILES:
        _PILES[settings.data_key()] = make_piles(settings)
    return _PILES[settings.data_key()]


@lru_cache(maxsize=None)
def run_of(settings: SplitSettings) -> SplitRun:
    return train(settings, piles_of(settings))


def _bytes(images: np.ndarray) -> set[bytes]:
    return {picture.tobytes() for picture in images}


# ------------------------------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    "kwargs",
    [dict(num_practice=1), dict(num_validation=0), dict(num_test=1), dict(image_size=8), dict(image_size=33),
     dict(hidden=0), dict(nudges=0), dict(batch_size=0), dict(record_every=0), dict(learning_rate=0.0),
     dict(learning_rate=1.5)],
)
def test_nonsense_settings_are_refused(kwargs):
    """Test whether impossible settings raise a one-line ValueError when they are made."""
    with pytest.raises(ValueError) as raised:
        SplitSettings(**kwargs)
    assert "\n" not in str(raised.value)


def test_passes_follow_from_nudges_and_pile_size():
    """Test whether the number of passes is nudges × pictures per nudge / pictures, with small piles used whole."""
    assert MEMORISING.pictures_per_nudge == 32 and MEMORISING.passes == pytest.approx(300)
    assert VARIED.passes == pytest.approx(300 * 32 / 1024)
    assert SplitSettings(num_practice=16).pictures_per_nudge == 16
    assert SplitSettings(shuffle_answers=True).data_key() == MEMORISING.data_key()  # same pictures, other answers


# ---------------------------------------------------------------------------------------------------- piles
def test_piles_have_the_asked_sizes_and_never_share_a_picture():
    """Test whether the three piles hold the asked numbers of pictures and labels, and are disjoint."""
    piles = piles_of(MEMORISING)
    assert piles.sizes() == (32, 256, 256)
    assert piles.practice_images.shape == (32, 32, 32, 3) and piles.practice_images.dtype == np.uint8
    practice, validation, test = (_bytes(images) for images in
                                  (piles.practice_images, piles.validation_images, piles.test_images))
    assert len(practice) == 32 and len(validation) == 256 and len(test) == 256  # no repeats within a pile
    assert not practice & validation and not practice & test and not validation & test
    for labels in (piles.practice_labels, piles.validation_labels, piles.test_labels):
        assert set(np.unique(labels)) == {0, 1} and abs(labels.mean() - 0.5) <= 0.05  # bunnies and elephants


def test_piles_depend_on_the_seed_only_and_more_pictures_only_add_pictures():
    """Test whether the same seed draws the same piles, another seed other ones, and a larger practice pile
    starts with the smaller one while both exams stay the same."""
    small = make_piles(SplitSettings(num_practice=16, num_validation=8, num_test=8, seed=3))
    again = make_piles(SplitSettings(num_practice=16, num_validation=8, num_test=8, seed=3))
    larger = make_piles(SplitSettings(num_practice=40, num_validation=8, num_test=8, seed=3))
    other = make_piles(SplitSettings(num_practice=16, num_validation=8, num_test=8, seed=4))
    assert np.array_equal(small.practice_images, again.practice_images)
    assert np.array_equal(small.test_images, again.test_images)
    assert np.array_equal(larger.practice_images[:16], small.practice_images)
    assert np.array_equal(larger.practice_labels[:16], small.practice_labels)
    assert np.array_equal(larger.validation_images, small.validation_images)
    assert np.array_equal(larger.test_images, small.test_images)
    assert not _bytes(other.practice_images) & _bytes(small.practice_images)


def test_shuffled_answers_keep_the_counts_but_change_about_half_the_names():
    """Test whether shuffling permutes the practice labels (same counts), deterministically, wrong about half
    the time, and leaves the true labels untouched; without shuffling the answers are the labels."""
    labels = piles_of(VARIED).practice_labels
    before = labels.copy()
    assert np.array_equal(practice_answers(VARIED, labels), labels)
    shuffled_settings = SplitSettings(num_practice=1024, shuffle_answers=True)
    shuffled = practice_answers(shuffled_settings, labels)
    assert np.array_equal(labels, before)
    assert np.array_equal(np.sort(shuffled), np.sort(labels))
    assert np.array_equal(shuffled, practice_answers(shuffled_settings, labels))
    assert 0.4 <= (shuffled != labels).mean() <= 0.6


def test_to_inputs_centres_pixels_and_refuses_other_shapes():
    """Test whether pictures become (N, 3, H, W) in [-0.5, 0.5] with pixel (0, 0)'s red channel in place."""
    images = np.random.default_rng(0).integers(0, 256, size=(2, 16, 16, 3), dtype=np.uint8)
    inputs = to_inputs(images)
    assert inputs.shape == (2, 3, 16, 16)
    assert inputs[1, 0, 0, 0].item() == pytest.approx(images[1, 0, 0, 0] / 255 - 0.5)
    assert inputs.min() >= -0.5 and inputs.max() <= 0.5
    with pytest.raises(ValueError):
        to_inputs(images[..., 0])


# -------------------------------------------------------------------------------------------------- network
def test_knob_count_matches_the_network():
    """Test whether the knob count shown to learners is the network's number of weights and biases."""
    for settings in (MEMORISING, SplitSettings(image_size=16, hidden=7)):
        network = build_network(settings, 0)
        assert count_knobs(settings) == sum(parameter.numel() for parameter in network.parameters())
    assert count_knobs(MEMORISING) == 197_378


def test_the_first_point_of_every_curve_matches_a_numpy_forward_pass():
    """Test whether the scores before any nudge equal those of the same untrained network computed by hand
    in numpy (2×2 average, hidden layer with ReLU, larger output wins)."""
    piles = piles_of(SMALL)
    run = train(SMALL, piles)
    network = build_network(SMALL, stream(SMALL.seed, "splits-weights"))
    w1, b1, w2, b2 = (parameter.detach().double().numpy() for parameter in network.parameters())

    def right(images: np.ndarray, labels: np.ndarray) -> float:
        x = images.astype(np.float64) / 255 - 0.5  # (N, H, W, 3)
        n, h, w, _ = x.shape
        pooled = x.reshape(n, h // 2, 2, w // 2, 2, 3).mean(axis=(2, 4))  # (N, H/2, W/2, 3)
        flat = pooled.transpose(0, 3, 1, 2).reshape(n, -1)  # channels first, like torch's Flatten
        outputs = np.maximum(flat @ w1.T + b1, 0) @ w2.T + b2
        return float((outputs.argmax(1) == labels).mean())

    assert run.practice[0] == pytest.approx(right(piles.practice_images, piles.practice_labels))
    assert run.validation[0] == pytest.approx(right(piles.validation_images, piles.validation_labels))
    assert run.test[0] == pytest.approx(right(piles.test_images, piles.test_labels))


def test_the_default_training_gives_the_numbers_measured_before_the_move():
    """Test whether moving the lesson onto core.fit changed nothing: the default training (32 practice pictures,
    seed 0) and the one with 1,024 give the scores measured from the code before the move (core/splits.py, its
    own loop; identical at every point of every curve, seeds 0 and 1 and other settings, when compared then)."""
    few, many = run_of(MEMORISING), run_of(VARIED)
    assert len(few.nudges) == 31 and few.nudges[-1] == 300
    assert (few.final_practice, few.final_test, few.validation[-1]) == (1.0, 0.68359375, 0.71875)
    assert (few.stopped_at, few.exam_score) == (40, 0.671875)
    assert (many.final_practice, many.final_test, many.validation[-1]) == (0.99609375, 0.96875, 0.984375)
    assert (many.stopped_at, many.exam_score) == (300, 0.96875)
    assert [round(sum(curve) * 256) for curve in (few.validation, few.test)] == [5503, 5264]
    assert [round(sum(curve) * 256) for curve in (many.validation, many.test)] == [7192, 7126]


def test_a_pile_that_batches_do_not_divide_keeps_its_remainder_for_the_next_pass():
    """Test whether 48 practice pictures in batches of 32 make exactly `nudges` nudges of full batches: with the
    remainder kept, 16 pictures would be a batch of their own (measured before the move: these very scores)."""
    settings = SplitSettings(num_practice=48, nudges=50, record_every=7, seed=1)
    run = run_of(settings)
    assert run.nudges == (0, 7, 14, 21, 28, 35, 42, 49, 50)
    assert round(sum(run.practice) * 48) == 380  # every point of the practice curve, in 48ths


def test_curves_are_recorded_every_few_nudges_and_at_the_end():
    """Test whether the curves start before any nudge, step by `record_every`, end at the last nudge, and hold
    fractions of each pile."""
    run = train(SMALL, piles_of(SMALL))
    assert run.nudges == (0, 7, 14, 21, 25)
    assert len(run.practice) == len(run.validation) == len(run.test) == len(run.nudges)
    for curve, size in ((run.practice, 16), (run.validation, 24), (run.test, 20)):
        assert all(0.0 <= value <= 1.0 for value in curve)
        assert all(abs(value * size - round(value * size)) < 1e-6 for value in curve)  # whole pictures right
    assert run.seconds > 0 and run.wrong_answers == 0.0


def test_the_same_seed_gives_the_same_curves_and_another_seed_other_ones():
    """Test whether training is reproducible whatever the global random state, and depends on the seed."""
    first = train(SMALL, piles_of(SMALL))
    torch.manual_seed(12345)  # the global generator must play no part
    np.random.seed(12345)
    second = train(SMALL, piles_of(SMALL))
    assert (first.practice, first.validation, first.test) == (second.practice, second.validation, second.test)
    other_settings = SplitSettings(num_practice=16, num_validation=24, num_test=20, nudges=25, record_every=7, seed=5)
    other = train(other_settings, piles_of(other_settings))
    assert (other.practice, other.validation, other.test) != (first.practice, first.validation, first.test)


def test_mismatched_piles_are_refused():
    """Test whether training on piles drawn for other settings raises instead of training on the wrong data."""
    with pytest.raises(ValueError):
        train(SplitSettings(num_practice=64), piles_of(MEMORISING))


# ------------------------------------------------------------------------------------- learning properties
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_few_pictures_it_memorises(seed):
    """Test the lesson's claim: with 32 practice pictures it gets every one right while the final exam stays at
    least 20 points lower (measured gaps for seeds 0–2: 32, 37 and 29 points)."""
    run = run_of(SplitSettings(num_practice=32, seed=seed))
    assert run.final_practice >= 0.99
    assert run.final_test <= run.final_practice - 0.20
    assert run.exam_score <= 0.85  # early stopping cannot turn memorising into understanding
    assert run.final_test > 0.55  # but it did learn something about bunnies and elephants


def test_more_varied_pictures_close_the_gap():
    """Test whether 1,024 practice pictures leave a gap of a few points where 32 left a wide one, and score
    far better on the final exam."""
    few, many = run_of(MEMORISING), run_of(VARIED)
    assert many.final_practice >= 0.95
    assert many.gap <= 0.06
    assert many.gap <= few.gap - 0.2
    assert many.final_test >= few.final_test + 0.2
    assert many.exam_score >= 0.9


def test_shuffled_answers_are_memorised_but_the_exam_is_guessing():
    """Test whether, with shuffled answers, it still gets all 32 practice pictures 'right' while the final exam
    (true answers) is near chance."""
    run = run_of(SplitSettings(num_practice=32, shuffle_answers=True))
    assert 0.3 <= run.wrong_answers <= 0.7
    assert run.final_practice >= 0.99
    assert abs(run.final_test - 0.5) <= 0.1
    assert abs(run.exam_score - 0.5) <= 0.1


def test_early_stopping_picks_the_first_best_mock_exam_and_reports_the_final_exam_there():
    """Test whether the chosen moment is the first maximum of the validation curve and the reported score
    is the test curve at that moment (not its best, not the mock exam's)."""
    assert early_stop([0.5, 0.7, 0.6, 0.7]) == 1
    assert early_stop([0.9]) == 0
    with pytest.raises(ValueError):
        early_stop([])
    for run in (run_of(MEMORISING), run_of(VARIED)):
        best = max(run.validation)
        assert run.validation[run.best] == best
        assert all(value < best for value in run.validation[: run.best])
        assert run.stopped_at == run.nudges[run.best]
        assert run.mock_score == best
        assert run.exam_score == run.test[run.best]


def test_progress_is_reported_at_every_point_and_can_stop_training():
    """Test whether the callback gets every point of the curves in order, and an exception raised from it
    stops training there."""
    reports: list[Progress] = []
    run = train(SMALL, piles_of(SMALL), reports.append)
    assert [report.step for report in reports] == list(run.nudges)
    assert {report.total_steps for report in reports} == {SMALL.nudges}
    assert {report.unit for report in reports} == {"nudges"}
    assert reports[1].text == "Practising on 16 pictures… 7 of 25 nudges"
    assert reports[-1].epoch == pytest.approx(25)  # a pile of 16 is one nudge a pass
    assert reports[-1].fraction == pytest.approx(1.0)

    class Stop(Exception):
        pass

    calls: list[int] = []

    def stop_at_seven(report: Progress) -> None:
        calls.append(report.step)
        if report.step >= 7:
            raise Stop

    with pytest.raises(Stop):
        train(SMALL, piles_of(SMALL), stop_at_seven)
    assert calls == [0, 7]


# -------------------------------------------------------------------------------------------------- figures
def test_pile_strip_frames_the_pictures_and_marks_wrong_answers():
    """Test whether a strip has the computed size, the pile's colour as its frame, the pictures unchanged in
    their tiles, and a vermillion band under (only) the wrongly named pictures."""
    piles = piles_of(SMALL)
    images = piles.practice_images
    before = images.copy()
    plain = pile_strip(images, "validation", columns=3, rows=1, tile=32)
    assert plain.shape == (4 + 32 + 4, 4 + 3 * 32 + 2 * 4 + 4, 3)
    assert tuple(plain[0, 0]) == tuple(int(PILE_COLOURS["validation"][i : i + 2], 16) for i in (1, 3, 5))
    assert np.array_equal(plain[4 : 4 + 32, 4 : 4 + 32], images[0])  # 32 px tiles: the picture itself
    answers = piles.practice_labels.copy()
    answers[1] = 1 - answers[1]  # one wrong answer, the second picture
    labelled = pile_strip(images, "practice", columns=3, rows=1, tile=32, answers=answers, truth=piles.practice_labels)
    assert labelled.shape[0] == plain.shape[0] + 18
    vermillion = np.array([int(WRONG[i : i + 2], 16) for i in (1, 3, 5)])
    band = labelled[4 + 32 : 4 + 32 + 18]  # (18, W, 3)
    share = [np.all(band[:, left : left + 32] == vermillion, axis=-1).mean() for left in (4, 40, 76)]
    assert share[1] > 0.5 and share[0] == 0 and share[2] == 0
    assert np.array_equal(images, before)
    with pytest.raises(ValueError):
        pile_strip(images, "homework")


def test_curves_figure_has_a_line_per_pile_and_a_star_at_the_chosen_moment():
    """Test whether the figure draws the three piles' curves in percent and one star at the stopping moment
    with the reported exam score."""
    run = run_of(MEMORISING)
    figure = accuracy_curves(run)
    names = [trace.name for trace in figure.data]
    assert names[:3] == [PILE_NAMES[pile] for pile in ("practice", "validation", "test")]
    assert list(figure.data[0].y) == pytest.approx([100 * value for value in run.practice])
    star = figure.data[3]
    assert list(star.x) == [run.stopped_at] and list(star.y) == pytest.approx([100 * run.exam_score])
    assert any(shape.x0 == run.stopped_at for shape in figure.layout.shapes)  # the stopping line
    gap = round(100 * run.gap)  # the same number as the page's takeaway and metric
    assert any(f"gap: {gap} points" in (note.text or "") for note in figure.layout.annotations)


def test_the_verdict_and_takeaways_follow_the_gap():
    """Test whether the verdict is "memorised" from a 15-point gap, "generalised" up to 6 points, "partly" in
    between and "shuffled" whenever the answers were, and the takeaways lead with the matching sentence."""
    few, many = run_of(MEMORISING), run_of(VARIED)
    assert MEMORISED == 0.15 and GENERALISED == 0.06
    assert few.gap >= MEMORISED and few.verdict == "memorised"
    assert many.gap <= GENERALISED and many.verdict == "generalised"
    assert takeaways(few)[0].startswith("**It memorised.**")
    assert takeaways(many)[0].startswith("**It learnt, not memorised.**")
    shuffled = run_of(SplitSettings(num_practice=32, shuffle_answers=True))
    assert shuffled.verdict == "shuffled" and takeaways(shuffled)[0].startswith("**Nothing to learn")
    between = SplitRun(MEMORISING, (), (0, 10), (0.5, 0.9), (0.5, 0.8), (0.5, 0.8), 0.0, 0.0)  # a 10-point gap
    assert between.verdict == "partly" and takeaways(between)[0].startswith("**Partly memorised.**")


# --------------------------------------------------------------------------------------- the lesson contract
def test_the_lesson_runs_headless_and_reports_what_the_command_line_promises():
    """Test whether LESSON.run + LESSON.report on small settings give the settings back, the three scores, the
    gap and its verdict, the chosen moment and its exam score, the curves and plain takeaways, JSON-ready."""
    result = LESSON.report(LESSON.run(SMALL, None))
    assert json.loads(json.dumps(result)) == result
    assert settings_from_dict(SplitSettings, result["settings"]) == SMALL
    assert result["knobs"] == count_knobs(SMALL)
    assert result["curves"]["nudges"] == [0, 7, 14, 21, 25]
    run = run_of(SMALL)
    assert (result["final_practice"], result["final_test"], result["exam_score"], result["stopped_at"]) == (
        run.final_practice, run.final_test, run.exam_score, run.stopped_at)
    assert result["gap"] == pytest.approx(run.gap) and result["verdict"] == run.verdict
    assert result["takeaways"] and not any("*" in line for line in result["takeaways"])
    assert any(line.startswith("When to stop:") for line in result["takeaways"])
    summary = LESSON.summary(result)
    assert "exam score to report" in summary and f"{run.exam_score:.0%}" in summary


def test_every_excerpt_is_found_and_the_snippet_runs(capsys):
    """Test whether every code excerpt the page shows is found in the code (not empty), and the "from Python"
    snippet runs as printed and prints the run's four numbers."""
    excerpts = LESSON.excerpts()
    assert set(excerpts) == {"batches", "nudge", "scoring", "stop"}
    assert all(text.strip() for text in excerpts.values())
    assert "drop_last" in excerpts["batches"] and "record_every" in excerpts["scoring"]
    assert excerpts["stop"].startswith("def early_stop")
    exec(LESSON.snippet(SMALL), {})
    run = run_of(SMALL)
    assert capsys.readouterr().out.split() == [str(run.final_practice), str(run.final_test), str(run.stopped_at),
                                               str(run.exam_score)]


def test_the_settings_are_hashable_and_round_trip_through_json():
    """Test whether the settings key a store (hashable, equal when equal) and come back from their JSON."""
    again = settings_from_dict(SplitSettings, json.loads(json.dumps(settings_json(SMALL))))
    assert again == SMALL and hash(again) == hash(SMALL) and {SMALL: 1}[again] == 1

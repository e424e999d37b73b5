"""Training: it learns, it is reproducible, it reports progress (through the one loop, core.fit)."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from core.fit import Progress
from core.models import ModelConfig, build_model
from core.runtime import configure_torch
from core.scenes import COARSE_CLASSES, draw_scenes, shortcut_specs
from core.training import TrainConfig, accuracy, predict_proba, to_tensor, train

TRAIN = draw_scenes(shortcut_specs(400, 0.5, seed=21), COARSE_CLASSES)
HELD_OUT = draw_scenes(shortcut_specs(200, 0.5, seed=22), COARSE_CLASSES)
QUICK = TrainConfig(epochs=2)


def test_beats_chance_quickly():
    """Test whether four passes over 400 balanced pictures (grass gives nothing away) clearly beat guessing."""
    result = train(ModelConfig(), TrainConfig(epochs=4), TRAIN.images, TRAIN.labels, seed=0)
    assert accuracy(predict_proba(result.model(), HELD_OUT.images), HELD_OUT.labels) > 0.75


def test_same_seed_same_weights_and_different_seed_different_weights():
    """Test whether training is a pure function of data and seed."""
    first = train(ModelConfig(), QUICK, TRAIN.images[:128], TRAIN.labels[:128], seed=3).state_dict
    again = train(ModelConfig(), QUICK, TRAIN.images[:128], TRAIN.labels[:128], seed=3).state_dict
    other = train(ModelConfig(), QUICK, TRAIN.images[:128], TRAIN.labels[:128], seed=4).state_dict
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not all(torch.equal(first[name], other[name]) for name in first)


def test_progress_reports_count_up_to_the_last_step():
    """Test whether the callback sees core.fit.Progress reports with increasing steps ending at the total,
    passes counted in `epoch`, and whether the history keeps the very same reports."""
    reports = []
    result = train(ModelConfig(), QUICK, TRAIN.images[:256], TRAIN.labels[:256], seed=0, on_progress=reports.append)
    steps = [report.step for report in reports]
    assert steps == sorted(set(steps)) and steps[-1] == reports[-1].total_steps == 8  # 256/64 × 2 passes
    assert reports == result.history and all(type(report) is Progress for report in reports)
    assert [report.epoch for report in reports] == [step / 4 for step in steps]
    assert all(0.0 <= report.accuracy <= 1.0 for report in reports)
    assert reports[-1].fraction == 1.0 and reports[-1].text == "Learning… 8 of 8 nudges"


# Measured from core/training.py's hand-written loop before it moved onto core.fit (issue 8), two torch threads
# on a 2-core x86-64 (AVX2): 200 pictures (three full batches and a short one of 8 per pass), two passes. Other
# CPUs round float32 differently (an AVX-512 machine: 0.6976526 for 0.6976525 at step 5), so losses are compared
# to 1e-5 and the weights by a few summaries to 1e-4 instead of a hash of their bytes.
BEFORE_THE_MOVE_HISTORY = [  # (step, total_steps, epoch, loss, accuracy)
    (1, 8, 0.25, 0.7484815120697021, 0.375), (2, 8, 0.5, 0.704331636428833, 0.453125),
    (3, 8, 0.75, 0.6966941356658936, 0.546875), (4, 8, 1.0, 0.6420308351516724, 0.875),
    (5, 8, 1.25, 0.6976525187492371, 0.5625), (6, 8, 1.5, 0.6623818278312683, 0.640625),
    (7, 8, 1.75, 0.6253650188446045, 0.6875), (8, 8, 2.0, 0.5870276093482971, 0.75),
]


def test_training_through_fit_gives_the_numbers_of_the_loop_before_the_move():
    """Test whether the same seed gives the history the hand-written loop gave before training moved onto
    core.fit (same batch order, same nudges, same averages, short last batch included), within CPU rounding,
    and the same weights twice."""
    configure_torch(2)
    result = train(ModelConfig(), QUICK, TRAIN.images[:200], TRAIN.labels[:200], seed=0)
    history = [(report.step, report.total_steps, report.epoch, report.loss, report.accuracy) for report in result.history]
    assert [row[:3] + row[4:] for row in history] == [row[:3] + row[4:] for row in BEFORE_THE_MOVE_HISTORY]
    assert [row[3] for row in history] == pytest.approx([row[3] for row in BEFORE_THE_MOVE_HISTORY], abs=1e-5)
    again = train(ModelConfig(), QUICK, TRAIN.images[:200], TRAIN.labels[:200], seed=0)
    assert all(torch.equal(result.state_dict[name], again.state_dict[name]) for name in result.state_dict)


def test_a_callback_that_raises_stops_training():
    """Test whether a page can stop training from its callback (what a Streamlit rerun does)."""
    class Stop(Exception):
        pass

    def stop(report):  # type: ignore[no-untyped-def]
        raise Stop

    with pytest.raises(Stop):
        train(ModelConfig(), QUICK, TRAIN.images[:128], TRAIN.labels[:128], seed=0, on_progress=stop)


def test_to_tensor_scales_and_keeps_the_input():
    """Test whether pictures become (N, 3, H, W) floats in [0, 1] without touching the original array."""
    images = TRAIN.images[:2].copy()
    tensor = to_tensor(images)
    assert tensor.shape == (2, 3, 64, 64)
    assert torch.allclose(tensor[1, :, 5, 7] * 255, torch.tensor(images[1, 5, 7], dtype=torch.float32))
    assert np.array_equal(images, TRAIN.images[:2])


def test_building_the_same_model_twice_gives_the_same_start():
    """Test whether initial weights depend only on the seed, not on the global random state."""
    torch.manual_seed(123)
    first = build_model(ModelConfig(), seed=5).state_dict()
    torch.manual_seed(456)
    again = build_model(ModelConfig(), seed=5).state_dict()
    assert all(torch.equal(first[name], again[name]) for name in first)


def test_bad_inputs_raise_clear_errors():
    """Test whether impossible settings and mismatched data raise ValueError."""
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="depth"):
        ModelConfig(depth=9)
    with pytest.raises(ValueError, match="same"):
        train(ModelConfig(), QUICK, TRAIN.images[:4], TRAIN.labels[:3], seed=0)
    with pytest.raises(ValueError, match="eval"):
        predict_proba(build_model(ModelConfig(), 0).train(), TRAIN.images[:2])


def test_starting_weights_ignore_other_threads_using_the_global_generator():
    """Test whether build_model gives the same weights while another thread reseeds torch (two sessions)."""
    import threading

    expected = build_model(ModelConfig(), seed=123).state_dict()
    stop = threading.Event()

    def reseed() -> None:
        while not stop.is_set():
            torch.manual_seed(0)
            torch.rand(100)

    other = threading.Thread(target=reseed)
    other.start()
    try:
        for _ in range(50):
            weights = build_model(ModelConfig(), seed=123).state_dict()
            assert all(torch.equal(expected[name], weights[name]) for name in expected)
    finally:
        stop.set()
        other.join()

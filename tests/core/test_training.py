"""Training: it learns, it is reproducible, it reports progress."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models import ModelConfig, build_model
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
    """Test whether the callback sees increasing steps ending at the total, and history keeps them."""
    reports = []
    result = train(ModelConfig(), QUICK, TRAIN.images[:256], TRAIN.labels[:256], seed=0, on_progress=reports.append)
    steps = [report.step for report in reports]
    assert steps == sorted(set(steps)) and steps[-1] == reports[-1].total_steps == 8  # 256/64 × 2 passes
    assert reports == result.history
    assert all(0.0 <= report.accuracy <= 1.0 for report in reports)


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

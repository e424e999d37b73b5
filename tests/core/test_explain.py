"""Explanations: shapes, references (autograd, completeness), invariants, thread safety."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch

from core.explain import METHODS, LogOdds, average_colour_baseline, explain
from core.training import to_tensor


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_returns_one_map_per_picture_at_picture_size(small_model, small_data, method):
    """Test whether each registered method gives (N, H, W) finite maps that are not all zero."""
    images = small_data.check.images[:3]
    maps = explain(small_model, images, target=0, method=method)
    assert maps.shape == (3, 64, 64) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and np.abs(maps).sum() > 0


def test_saliency_equals_the_autograd_gradient(small_model, small_data):
    """Test whether Saliency is |d log-odds / d pixel| summed over colours, as torch.autograd computes it."""
    images = small_data.check.images[:2]
    inputs = to_tensor(images).requires_grad_()
    outputs = LogOdds(small_model)(inputs)[:, 1].sum()
    (gradient,) = torch.autograd.grad(outputs, inputs)
    expected = gradient.abs().sum(1).numpy()
    assert np.allclose(explain(small_model, images, target=1, method="saliency"), expected, atol=1e-6)


def test_log_odds_are_log_p_over_one_minus_p(small_model, small_data):
    """Test whether the explained output is log(p / (1 - p)) of the softmax probabilities."""
    inputs = to_tensor(small_data.check.images[:4])
    with torch.no_grad():
        p = torch.softmax(small_model(inputs), dim=1).double()
        assert torch.allclose(LogOdds(small_model)(inputs).double(), torch.log(p / (1 - p)), atol=1e-4)


def test_integrated_gradients_adds_up_to_the_change_in_output(small_model, small_data):
    """Test completeness: IG's map sums to f(picture) - f(baseline), within 32-step error."""
    images = small_data.check.images[:4]
    baseline = average_colour_baseline(small_data.train.images)
    maps = explain(small_model, images, target=0, method="ig", baseline=baseline)
    with torch.no_grad():
        wrapped = LogOdds(small_model)
        change = (wrapped(to_tensor(images))[:, 0] - wrapped(baseline)[:, 0]).numpy()
    assert np.allclose(maps.reshape(4, -1).sum(1), change, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("method", ["ig", "gradcam", "occlusion", "saliency"])
def test_a_pictures_map_does_not_depend_on_its_batch(small_model, small_data, method):
    """Test whether explaining pictures together gives each the same map as explaining it alone."""
    images = small_data.check.images[:3]
    together = explain(small_model, images, target=[0, 1, 0], method=method)
    alone = explain(small_model, images[1:2], target=1, method=method)
    assert np.allclose(together[1], alone[0], atol=1e-5)


def test_explaining_does_not_modify_the_pictures(small_model, small_data):
    """Test whether the input array comes back untouched."""
    images = small_data.check.images[:2].copy()
    for method in METHODS:
        explain(small_model, images, target=0, method=method)
    assert np.array_equal(images, small_data.check.images[:2])


def test_random_methods_are_reproducible_with_a_seed(small_model, small_data):
    """Test whether SmoothGrad and GradientShap give the same map for the same seed."""
    images = small_data.check.images[:1]
    for method in ("smoothgrad", "gradientshap"):
        assert np.array_equal(explain(small_model, images, 0, method, seed=4), explain(small_model, images, 0, method, seed=4))


def test_two_threads_on_one_model_get_the_right_maps(small_model, small_data):
    """Test whether concurrent Grad-CAM calls on one shared model match the sequential result."""
    images = small_data.check.images[:4]
    expected = explain(small_model, images, target=0, method="gradcam")
    results, errors = [], []

    def work() -> None:
        try:
            for _ in range(15):
                results.append(explain(small_model, images, target=0, method="gradcam"))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 30 and all(np.allclose(result, expected, atol=1e-6) for result in results)


def test_bad_requests_raise_clear_errors(small_model, small_data):
    """Test whether unknown methods, training-mode models and mismatched targets are refused."""
    images = small_data.check.images[:2]
    with pytest.raises(ValueError, match="unknown method"):
        explain(small_model, images, 0, "magic")
    with pytest.raises(ValueError, match="targets"):
        explain(small_model, images, [0, 1, 0], "saliency")
    small_model.train()
    try:
        with pytest.raises(ValueError, match="eval"):
            explain(small_model, images, 0, "saliency")
    finally:
        small_model.eval()


def test_log_odds_stay_exact_when_the_network_is_very_sure():
    """Test whether log-odds and their gradient survive a logit gap of 24 (softmax would round p to 1)."""
    linear = torch.nn.Linear(1, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[12.0], [-12.0]]))
        linear.bias.zero_()
    inputs = torch.ones(1, 1, requires_grad=True)
    output = LogOdds(linear)(inputs)
    assert output[0, 0].item() == pytest.approx(24.0) and output[0, 1].item() == pytest.approx(-24.0)
    (gradient,) = torch.autograd.grad(output[0, 0], inputs)
    assert gradient.item() == pytest.approx(24.0)


def test_seeded_methods_are_unaffected_by_another_session_explaining_at_once(small_model, small_data):
    """Test whether SmoothGrad with a seed gives the same map while another thread runs the random methods
    with other seeds (they reseed the global generators Captum draws from)."""
    images = small_data.check.images[:1]
    expected = explain(small_model, images, 0, "smoothgrad", seed=9)
    other_model = copy.deepcopy(small_model)  # another session's network: its own model lock
    stop = threading.Event()

    def reseed() -> None:
        while not stop.is_set():
            explain(other_model, images, 1, "gradientshap", seed=0)
            explain(other_model, images, 1, "smoothgrad", seed=1)

    other = threading.Thread(target=reseed)
    other.start()
    try:
        results = [explain(small_model, images, 0, "smoothgrad", seed=9) for _ in range(10)]
    finally:
        stop.set()
        other.join()
    assert all(np.array_equal(result, expected) for result in results)

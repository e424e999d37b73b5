"""Trust checks: deletion falls faster for a real map; randomisation catches maps that ignore the network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.explain import METHODS, Method, explain
from core.training import predict_proba, to_tensor
from core.trust import deletion_check, filled, randomisation_check, rank_correlation, weight_layers


def test_rank_correlation_reference_values():
    """Test Spearman's correlation on hand-checkable cases: identical, reversed, monotone transform, and ties,
    which share their average rank (hand-computed: ranks 0.5, 0.5, 2, 3 against 0, 1, 2, 3 give 0.9486833)."""
    values = np.array([3.0, 1.0, 2.0, 5.0])
    assert rank_correlation(values, values) == pytest.approx(1.0)
    assert rank_correlation(values, -values) == pytest.approx(-1.0)
    assert rank_correlation(values, np.exp(values)) == pytest.approx(1.0)
    assert rank_correlation(np.array([0.0, 0.0, 1.0, 2.0]), np.arange(4.0)) == pytest.approx(0.9486833, abs=1e-7)
    assert rank_correlation(np.zeros(5), np.arange(5.0)) == 0.0  # a flat map resembles nothing


def test_deletion_by_the_map_hurts_more_than_random_deletion(small_model, small_data):
    """Test whether removing the patches Integrated Gradients calls most important first lowers the log-odds
    faster than removing its least important first or random patches, on most check pictures of a trained
    network; all three curves start from the untouched picture and end on the fully blurred one."""
    images = small_data.check.images[:6]
    passes = 0
    for image in images:
        target = int(predict_proba(small_model, image[None]).argmax())
        attribution = explain(small_model, image[None], target, "ig")[0]
        check = deletion_check(small_model, image, target, attribution, steps=8)
        assert check.fractions[0] == 0 and check.fractions[-1] == 1
        for curve in (check.least_first, check.random_order):
            assert curve[0] == pytest.approx(check.most_first[0], abs=1e-5)
            assert curve[-1] == pytest.approx(check.most_first[-1], abs=1e-5)
        passes += check.passes
    assert passes >= 5


def test_a_map_pointing_at_the_wrong_patches_fails_deletion(small_model, small_data):
    """Test whether the check catches a map that is the opposite of Integrated Gradients' (most important first
    becomes least important first): it must fail where the real map passes."""
    image = small_data.check.images[0]
    target = int(predict_proba(small_model, image[None]).argmax())
    attribution = explain(small_model, image[None], target, "ig")[0]
    honest = deletion_check(small_model, image, target, attribution, steps=8)
    reversed_map = deletion_check(small_model, image, target, -attribution, steps=8)
    assert honest.passes and not reversed_map.passes
    np.testing.assert_allclose(reversed_map.most_first, honest.least_first, atol=1e-6)


def test_the_blur_keeps_colour_and_removes_detail():
    """Test whether the blurred fill keeps a picture's average colour and flattens its texture, and grey is grey."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    blurred = filled(image, "blur")
    assert np.abs(blurred.mean((0, 1)) - image.mean((0, 1))).max() < 3
    assert blurred.std() < image.std() / 4
    assert (filled(image, "grey") == 128).all()
    with pytest.raises(ValueError, match="unknown fill"):
        filled(image, "paint")


def test_a_scrambled_network_changes_integrated_gradients(small_model, small_data):
    """Test whether IG's map changes once every layer of the network is scrambled (it passes the check), measured
    against the map the network gave before the check, which the check leaves exactly as it was."""
    image = small_data.check.images[0]
    before = explain(small_model, image[None], 0, "ig", seed=1)[0]
    check = randomisation_check(small_model, image, 0, "ig", seed=1)
    after = explain(small_model, image[None], 0, "ig", seed=1)[0]
    assert np.array_equal(before, after)  # the check scrambled a copy: the network still gives the same map
    assert len(check.layers) == len(weight_layers(small_model))
    assert check.similarity[-1] == pytest.approx(rank_correlation(np.abs(before), np.abs(check.maps[-1])))
    assert check.passes and check.similarity[-1] < 0.5


def test_a_map_that_ignores_the_network_fails_the_randomisation_check(small_model, small_data, monkeypatch):
    """Test whether an 'explanation' computed from the picture alone (an edge detector) is caught: it stays
    identical however the network is scrambled."""
    def edges(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
        grey = inputs.mean(1, keepdim=True)  # (N, 1, H, W)
        return (grey.diff(dim=-1, prepend=grey[..., :1]).abs() + grey.diff(dim=-2, prepend=grey[..., :1, :]).abs())

    monkeypatch.setitem(METHODS, "edges", Method("edges", "Edges", "picture edges", False, "", edges))
    image = small_data.check.images[0]
    check = randomisation_check(small_model, image, 0, "edges", seed=1,
                                groups=[weight_layers(small_model)[:2], weight_layers(small_model)])
    picture_edges = edges(None, to_tensor(image[None]), None, None, 0)[0, 0].numpy()  # (H, W): no network in it
    assert all(np.allclose(redrawn, picture_edges) for redrawn in check.maps)  # the check redrew the edge map
    assert np.allclose(check.similarity, 1.0) and not check.passes


def test_the_original_network_is_left_untouched(small_model, small_data):
    """Test whether the randomisation check scrambles a copy, never the network it was given."""
    before = {name: tensor.clone() for name, tensor in small_model.state_dict().items()}
    randomisation_check(small_model, small_data.check.images[0], 0, "saliency", seed=2)
    assert all(torch.equal(before[name], tensor) for name, tensor in small_model.state_dict().items())


def test_bad_requests_are_refused(small_model, small_data):
    """Test whether mismatched maps and unknown layers raise ValueError."""
    image = small_data.check.images[0]
    with pytest.raises(ValueError, match="same size"):
        deletion_check(small_model, image, 0, np.zeros((8, 8)))
    with pytest.raises(ValueError, match="no layer"):
        randomisation_check(small_model, image, 0, "saliency", groups=[["nowhere"]])

"""NetLens's trust checks against the field's reference implementation, Quantus (a test-time dependency).

Same network, picture and map on both sides. Quantus's PixelFlipping orders, steps and scores the deletion (we
give it the patch-level evidence and NetLens's blur as its perturbation); its MPRT re-initialises the layers and
scores the similarity. Tolerance: 1e-5 in log-odds for deletion (float32 forward passes of differently laid-out
tensors), 1e-6 for the rank correlations (the same maps up to float rounding, which can swap two near-equal
ranks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

quantus = pytest.importorskip("quantus", reason="quantus is a test dependency: sh .ci/setup test installs it")

from core.explain import LogOdds, explain  # noqa: E402
from core.images import load_image  # noqa: E402
from core.lessons.photo.experiment import explain_photo, predict  # noqa: E402
from core.photo_model import PixelInput, load_photo_model, model_view  # noqa: E402
from core.training import predict_proba, to_tensor  # noqa: E402
from core.trust import deletion_check, filled, patch_evidence, patch_ids, randomisation_check  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "photos"
GRID = 8


def quantus_pixel_flipping(model, image: np.ndarray, target: int, attribution: np.ndarray, fill: str,
                           least_first: bool = False) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Quantus's PixelFlipping curve of log-odds after each patch of the GRID × GRID division is removed."""
    side = image.shape[0]
    evidence = patch_evidence(attribution, GRID)
    order = np.argsort(np.argsort(evidence, kind="stable"), kind="stable").astype(np.float64)  # distinct per patch
    if least_first:
        order = -order
    patch_attribution = order[patch_ids(side, side, GRID)][None, None]  # (1, 1, H, W): one value per patch
    inputs = to_tensor(image[None]).contiguous().numpy()  # (1, 3, H, W) in [0, 1]
    replacement = to_tensor(filled(image, fill)[None]).contiguous().numpy().reshape(1, -1)

    def perturb(arr: np.ndarray, indices: np.ndarray, **kwargs) -> np.ndarray:  # type: ignore[no-untyped-def]
        out = arr.copy()
        rows = np.arange(len(arr))[:, None]
        out[rows, indices] = replacement[rows, indices]
        return out

    pixels_per_patch = (side // GRID) ** 2
    metric = quantus.PixelFlipping(features_in_step=pixels_per_patch, perturb_func=perturb, abs=False,
                                   normalise=False, disable_warnings=True, display_progressbar=False)
    curve = metric(model=LogOdds(model).eval(), x_batch=inputs, y_batch=np.array([target]),
                   a_batch=patch_attribution, softmax=False, device="cpu", channel_first=True)
    # Quantus removes one channel of a patch per step (its map is broadcast over the 3 colour channels): every
    # third step, one whole patch more is gone.
    return np.asarray(curve[0])[2::3]


@pytest.mark.parametrize("fill", ["blur", "grey"])
def test_deletion_matches_quantus_pixel_flipping_on_a_bunny_world_scene(small_model, small_data, fill):
    """Test whether NetLens's most- and least-important-first curves equal Quantus's pixel flipping, patch by patch."""
    image = small_data.check.images[1]
    target = int(predict_proba(small_model, image[None]).argmax())
    attribution = explain(small_model, image[None], target, "ig")[0]
    ours = deletion_check(small_model, image, target, attribution, steps=GRID * GRID, grid=GRID, random_orders=1,
                          fill=fill)
    most_first = quantus_pixel_flipping(small_model, image, target, attribution, fill)
    least_first = quantus_pixel_flipping(small_model, image, target, attribution, fill, least_first=True)
    assert len(most_first) == GRID * GRID
    np.testing.assert_allclose(ours.most_first[1:], most_first, atol=1e-5)
    np.testing.assert_allclose(ours.least_first[1:], least_first, atol=1e-5)
    assert not np.allclose(most_first, least_first)  # the two orders really differ


def test_deletion_matches_quantus_on_the_photo_network():
    """Test the same on the ImageNet network, the coffee photo and Grad-CAM's map, with the blur the page uses."""
    network = load_photo_model()
    coffee = load_image((PHOTOS / "coffee.jpg").read_bytes())
    target = predict(network, coffee)[0].index
    attribution = explain_photo(network, coffee, target, "gradcam")
    view = model_view(coffee)
    ours = deletion_check(PixelInput(network), view, target, attribution, steps=GRID * GRID, grid=GRID,
                          random_orders=1)
    reference = quantus_pixel_flipping(PixelInput(network), view, target, attribution, "blur")
    np.testing.assert_allclose(ours.most_first[1:], reference, atol=1e-4)


def quantus_mprt(model, image: np.ndarray, target: int, method: str, seed: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Quantus's MPRT (cascading, output side first): similarity to the original map after each layer."""
    def explain_func(model, inputs, targets, **kwargs):  # type: ignore[no-untyped-def]
        pictures = (np.asarray(inputs).transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)  # back to (N, H, W, 3)
        return explain(model.eval(), pictures, targets, method, seed=seed)[:, None]

    metric = quantus.MPRT(layer_order="top_down", seed=seed, disable_warnings=True, display_progressbar=False)
    scores = metric(model=model, x_batch=to_tensor(image[None]).contiguous().numpy(), y_batch=np.array([target]),
                    a_batch=None, explain_func=explain_func, device="cpu", channel_first=True)
    return {layer: values[0] for layer, values in scores.items() if layer != "original"}


@pytest.mark.parametrize("method", ["saliency", "ig"])
def test_randomisation_matches_quantus_mprt_layer_by_layer(small_model, small_data, method):
    """Test whether re-initialising layer after layer gives Quantus's layers, in its order, with its similarities."""
    image = small_data.check.images[0]
    target = int(predict_proba(small_model, image[None]).argmax())
    ours = randomisation_check(small_model, image, target, method, seed=3)
    reference = quantus_mprt(small_model, image, target, method, seed=3)
    assert list(ours.layers) == list(reference)
    np.testing.assert_allclose(ours.similarity, list(reference.values()), atol=1e-6)

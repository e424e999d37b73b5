"""The offline photo model: exact architecture, the right preprocessing (proved by confidences), labels,
Grad-CAM that finds the named object, and refusal of damaged weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.photo_model import (
    IMAGENET_LABELS,
    EfficientNetLite0,
    PixelInput,
    grad_cam,
    load_photo_model,
    model_view,
    preprocess,
    top_predictions,
    verify_checksum,
    weights_path,
)

PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "photos"
CATS = {281, 282, 285}  # tabby, tiger cat, Egyptian cat


def photo(name: str) -> np.ndarray:
    with Image.open(PHOTOS / f"{name}.jpg") as image:
        return np.array(image.convert("RGB"))  # (H, W, 3) uint8


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return load_photo_model()


def test_checkpoint_loads_strictly_with_the_published_size(model):
    """Test whether every checkpoint tensor fits the architecture and parameters plus buffers count 4,694,073."""
    state = torch.load(weights_path(), weights_only=True, map_location="cpu")
    assert set(state) == set(model.state_dict())
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())  # BatchNorm running mean/var and 49 batch counters
    assert parameters == 4_652_008
    assert parameters + buffers == 4_694_073
    assert not model.training


def test_every_activation_is_its_own_module(model):
    """Test whether no ReLU6 module is used twice, so Captum's hooks are unambiguous."""
    activations = [module for module in model.modules() if isinstance(module, torch.nn.ReLU6)]
    assert len(activations) == 1 + 2 * 16 - 1 + 1  # stem, two per block (block 0 has no expansion), head
    assert len({id(module) for module in activations}) == len(activations)


def test_stride_two_convolutions_pad_like_tensorflow(model):
    """Test whether stride-2 convolutions pad as TF's "same": 3x3 by 0 before and 1 after, 5x5 by 1 and 2."""
    assert model._stem_pad.padding == (0, 1, 0, 1)
    strided = {block._depthwise_conv.kernel_size[0]: block._depthwise_pad.padding
               for block in model._blocks if block._depthwise_conv.stride == (2, 2)}
    assert strided == {3: (0, 1, 0, 1), 5: (1, 2, 1, 2)}


def test_the_cat_photo_is_a_cat(model):
    """Test whether Chelsea's top-5 contains tabby, tiger cat or Egyptian cat, with a cat on top."""
    predictions = top_predictions(model, photo("chelsea"))
    assert len(predictions) == 5 and predictions[0][0] in CATS
    assert [p for _, _, p in predictions] == sorted((p for _, _, p in predictions), reverse=True)
    assert predictions[0][1] == IMAGENET_LABELS[predictions[0][0]]


def test_the_coffee_photo_is_a_confident_espresso(model):
    """Test whether the coffee photo is espresso at ~0.95 (ImageNet mean/std gives ~0.78, 0/1 padding ~0.999)."""
    index, label, probability = top_predictions(model, photo("coffee"), k=1)[0]
    assert (index, label) == (967, "espresso") and 0.9 < probability < 0.99  # seen: 0.953


def test_labels_are_1000_unique_names_in_index_order():
    """Test whether the labels file has 1000 different names with the known indices and disambiguated duplicates."""
    lines = (PHOTOS.parent / "imagenet_labels.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1000 and len(set(lines)) == 1000 and tuple(lines) == IMAGENET_LABELS
    assert (lines[0], lines[281], lines[285], lines[330], lines[967]) == (
        "tench", "tabby", "Egyptian cat", "wood rabbit", "espresso")
    assert (lines[134], lines[517]) == ("crane (bird)", "crane (machine)")


def test_preprocess_gives_one_scaled_224_square():
    """Test whether preprocess turns any-sized RGB uint8 into (1, 3, 224, 224) float32 in [-127/128, 1]."""
    image = np.zeros((300, 451, 3), dtype=np.uint8)
    image[:, :, 0] = 255
    inputs = preprocess(image)
    assert inputs.shape == (1, 3, 224, 224) and inputs.dtype == torch.float32
    assert torch.allclose(inputs[0, 0], torch.tensor(1.0)) and torch.allclose(inputs[0, 1:], torch.tensor(-127 / 128))
    real = preprocess(photo("chelsea"))
    assert real.min() >= -127 / 128 and real.max() <= 1.0 and real.std() > 0.2


def test_preprocess_keeps_the_central_crop():
    """Test whether the network sees the central 87.5 % of the shorter side: a border outside it vanishes."""
    image = np.full((400, 600, 3), 200, dtype=np.uint8)
    image[:20] = image[-20:] = 0  # top and bottom 5 %: outside the 350-pixel central square
    image[:, :120] = image[:, -120:] = 0  # left and right 20 %
    assert model_view(image).min() == 200


@pytest.mark.parametrize("bad", [np.zeros((224, 224), np.uint8), np.zeros((224, 224, 4), np.uint8),
                                 np.zeros((224, 224, 3), np.float32), np.zeros((4, 224, 3), np.uint8)])
def test_preprocess_refuses_what_is_not_an_rgb_picture(bad):
    """Test whether greyscale, RGBA, float and tiny arrays raise ValueError instead of giving a silent answer."""
    with pytest.raises(ValueError):
        preprocess(bad)


def test_the_pixel_wrapper_matches_preprocess(model):
    """Test whether PixelInput on [0, 1] pixels (as core.explain feeds them) gives the same logits as preprocess."""
    image = photo("coffee")
    pixels = torch.from_numpy(model_view(image)).permute(2, 0, 1).unsqueeze(0).float() / 255  # (1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(PixelInput(model)(pixels), model(preprocess(image)), atol=1e-4)
    assert PixelInput(model).last_conv_layer is model.last_conv_layer and not PixelInput(model).training


def test_grad_cam_finds_the_named_object(model):
    """Test whether Grad-CAM puts most evidence on the cat for a cat class and on the cup for espresso,
    with both photos side by side in one picture."""
    canvas = np.full((448, 448, 3), 128, dtype=np.uint8)
    canvas[112:336, :224] = model_view(photo("chelsea"))
    canvas[112:336, 224:] = model_view(photo("coffee"))
    # The network sees the central 392-pixel square at 224 pixels: each photo fills rows 48-176, half the width
    # (29 % of the area each); the rest is plain grey. Grad-CAM's 7x7 cells bleed a little into the grey.
    cat, cup = (slice(48, 176), slice(0, 112)), (slice(48, 176), slice(112, 224))
    cat_map = grad_cam(model, canvas, target=282)  # tiger cat
    assert cat_map.shape == (224, 224) and cat_map.dtype == np.float32 and cat_map.min() >= 0
    assert cat_map[cat].sum() > 0.6 * cat_map.sum() and cat_map[cat].sum() > 10 * cat_map[cup].sum()  # seen: 0.70, 0.05
    cup_map = grad_cam(model, canvas, target=967)  # espresso
    assert cup_map[cup].sum() > 0.6 * cup_map.sum() and cup_map[cup].sum() > 10 * cup_map[cat].sum()  # seen: 0.83, 0.00


def test_a_wrong_checksum_is_refused(tmp_path):
    """Test whether weights whose sha256 does not start with the digits in their file name raise ValueError."""
    good = weights_path()
    assert verify_checksum(good).startswith(good.stem.rsplit("-", 1)[1])
    renamed = tmp_path / "efficientnet-lite0-00000000.pth"
    shutil.copyfile(good, renamed)
    with pytest.raises(ValueError, match="sha256"):
        load_photo_model(renamed)
    unnamed = tmp_path / "weights.pth"
    shutil.copyfile(good, unnamed)
    with pytest.raises(ValueError, match="sha256 prefix"):
        load_photo_model(unnamed)


def test_a_model_in_training_mode_is_refused(model):
    """Test whether classifying with dropout and batch-norm statistics switched on raises ValueError."""
    with pytest.raises(ValueError, match="eval"):
        top_predictions(EfficientNetLite0().train(), photo("coffee"))

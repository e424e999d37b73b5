"""The small fully connected network of the learning lessons (batch size, splitting the data): pictures in,
2×2 averaging, one hidden layer, one output per class."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


def to_inputs(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 → (N, 3, H, W) float32, centred on 0 (values in [-0.5, 0.5])."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected pictures shaped (N, H, W, 3), got {images.shape}")
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255).sub(0.5).contiguous()


def build_mlp(image_size: int, hidden: int, classes: int, seed: int) -> nn.Sequential:
    """Average each 2×2 block of pixels, one hidden layer of `hidden` ReLU neurons, `classes` outputs.
    PyTorch's default initialisation, drawn from its own generator so the global RNG plays no part."""
    side = image_size // 2
    network = nn.Sequential(
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * side * side, hidden),
        nn.ReLU(),
        nn.Linear(hidden, classes),
    )
    generator = torch.Generator().manual_seed(seed)
    for module in network.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(module.weight.shape[1])
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return network

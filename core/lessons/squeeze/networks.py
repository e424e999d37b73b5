"""The squeeze lesson's networks: one small CNN shape for the big network, its shrunk copies and the students,
how they are trained (through `core.fit`), saved, read back, measured on disk and timed.

A network here is `SqueezeCNN(channels)`: conv3×3 → batch norm → ReLU (→ max-pool) per entry of `channels`, then
average over the picture and classify — the shape of `core.models.SmallCNN`, with any number of filters per
layer (pruning leaves uneven counts) and the two "stubs" int8 quantisation needs (they do nothing in float).
"""

from __future__ import annotations

import io
import math
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import DeQuantStub, QuantStub

from core.fit import Batches, ProgressCallback, fit
from core.runtime import single_thread
from core.trust import rank_correlation  # noqa: F401 - the maps' similarity, as the trust checks compute it

# The loss of one batch: (logits (B, K), batch indices (B,)) -> mean loss.
BatchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class SqueezeCNN(nn.Module):
    """conv3×3 → batch norm → ReLU → max-pool per layer (the first conv steps two pixels, the last has no pool),
    average over the picture, one linear layer. Every ReLU and pool is its own module (Captum's hooks)."""

    def __init__(self, channels: tuple[int, ...], num_classes: int = 2) -> None:
        super().__init__()
        if not channels or min(channels) < 1:
            raise ValueError(f"every layer needs at least one filter, got {channels}")
        self.channels = tuple(int(count) for count in channels)
        layers: list[nn.Module] = []
        channels_in = 3
        for index, channels_out in enumerate(self.channels):
            layers += [
                nn.Conv2d(channels_in, channels_out, kernel_size=3, stride=2 if index == 0 else 1, padding=1, bias=False),
                nn.BatchNorm2d(channels_out),
                nn.ReLU(),
            ]
            if index < len(self.channels) - 1:
                layers.append(nn.MaxPool2d(2))
            channels_in = channels_out
        self.quant = QuantStub()  # float → int8 at the door of an int8 network; nothing in float
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels_in, num_classes)
        self.dequant = DeQuantStub()

    @property
    def last_conv_layer(self) -> nn.Module:
        return self.features[-1]

    def conv_blocks(self) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
        """Each layer's convolution and the batch norm after it."""
        modules = list(self.features)
        return [(modules[i], modules[i + 1]) for i, module in enumerate(modules) if isinstance(module, nn.Conv2d)]

    def fusable(self) -> list[list[str]]:
        """Names of each conv → batch norm → ReLU triple (int8 turns each into one step)."""
        names = [name for name, module in self.features.named_children() if isinstance(module, nn.Conv2d)]
        return [[f"features.{index}", f"features.{int(index) + 1}", f"features.{int(index) + 2}"] for index in names]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        inputs = self.quant(images - 0.5)  # (B, 3, H, W), centred; int8 from here on in an int8 network
        features = self.features(inputs)  # (B, C, h, w)
        return self.dequant(self.classifier(self.pool(features).flatten(1)))  # (B, num_classes) logits


def build_network(channels: tuple[int, ...], seed: int) -> SqueezeCNN:
    """A fresh network with PyTorch's default initialisation drawn from its own generator (not the global one)."""
    network = SqueezeCNN(channels)
    generator = torch.Generator().manual_seed(seed)
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                bound = 1 / math.sqrt(module.weight[0].numel())
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return network.to(memory_format=torch.channels_last)


def count_weights(network: nn.Module) -> int:
    """Numbers the network learns (its parameters)."""
    return sum(parameter.numel() for parameter in network.parameters())


# ------------------------------------------------------------------------------------------------ training
def train_network(
    network: nn.Module,
    inputs: torch.Tensor,
    batch_loss: BatchLoss,
    nudges: int,
    seed: int,
    *,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    stage: str = "Learning",
    on_progress: ProgressCallback | None = None,
    stage_index: int = 0,
    stages: int = 1,
) -> float:
    """Make `nudges` Adam nudges on `inputs` (N, 3, H, W), `batch_size` pictures each in a fresh order per pass
    drawn from `seed`, with a one-cycle learning rate; then recompute the batch-norm averages. `batch_loss(logits,
    batch)` says what is learned. Returns the seconds of the nudges. The network ends in eval mode."""
    network.train()
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    if nudges < 4:
        raise ValueError(f"need at least 4 nudges for a one-cycle learning rate, got {nudges}")
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=learning_rate, total_steps=nudges,
                                                   pct_start=max(0.25, 1.5 / nudges))  # ≥ 1 step of warm-up
    batches = Batches(len(inputs), min(batch_size, len(inputs)), torch.Generator().manual_seed(seed))
    with single_thread():  # many small operations (core.runtime)
        fitted = fit(lambda batch: batch_loss(network(inputs[batch]), batch), optimizer, batches, nudges,
                     schedule=schedule, on_progress=on_progress, report_every=max(1, nudges // 10), stage=stage,
                     stage_index=stage_index, stages=stages)
        recalibrate_batch_norm(network, inputs)
    return fitted.seconds


@torch.no_grad()
def recalibrate_batch_norm(network: nn.Module, inputs: torch.Tensor, batch_size: int = 128) -> None:
    """Batch-norm averages recomputed with the final weights (the running ones lag behind after a short training)."""
    norms = [module for module in network.modules() if isinstance(module, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the pass below
    network.train()
    for start in range(0, len(inputs), batch_size):
        network(inputs[start : start + batch_size])
    for norm in norms:
        norm.momentum = 0.1
    network.eval()


@torch.no_grad()
def logits_of(network: nn.Module, inputs: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """(N, K) logits of an eval-mode network."""
    if network.training:
        raise ValueError("put the network in eval mode first")
    return torch.cat([network(inputs[start : start + batch_size]) for start in range(0, len(inputs), batch_size)])


def accuracy(network: nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of pictures whose most likely class is the right one."""
    return float((logits_of(network, inputs).argmax(1) == labels).float().mean())


# --------------------------------------------------------------------------------------- files and the clock
def save_weights(network: nn.Module, path: Path) -> int:
    """Write the network's state_dict (tensors only: `torch.load(weights_only=True)` reads it) and return the
    file's size in bytes, measured on disk."""
    torch.save(network.state_dict(), path)
    return path.stat().st_size


def channels_of(state: dict[str, torch.Tensor]) -> tuple[int, ...]:
    """The filters per layer of a saved SqueezeCNN, from its convolutions' weight shapes."""
    convs = sorted((int(name.split(".")[1]), tensor) for name, tensor in state.items()
                   if name.startswith("features.") and name.endswith(".weight") and tensor.dim() == 4)
    if not convs:
        raise ValueError("these weights hold no convolution: not a squeeze-lesson network")
    return tuple(int(tensor.shape[0]) for _, tensor in convs)


def load_float(data: bytes) -> SqueezeCNN:
    """A float network read back from `save_weights`' bytes (weights only, never code), in eval mode."""
    state = torch.load(io.BytesIO(data), weights_only=True)
    network = SqueezeCNN(channels_of(state)).to(memory_format=torch.channels_last)
    network.load_state_dict(state)
    return network.eval()


@torch.no_grad()
def milliseconds_per_picture(network: nn.Module, inputs: torch.Tensor, batch: int, repeats: int) -> float:
    """Median milliseconds per picture of answering `batch` pictures at once, on one processor core."""
    chunk = inputs[:batch]
    with single_thread():
        network(chunk)  # warm-up
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            network(chunk)
            timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings) / len(chunk)


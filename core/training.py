"""Training a classifier on pictures (through the one loop, `core.fit`), with a reproducible result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
import numpy as np
import torch
from torch import nn

from core.fit import Batches, Progress, ProgressCallback, fit
from core.models import ModelConfig, SmallCNN, build_model


@dataclass(frozen=True)
class TrainConfig:
    """How to train: `epochs` passes over the pictures, nudging the weights after every `batch_size` of them."""

    epochs: int = 4
    batch_size: int = 64
    learning_rate: float = 0.01

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate}")


@dataclass
class TrainResult:
    """Trained weights (CPU tensors), the progress reports, and how long training took."""

    model_config: ModelConfig
    state_dict: dict[str, torch.Tensor]
    history: list[Progress] = field(default_factory=list)  # core.fit.Progress reports, a few per pass
    seconds: float = 0.0  # the whole training: preparing the pictures, the nudges, the batch-norm pass

    def model(self) -> SmallCNN:
        """A fresh network with these weights, in eval mode (safe to attribute on)."""
        model = SmallCNN(self.model_config).to(memory_format=torch.channels_last)
        model.load_state_dict(self.state_dict)
        return model.eval()


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 pictures → (N, 3, H, W) float32 in [0, 1], channels-last in memory."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected pictures shaped (N, H, W, 3), got {images.shape}")
    if not images.flags.writeable:  # e.g. np.asarray of a Pillow image; torch wants memory it may write
        images = images.copy()
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)  # (N, 3, H, W) uint8
    return tensor.float().div_(255).contiguous(memory_format=torch.channels_last)


def train(
    model_config: ModelConfig,
    train_config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    on_progress: ProgressCallback | None = None,
    reports_per_epoch: int = 5,
) -> TrainResult:
    """Train a fresh `SmallCNN` from `seed` with Adam and a one-cycle learning rate; the same seed and
    data give the same weights. `on_progress` is called a few times per epoch (and may raise to stop)."""
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need the same, non-zero number of pictures and labels, got {len(images)} and {len(labels)}")
    started = time.perf_counter()
    inputs = to_tensor(images)
    targets = torch.as_tensor(labels, dtype=torch.long)
    model = build_model(model_config, seed).train()
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-len(inputs) // train_config.batch_size)
    total_steps = steps_per_epoch * train_config.epochs
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.learning_rate)
    schedule = one_cycle(optimizer, train_config.learning_rate, total_steps)
    loss_function = nn.CrossEntropyLoss()
    report_every = max(1, steps_per_epoch // max(1, reports_per_epoch))
    history: list[Progress] = []

    def loss_of(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model(inputs[batch])  # (B, num_classes)
        return loss_function(logits, targets[batch]), logits

    def report(progress: Progress) -> None:
        history.append(progress)
        if on_progress is not None:
            on_progress(progress)

    # A fresh order of the pictures each pass, drawn from `generator`; the last batch of a pass may be short.
    batches = Batches(len(inputs), min(train_config.batch_size, len(inputs)), generator)
    fit(loss_of, optimizer, batches, total_steps, targets=targets, schedule=schedule, on_progress=report,
        report_every=report_every)
    recalibrate_batch_norm(model, inputs, train_config.batch_size)
    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    return TrainResult(model_config, state, history, time.perf_counter() - started)


def warm_up(model_config: ModelConfig, image_size: int = 64, batch_size: int = 64) -> float:
    """Train once on a few blank pictures so the CPU kernels for these shapes are prepared; the first
    training in a process is otherwise ~1.5 s slower. Returns the seconds it took."""
    started = time.perf_counter()
    count = batch_size + 16  # a full batch and a short last batch
    images = np.zeros((count, image_size, image_size, 3), dtype=np.uint8)
    labels = np.arange(count) % model_config.num_classes
    train(model_config, TrainConfig(epochs=1, batch_size=batch_size), images, labels, seed=0)
    return time.perf_counter() - started


def one_cycle(optimizer: torch.optim.Optimizer, learning_rate: float, total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """Warm up, then cool down the learning rate (Smith, https://arxiv.org/abs/1708.07120); a constant rate
    when there are too few steps for a cycle (OneCycleLR divides by zero below four)."""
    if total_steps < 4:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=learning_rate, total_steps=total_steps, pct_start=max(0.25, 1.5 / total_steps)
    )


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, inputs: torch.Tensor, batch_size: int) -> None:
    """Recompute batch-norm statistics with the final weights. The running averages kept during training
    lag behind the weights; after a short run they are far enough off to drop held-out accuracy to chance."""
    norms = [module for module in model.modules() if isinstance(module, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the pass below
    model.train()
    for start in range(0, len(inputs), batch_size):
        model(inputs[start : start + batch_size])
    for norm in norms:
        norm.momentum = 0.1
    model.eval()


@torch.no_grad()
def predict_proba(model: nn.Module, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (N, num_classes) for (N, H, W, 3) uint8 pictures; the model must be in eval mode."""
    if model.training:
        raise ValueError("put the model in eval mode before predicting (model.eval())")
    if len(images) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    chunks = [torch.softmax(model(to_tensor(images[i : i + batch_size])), dim=1) for i in range(0, len(images), batch_size)]
    return torch.cat(chunks).numpy()


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of pictures whose most likely class is the right one."""
    if len(labels) == 0:
        raise ValueError("accuracy of zero pictures is undefined")
    return float((probabilities.argmax(1) == labels).mean())

"""One verb, `explain`, over a registry of Captum attribution methods.

Every method answers the same question — "which pixels pushed the network towards `target`?" — and
returns one (N, H, W) map per picture, with the picture's own height and width.

Baselines: methods that compare the picture with "nothing there" (Integrated Gradients, GradientShap,
Occlusion) compare with a *plain* picture, never a black one: against black, every bright pixel looks important
(PITFALLS.md; Sturmfels et al., https://distill.pub/2020/attribution-baselines/). `explain`'s own default is
plain mid-grey (0.5 in every channel). The bunny lesson passes `average_colour_baseline(training pictures)`,
the average colour of what its network learned from (the README's "average colour, not black"); the photo
lesson keeps mid-grey for both networks it shows (for the ImageNet one it is its own zero input,
(127.5 − 127) / 128 ≈ 0).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from captum.attr import (
    GradientShap,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from torch import nn

from core.training import to_tensor

Target = int | Sequence[int] | torch.Tensor
# (model, inputs (N, 3, H, W), target (N,), baseline (1, 3, H, W), seed) -> (N, C, H', W') attributions
Attribute = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor, int], torch.Tensor]


@dataclass(frozen=True)
class Method:
    """An attribution method: its plain-language name, what its map means, and how to compute it."""

    key: str
    name: str
    summary: str
    signed: bool  # True when the map separates "pushed towards" (positive) from "pushed away" (negative)
    paper: str
    attribute: Attribute


def _batch(inputs: torch.Tensor, per_64x64: int) -> int:
    """How many pictures to push through at once: `per_64x64` for bunny-world scenes, proportionally fewer
    for bigger pictures, so memory stays bounded (PITFALLS: IG on a 224×224 photo model in batches of 16
    peaked near 1.9 GB)."""
    return max(1, per_64x64 * 64 * 64 // (inputs.shape[-1] * inputs.shape[-2]))


def _integrated_gradients(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
    return IntegratedGradients(model).attribute(
        inputs, baselines=baseline, target=target, n_steps=32, internal_batch_size=_batch(inputs, 64)
    )


# Captum draws SmoothGrad's noise and GradientShap's samples from the process-wide torch and NumPy
# generators; this lock keeps another session's thread from reseeding them halfway through.
global_random = threading.Lock()


def _smoothgrad(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
    with global_random, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NoiseTunnel(Saliency(model)).attribute(
            inputs, nt_type="smoothgrad", nt_samples=16, nt_samples_batch_size=min(16, _batch(inputs, 64)),
            stdevs=0.1, target=target,
        )


def _gradient_shap(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
    # Baselines: the average-colour picture, a little brighter and darker, so the expectation
    # is over "plain pictures" rather than one arbitrary reference.
    brightness = torch.linspace(0.6, 1.4, 8).view(-1, 1, 1, 1)
    baselines = (baseline * brightness).clamp(0, 1)  # (8, 3, H, W)
    # Captum draws the path points from torch's and the baselines from NumPy's global generators.
    with global_random:
        numpy_state = np.random.get_state()
        try:
            np.random.seed(seed)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                # GradientShap has no internal batching (captum#1350): fewer samples for big pictures.
                samples = 16 if _batch(inputs, 64) >= 16 else 8
                return GradientShap(model).attribute(inputs, baselines=baselines, target=target, n_samples=samples,
                                                     stdevs=0.05)
        finally:
            np.random.set_state(numpy_state)


def _grad_cam(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
    layer = getattr(model, "last_conv_layer", None)
    if layer is None:
        raise ValueError("Grad-CAM needs a model with a `last_conv_layer` attribute")
    cam = LayerGradCam(model, layer).attribute(inputs, target=target, relu_attributions=True)  # (N, 1, h, w)
    return LayerAttribution.interpolate(cam, tuple(inputs.shape[-2:]), interpolate_mode="bilinear")


def _occlusion(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
    size = inputs.shape[-1]
    if size <= 128:  # bunny-world scenes: 16×16-pixel windows, overlapping by half. Grass is spread over half
        # the picture: an 8×8 window of it is redundant with the grass around it and showed almost no effect, so
        # 8×8 Occlusion ranked networks by their real reliance on grass at 0.72 (Spearman, `netlens truth`), 16×16 at 0.86.
        window, stride = max(4, size // 4), max(2, size // 8)
    else:  # photos: a 7×7 grid of patches, 49 forward passes instead of 225 (one 224² pass is ~40 ms here)
        window = stride = size // 7
    return Occlusion(model).attribute(
        inputs,
        sliding_window_shapes=(3, window, window),
        strides=(3, stride, stride),
        baselines=baseline,
        target=target,
        perturbations_per_eval=_batch(inputs, 64),
    )


def _saliency(model, inputs, target, baseline, seed):  # type: ignore[no-untyped-def]
    # Saliency is the one method that wants its input to require gradients already (else it warns).
    if len(inputs) == 1:
        # One picture alone: torch 2.13's max-pool backward on a channels-last batch of one sent gradients to the
        # wrong places (maps off by up to 18 % of their peak against the same picture in a batch, or in the
        # standard layout). A batch of two copies takes the correct path; the first copy's map is the answer.
        doubled = inputs.detach().expand(2, *inputs.shape[1:]).contiguous(memory_format=torch.channels_last)
        return Saliency(model).attribute(doubled.requires_grad_(), target=target.expand(2), abs=True)[:1]
    return Saliency(model).attribute(inputs.detach().requires_grad_(), target=target, abs=True)


METHODS: dict[str, Method] = {
    method.key: method
    for method in (
        Method("ig", "Integrated Gradients", "fades the picture in from plain colour and adds up what each pixel contributed",
               True, "https://arxiv.org/abs/1703.01365", _integrated_gradients),
        Method("gradcam", "Grad-CAM", "which regions the network's last picture-shaped layer found useful (coarse blobs)",
               False, "https://arxiv.org/abs/1610.02391", _grad_cam),
        Method("occlusion", "Occlusion", "covers one patch at a time with plain colour and measures how much the answer drops",
               True, "https://arxiv.org/abs/1311.2901", _occlusion),
        Method("smoothgrad", "SmoothGrad", "how sensitive the answer is to each pixel, averaged over noisy copies of the picture",
               False, "https://arxiv.org/abs/1706.03825", _smoothgrad),
        Method("gradientshap", "GradientShap", "Integrated Gradients averaged over several plain pictures and random points on the way",
               True, "https://arxiv.org/abs/1705.07874", _gradient_shap),
        Method("saliency", "Saliency", "how much a tiny change of each pixel would change the answer",
               False, "https://arxiv.org/abs/1312.6034", _saliency),
    )
}

_locks: "weakref.WeakKeyDictionary[nn.Module, threading.Lock]" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def model_lock(model: nn.Module) -> threading.Lock:
    """The lock to hold while attributing on `model`: Captum's hooks fire for every forward pass in any thread."""
    with _locks_guard:
        return _locks.setdefault(model, threading.Lock())


def average_colour_baseline(images: np.ndarray) -> torch.Tensor:
    """A plain picture (1, 3, H, W) of the mean colour of `images` (N, H, W, 3) uint8."""
    colour = torch.as_tensor(images.reshape(-1, 3).mean(0) / 255.0, dtype=torch.float32)  # (3,)
    return colour.view(1, 3, 1, 1).expand(1, 3, images.shape[1], images.shape[2]).contiguous()


class LogOdds(nn.Module):
    """Wraps a classifier so its outputs are log-odds, log(p / (1 - p)) per class: a class's log-odds rise
    only when it gains on the others, whereas a raw logit can rise for all classes at once and credit pixels
    that change nothing about the answer. Computed as z_k - logsumexp(z_j, j != k), which stays exact (and
    keeps its gradient) however sure the network is; via softmax it would round to a constant above ~17."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.last_conv_layer = getattr(model, "last_conv_layer", None)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        logits = self.model(inputs)  # (N, K)
        classes = logits.shape[1]
        others = logits.unsqueeze(1).expand(-1, classes, classes)  # (N, K, K): row k lists every class
        own = torch.eye(classes, dtype=torch.bool, device=logits.device)
        return logits - torch.logsumexp(others.masked_fill(own, float("-inf")), dim=2)  # (N, K)


def _targets(target: Target, count: int) -> torch.Tensor:
    targets = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if targets.numel() == 1:
        targets = targets.expand(count)
    if targets.numel() != count:
        raise ValueError(f"got {targets.numel()} targets for {count} pictures")
    return targets


def explain(
    model: nn.Module,
    images: np.ndarray,
    target: Target,
    method: str,
    baseline: torch.Tensor | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Attribution maps (N, H, W) float32 for `images` (N, H, W, 3) uint8 towards the log-odds of `target`,
    summed over colour channels. `baseline` (1, 3, H, W) in [0, 1] is used by Integrated Gradients,
    GradientShap and Occlusion; it defaults to plain mid-grey (0.5), not black. Pass
    `average_colour_baseline(training_pictures)` for the average colour of what the network learned from.
    Each picture's map depends only on that picture, never on which others share its batch."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if model.training:
        raise ValueError("attribute on a model in eval mode (model.eval()); batch norm in training mode gives wrong maps")
    inputs = to_tensor(images)  # (N, 3, H, W) in [0, 1]
    targets = _targets(target, len(inputs))
    reference = torch.full((1, *inputs.shape[1:]), 0.5) if baseline is None else baseline
    with model_lock(model):
        attributions = METHODS[method].attribute(LogOdds(model), inputs, targets, reference, seed)
    return attributions.detach().sum(dim=1).numpy().astype(np.float32)  # (N, H, W)

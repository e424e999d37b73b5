"""Int8 quantisation of a squeeze-lesson network: the one module that touches `torch.ao.quantization`.

API: eager-mode *static* quantisation (`fuse_modules` → `prepare` with the x86 qconfig → calibrate on a few
training pictures → `convert`). Measured on torch 2.13 CPU (PITFALLS.md): it shrinks a small CNN's file ~3× and
runs it faster on a batch; `quantize_dynamic` quantises only `nn.Linear` (our convolutions would silently stay
float); PT2E lives in the separate torchao package and was slower than float here without `torch.compile`; FX
works too but needs a traceable model for no gain on a network this plain. Eager static is the API that
actually shrinks convolutions with nothing but torch installed.

torch 2.13 marks all of `torch.ao.quantization` deprecated and warns on every use (DeprecationWarning at
`convert`, UserWarnings from its observers, from quantised-tensor creation and from reading quantised weights
back). Those warnings concern us, not the learner: every call below runs inside `_quiet()`, so none reaches the
page, the command line or the test log.
"""

from __future__ import annotations

import copy
import io
import warnings
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from core.lessons.squeeze.networks import SqueezeCNN, channels_of

ENGINE = "x86"  # the qconfig and kernels for this CPU (AVX2); "qnnpack" would be the one for ARM phones


@contextmanager
def _quiet() -> Iterator[None]:
    """Within this block, the quantisation API's deprecation and advice warnings are not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _prepared(network: SqueezeCNN) -> nn.Module:
    """An eval-mode copy of `network` with each conv → batch norm → ReLU fused into one step and observers in
    place (what `convert` needs)."""
    from torch.ao.quantization import fuse_modules, get_default_qconfig, prepare

    model = copy.deepcopy(network).eval()
    fuse_modules(model, model.fusable(), inplace=True)
    model.qconfig = get_default_qconfig(ENGINE)
    prepare(model, inplace=True)
    return model


@torch.no_grad()
def quantise(network: SqueezeCNN, calibration: torch.Tensor, batch_size: int = 128) -> nn.Module:
    """An int8 copy of `network` (float, eval mode, unchanged): weights stored as 8-bit integers per filter,
    activations as 8-bit integers whose ranges are measured on `calibration` (N, 3, H, W) pictures."""
    if len(calibration) == 0:
        raise ValueError("int8 needs a few calibration pictures to measure the ranges of the activations")
    with _quiet():
        from torch.ao.quantization import convert

        torch.backends.quantized.engine = ENGINE
        model = _prepared(network)
        for start in range(0, len(calibration), batch_size):  # the observers record each activation's range
            model(calibration[start : start + batch_size])
        convert(model, inplace=True)  # floats → 8-bit integers with one scale per filter
    return model.eval()


def save_int8(model: nn.Module, path) -> int:  # type: ignore[no-untyped-def]
    """Write an int8 network's state_dict (tensors only) and return the file's size in bytes."""
    with _quiet():
        torch.save(model.state_dict(), path)
    return path.stat().st_size


def load_int8(data: bytes) -> nn.Module:
    """An int8 network read back from `save_int8`'s bytes with `torch.load(weights_only=True)`: the float shape
    is built, fused and converted empty, then given the saved integers."""
    with _quiet():
        state = torch.load(io.BytesIO(data), weights_only=True)
        channels = channels_of(state)
        from torch.ao.quantization import convert

        model = _prepared(SqueezeCNN(channels).to(memory_format=torch.channels_last))
        convert(model, inplace=True)
        model.load_state_dict(state)
    return model.eval()


@torch.no_grad()
def run_int8(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """(N, K) logits of an int8 network (quietly: quantised kernels may warn on first use)."""
    with _quiet():
        return model(inputs)

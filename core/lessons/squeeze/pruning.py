"""Structured pruning with PyTorch's own tool (`torch.nn.utils.prune`), finished by really removing the filters.

Zeros alone shrink nothing: a pruned weight is still stored and still multiplied (PITFALLS.md), and while the
masks are on, the saved file holds every weight *twice* (`weight_orig` and `weight_mask`). So:

1. `mask_filters`: in each layer, `prune.ln_structured` picks the filters with the smallest L1 norm (Li et al.,
   https://arxiv.org/abs/1608.08710) and masks them; the same mask goes on the batch norm after it, so a masked
   filter's output is exactly zero.
2. Fine-tune *with the masks on* (they are re-applied at every forward pass, so the zeros stay zeros; after
   `prune.remove` they would grow back).
3. `thinned`: a physically thinner network — the kept filters, and only the matching input channels of the next
   layer — which answers exactly as the masked one does, with a smaller file and less work.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import prune

from core.lessons.squeeze.networks import SqueezeCNN


def mask_filters(network: SqueezeCNN, share: float) -> SqueezeCNN:
    """A copy of `network` with `share` of each layer's filters masked to zero (at least one kept per layer)."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"the share of filters to remove must be between 0 and 1, got {share}")
    masked = copy.deepcopy(network)
    for conv, norm in masked.conv_blocks():
        amount = min(round(share * conv.out_channels), conv.out_channels - 1)
        prune.ln_structured(conv, "weight", amount=amount, n=1, dim=0)  # masks whole filters (dim 0)
        kept = conv.weight_mask.flatten(1).amax(1)  # (C,) 1 for a kept filter, 0 for a removed one
        prune.custom_from_mask(norm, "weight", kept)
        prune.custom_from_mask(norm, "bias", kept)
    return masked


def kept_filters(masked: SqueezeCNN) -> list[torch.Tensor]:
    """Per layer, the indices of the filters the masks keep."""
    if not all(hasattr(conv, "weight_mask") for conv, _ in masked.conv_blocks()):
        raise ValueError("this network has no pruning masks (use mask_filters first)")
    return [torch.nonzero(conv.weight_mask.flatten(1).amax(1)).flatten() for conv, _ in masked.conv_blocks()]


@torch.no_grad()
def thinned(masked: SqueezeCNN) -> SqueezeCNN:
    """The physically thinner network the masks describe (eval mode): removed filters, their batch-norm entries
    and the next layer's matching input channels are gone. `masked` is not changed."""
    keep = kept_filters(masked)
    thin = SqueezeCNN(tuple(len(indices) for indices in keep), masked.classifier.out_features)
    previous = torch.arange(3)  # the picture's colour channels
    for (old_conv, old_norm), (new_conv, new_norm), indices in zip(masked.conv_blocks(), thin.conv_blocks(), keep):
        new_conv.weight.copy_(_masked(old_conv, "weight")[indices][:, previous])
        new_norm.weight.copy_(_masked(old_norm, "weight")[indices])
        new_norm.bias.copy_(_masked(old_norm, "bias")[indices])
        new_norm.running_mean.copy_(old_norm.running_mean[indices])
        new_norm.running_var.copy_(old_norm.running_var[indices])
        new_norm.num_batches_tracked.copy_(old_norm.num_batches_tracked)
        previous = indices
    thin.classifier.weight.copy_(masked.classifier.weight[:, previous])
    thin.classifier.bias.copy_(masked.classifier.bias)
    return thin.to(memory_format=torch.channels_last).eval()


def _masked(module: nn.Module, name: str) -> torch.Tensor:
    """A pruned parameter as the forward pass sees it: the original times its mask (what `prune.remove` keeps)."""
    return getattr(module, f"{name}_orig") * getattr(module, f"{name}_mask")

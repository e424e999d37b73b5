"""Process-wide torch settings, chosen deliberately because several browser sessions share one server."""

from __future__ import annotations

import os

import torch

DEFAULT_THREADS = 2


def configure_torch(threads: int | None = None) -> int:
    """Set torch's intra-op thread count (NETLENS_THREADS or 2 unless given) and return it."""
    count = threads if threads is not None else int(os.environ.get("NETLENS_THREADS", DEFAULT_THREADS))
    if count < 1:
        raise ValueError(f"thread count must be at least 1, got {count}")
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count

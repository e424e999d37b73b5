"""Independent random streams from one seed, one per purpose (pictures, weights, order, …)."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> int:
    """A seed for purpose `name`, independent of every other name's: changing one set's size or one setting
    never changes another set's pictures. Deterministic across runs and machines (crc32, not `hash`)."""
    return int(np.random.SeedSequence([seed, zlib.crc32(name.encode())]).generate_state(1)[0])

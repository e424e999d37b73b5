"""Waiting in tests for something another thread does, with a bound (a hang fails instead of blocking CI)."""

from __future__ import annotations

import time
from typing import Callable

TIMEOUT = 10.0  # seconds any one wait in these tests may take before it counts as a hang


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(0.002)

"""`netlens bench`: the performance figures of DESIGN.md's budget list, measured here — each lesson's own
figures (its `bench`), generated from the syllabus."""

from __future__ import annotations

import platform
import statistics
import time
from typing import Callable, Sequence

import torch


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of `repeats` calls of `action`, after one warm-up call."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    action()  # warm-up
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run_benchmarks(repeats: int = 5, only: Sequence[str] | None = None) -> dict:
    """The machine, then every lesson's benchmark figures in syllabus order (or only the lessons in `only`)."""
    from core.lessons import LESSONS, lesson

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    chosen = [lesson(lesson_id) for lesson_id in only] if only else list(LESSONS.values())
    result: dict = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"}
    for entry in chosen:
        if entry.bench is not None:
            result.update(entry.bench(repeats))
    return result

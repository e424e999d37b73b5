"""Preparing a lesson for a class: every setting its controls can reach, at one seed, computed into the server's
cache (memory and disk), so the class's links are answered from it instead of training thirty times.

Used by `netlens prepare <lesson>` (into the on-disk cache a server started later reads) and by the page's
"Prepare this lesson for a class" (into the running server's own stores). Nothing here touches Streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from core.fit import Progress, ProgressCallback
from core.lesson import Entry, Lesson
from core.store import Cache


@dataclass(frozen=True)
class Prepared:
    lesson: str
    seed: int
    settings: int  # reachable settings
    made: int  # results computed now
    found: int  # results already in the cache
    seconds: float


def missing(lesson: Lesson, seed: int, cache: Cache) -> tuple[int, int]:
    """(settings whose results are not all in the cache yet, all reachable settings) — what is left to do."""
    chains = _chains(lesson, seed)
    todo = sum(not all(cache.store(lesson.id, entry.kind).contains(entry.key) for entry in chain) for chain in chains)
    return todo, len(chains)


def prepare(lesson: Lesson, seed: int, cache: Cache, on_progress: ProgressCallback | None = None,
            limit: int | None = None, on_estimate: Callable[[float], None] | None = None) -> Prepared:
    """Compute every reachable setting's results (the first `limit` only, if given) into `cache`, each through its
    store (a training waits its turn in the cache's one queue, like a page's). `on_progress` hears one stage per
    setting (and may raise to stop: what is done stays done); `on_estimate(seconds left)` after each setting that
    had to be computed, from the average so far."""
    started = time.perf_counter()
    chains = _chains(lesson, seed)[:limit]
    made = found = computed_chains = 0
    for index, chain in enumerate(chains):
        values, made_here = [], False
        for entry in chain:
            store = cache.store(lesson.id, entry.kind)
            value = store.get(entry.key)
            if value is None:
                stage = _stage(on_progress, index, len(chains))
                value = store.get_or_compute(entry.key, lambda entry=entry, stage=stage: entry.make(stage, values))
                made, made_here = made + 1, True
            else:
                found += 1
            values.append(value)
        if made_here:
            computed_chains += 1
            if on_estimate is not None:
                per_setting = (time.perf_counter() - started) / computed_chains
                on_estimate(per_setting * (len(chains) - index - 1))
        if on_progress is not None:
            on_progress(Progress(index + 1, len(chains), stage=f"Prepared {index + 1} of {len(chains)} settings",
                                 unit="settings"))
    return Prepared(lesson.id, seed, len(chains), made, found, time.perf_counter() - started)


def _chains(lesson: Lesson, seed: int) -> list[list[Entry]]:
    if lesson.prepare is None:
        raise ValueError(f"lesson {lesson.id!r} cannot be prepared yet: its page computes on demand only")
    return lesson.prepare(seed)


def _stage(on_progress: ProgressCallback | None, index: int, total: int) -> ProgressCallback | None:
    """One setting's reports as stage `index` of `total` (so the bar runs once over the whole preparation)."""
    if on_progress is None:
        return None
    return lambda progress: on_progress(Progress(progress.step, progress.total_steps, stage=f"Setting {index + 1} of "
                                                 f"{total}: {progress.stage}", unit=progress.unit,
                                                 stage_index=index, stages=total))

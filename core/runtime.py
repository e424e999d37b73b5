"""Process-wide torch settings, chosen deliberately because several browser sessions share one server."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import torch

DEFAULT_THREADS = 2
# The environment a NetLens server process starts with. glibc gives every thread that allocates its own memory
# arena; with thirty sessions' threads the server's resident memory peaked at 2.6 GB and stayed high, with two
# arenas at 1.8 GB (`netlens load --scenario mixed --students 30`, issue 9). Read by glibc at start only.
SERVER_ENV: dict[str, str] = {"MALLOC_ARENA_MAX": "2"}


def configure_torch(threads: int | None = None) -> int:
    """Set torch's intra-op thread count (NETLENS_THREADS or 2 unless given) and return it."""
    count = threads if threads is not None else int(os.environ.get("NETLENS_THREADS", DEFAULT_THREADS))
    if count < 1:
        raise ValueError(f"thread count must be at least 1, got {count}")
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


@contextmanager
def single_thread() -> Iterator[None]:
    """Within this block, torch computes on one thread for the calling Python thread. For work made of thousands
    of tiny operations: with two threads each operation waits for the second core, and when another session keeps
    that core busy a 3×144 by 144×200 product took 16 ms instead of 0.02 ms (measured on this 2-core CPU).
    torch's (OpenMP) thread count belongs to each Python thread — every page run sets its own with
    `configure_torch` — so each block sets and restores its own thread's count, and two sessions inside such
    blocks at once both compute on one thread."""
    saved = torch.get_num_threads()
    if saved != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != saved:
            torch.set_num_threads(saved)


# One picture per nudge means thousands of tiny PyTorch calls, and each one releases Python's GIL. When another
# thread of the same process is busy (a web server's event loop serving other sessions, a file watcher), every
# call can then wait up to the interpreter's switch interval (5 ms) to get the GIL back: measured on this 2-core
# CPU, a comparison that takes 0.3 s alone took 40 s beside a busy thread, and 0.75 s with a 0.1 ms interval.
# So training runs with short slices; the process's own interval comes back when the last training ends.
SWITCH_INTERVAL = 0.0001
_slices_lock = threading.Lock()
_slices_users = 0
_saved_interval = 0.0


@contextmanager
def short_gil_slices(interval: float = SWITCH_INTERVAL) -> Iterator[None]:
    """Within this block (in any thread), Python switches threads every `interval` seconds at most."""
    global _slices_users, _saved_interval
    with _slices_lock:
        if _slices_users == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, _saved_interval))
        _slices_users += 1
    try:
        yield
    finally:
        with _slices_lock:
            _slices_users -= 1
            if _slices_users == 0:
                sys.setswitchinterval(_saved_interval)


def release_memory() -> None:
    """Give the memory freed by a finished computation back to the system (glibc keeps freed blocks in its arenas:
    after thirty trainings the server's resident memory stayed above 2 GB once everyone had left). Does nothing
    where the C library has no malloc_trim."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass

"""Results shared by every browser session of one server, and the one queue all trainings wait in.

Results are computed *outside* any Streamlit cache function (so progress callbacks can touch the page), then
kept in a `ResultStore` keyed by their frozen settings. Two sessions asking for the same key at once compute it
once: the second waits for the first. A computation that raises (an error, or a page rerun interrupting it)
stores nothing. Stores are bounded by bytes as well as by items, and kept per lesson and per kind
(`Cache.store(lesson, kind)`), so cheap, numerous items never push out an expensive training.

Every training of every lesson goes through the server's one `TrainingQueue`: on a 2-core CPU two trainings
side by side each take more than twice as long, so trainings run one at a time (first come, first served), and
a session that waits is told its place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import threading
from collections import OrderedDict, deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Hashable, Iterator, TypeVar

import numpy as np
import torch

T = TypeVar("T")
WaitCallback = Callable[[int], None]  # (place in the queue: 1 = next); may raise to leave the queue


class QueueFull(RuntimeError):
    """The training queue already holds as many waiting sessions as it allows."""


def size_of(value: object, _seen: set[int] | None = None) -> int:
    """Bytes held by `value`: arrays and tensors by their data, containers and dataclasses by their contents."""
    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, torch.Tensor):
        return int(value.element_size() * value.nelement())
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_of(k, seen) + size_of(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(size_of(item, seen) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(size_of(getattr(value, f.name), seen) for f in dataclasses.fields(value)) \
            + sum(size_of(v, seen) for v in getattr(value, "__dict__", {}).values())  # cached properties
    if isinstance(value, torch.nn.Module):
        return sum(size_of(tensor, seen) for tensor in value.state_dict().values())
    return sys.getsizeof(value)


class TrainingQueue:
    """At most `slots` computations at once; the others wait in arrival order (at most `max_waiting`)."""

    def __init__(self, slots: int = 1, max_waiting: int = 64, poll_seconds: float = 0.5) -> None:
        if slots < 1 or max_waiting < 0 or poll_seconds <= 0:
            raise ValueError(f"need slots ≥ 1, max_waiting ≥ 0 and poll_seconds > 0, got {slots}, {max_waiting}, "
                             f"{poll_seconds}")
        self.slots, self.max_waiting, self.poll_seconds = slots, max_waiting, poll_seconds
        self._condition = threading.Condition()
        self._waiting: deque[object] = deque()
        self._running = 0

    @property
    def running(self) -> int:
        with self._condition:
            return self._running

    @property
    def waiting(self) -> int:
        with self._condition:
            return len(self._waiting)

    @contextmanager
    def slot(self, on_wait: WaitCallback | None = None) -> Iterator[None]:
        """Hold one computing slot for the block. While waiting, `on_wait(place)` is called about every
        `poll_seconds` (place 1 = next); if it raises, the session leaves the queue and nobody waits for it."""
        ticket = object()
        with self._condition:
            if self._running >= self.slots and len(self._waiting) >= self.max_waiting:
                raise QueueFull(f"the server is busy: {len(self._waiting)} trainings are already waiting")
            self._waiting.append(ticket)
        try:
            while True:
                with self._condition:
                    if self._running < self.slots and self._waiting[0] is ticket:
                        self._waiting.popleft()
                        self._running += 1
                        break
                    place = self._waiting.index(ticket) + 1
                    self._condition.wait(self.poll_seconds)
                if on_wait is not None:
                    on_wait(place)
        except BaseException:
            with self._condition:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._condition.notify_all()
            raise
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()


class ResultStore:
    """A thread-safe least-recently-used map from hashable keys to results, bounded by items and by bytes."""

    def __init__(self, max_items: int = 32, max_bytes: int | None = None, queue: TrainingQueue | None = None) -> None:
        if max_items < 1 or (max_bytes is not None and max_bytes < 1):
            raise ValueError(f"max_items and max_bytes must be at least 1, got {max_items} and {max_bytes}")
        self.max_items, self.max_bytes, self.queue = max_items, max_bytes, queue
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: Hashable, value: object) -> None:
        """Keep `value`, pushing out the least recently used items while over a bound (never the new one: an
        item bigger than the whole byte bound is still kept, alone, so the session that made it can use it)."""
        size = size_of(value)
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > 1 and (len(self._items) > self.max_items or
                                            (self.max_bytes is not None and self._bytes > self.max_bytes)):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def is_busy(self, key: Hashable) -> bool:
        """True while some session is computing `key`."""
        with self._lock:
            lock = self._key_locks.get(key)
        return lock is not None and lock.locked()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T], on_wait: WaitCallback | None = None) -> T:
        """The stored result for `key`, computing and storing it first if needed (in the store's training
        queue, if it has one; `on_wait(place)` reports the place while waiting there)."""
        found = self.get(key)
        if found is not None:
            return found  # type: ignore[return-value]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found = self.get(key)  # another session may have finished it while we waited
            if found is not None:
                return found  # type: ignore[return-value]
            if self.queue is None:
                value = compute()
            else:
                with self.queue.slot(on_wait):
                    value = compute()
            self.put(key, value)
        with self._lock:  # waiters already hold the lock object; new callers will find the value
            if self._key_locks.get(key) is key_lock and not key_lock.locked():
                del self._key_locks[key]
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


MB = 1 << 20
# Bytes kept per lesson and kind. "training" entries go through the training queue.
KINDS: dict[str, tuple[int, int]] = {  # kind → (max items, max bytes)
    "pictures": (8, 400 * MB),
    "training": (64, 200 * MB),
    "results": (256, 100 * MB),
    "maps": (512, 50 * MB),
}


class Cache:
    """One server's stores: one per (lesson, kind), created on first use, all trainings in one queue."""

    def __init__(self, queue: TrainingQueue | None = None, kinds: dict[str, tuple[int, int]] | None = None) -> None:
        self.queue = queue or TrainingQueue(slots=1)
        self.kinds = dict(KINDS if kinds is None else kinds)
        self._stores: dict[tuple[str, str], ResultStore] = {}
        self._lock = threading.Lock()

    def store(self, lesson: str, kind: str) -> ResultStore:
        if kind not in self.kinds:
            raise ValueError(f"unknown kind of result {kind!r}; choose one of {', '.join(self.kinds)}")
        with self._lock:
            found = self._stores.get((lesson, kind))
            if found is None:
                max_items, max_bytes = self.kinds[kind]
                found = self._stores[(lesson, kind)] = ResultStore(
                    max_items, max_bytes, queue=self.queue if kind == "training" else None)
            return found


def code_version(root: Path | None = None) -> str:
    """Changes whenever any file of the library (core/, subpackages included) changes, so a server that keeps
    running across an update starts fresh stores instead of mixing results (and classes) of old and new code."""
    core = root if root is not None else Path(__file__).resolve().parent
    stamps = sorted((str(path.relative_to(core)), path.stat().st_mtime_ns, path.stat().st_size)
                    for path in core.rglob("*.py"))
    return hashlib.sha1(repr(stamps).encode()).hexdigest()

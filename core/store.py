"""A process-wide store of finished results, shared by all browser sessions of one server.

Results are computed *outside* any Streamlit cache function (so progress callbacks can touch the page),
then kept here keyed by their frozen config. Two sessions asking for the same key at once compute it once:
the second waits for the first. A computation that raises (an error, or a page rerun interrupting it)
stores nothing. A store can allow at most `max_parallel` computations at once: on a 2-core CPU two
trainings side by side each take more than twice as long, so a queue finishes the first learner sooner and
the last no later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class ResultStore:
    """A thread-safe least-recently-used map from hashable keys to results."""

    def __init__(self, max_items: int = 32, max_parallel: int | None = None) -> None:
        if max_items < 1 or (max_parallel is not None and max_parallel < 1):
            raise ValueError(f"max_items and max_parallel must be at least 1, got {max_items} and {max_parallel}")
        self.max_items = max_items
        self.max_parallel = max_parallel
        self._slots = threading.BoundedSemaphore(max_parallel) if max_parallel else None
        self._running = 0
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def is_full(self) -> bool:
        """True while every computing slot is taken (a new computation would queue)."""
        with self._lock:
            return self.max_parallel is not None and self._running >= self.max_parallel

    def is_busy(self, key: Hashable) -> bool:
        """True while some session is computing `key`."""
        with self._lock:
            lock = self._key_locks.get(key)
        return lock is not None and lock.locked()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The stored result for `key`, computing and storing it first if needed."""
        found = self.get(key)
        if found is not None:
            return found  # type: ignore[return-value]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found = self.get(key)  # another session may have finished it while we waited
            if found is not None:
                return found  # type: ignore[return-value]
            if self._slots is not None:
                self._slots.acquire()
            with self._lock:
                self._running += 1
            try:
                value = compute()
            finally:
                with self._lock:
                    self._running -= 1
                if self._slots is not None:
                    self._slots.release()
            self.put(key, value)
        with self._lock:  # waiters already hold the lock object; new callers will find the value
            if self._key_locks.get(key) is key_lock and not key_lock.locked():
                del self._key_locks[key]
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

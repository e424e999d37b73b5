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

from core.diskcache import PersistentStore
from core.runtime import release_memory

T = TypeVar("T")
WaitCallback = Callable[[int], None]  # (place in the queue: 1 = next); may raise to leave the queue


class QueueFull(RuntimeError):
    """The training queue already holds as many waiting sessions as it allows."""


class Abandoned(BaseException):
    """Nobody waits for this computation any more: it stops at its next progress report (or queue poll) and
    stores nothing. A BaseException, like Streamlit's own stop, so that a page's `except Exception` does not
    report it to a session that has gone."""


Alive = Callable[[], bool]  # is the session that asked still there?
Relay = Callable[[object, "int | None"], None]  # (latest progress report or None, place in the queue or None)


class SharedJob:
    """One computation of one key in its own thread, shared by every session that asks for that key while it
    runs. It goes on while at least one of them is still there (`wanted`), and stops at its next progress report
    once none is: the sessions' own threads only wait and relay its progress, so a session that leaves (or
    reruns) never kills work another session waits for."""

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.progress: object | None = None
        self.place: int | None = None  # place in the training queue while waiting there (1 = next)
        self.value: object | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread: threading.Thread | None = None
        self._interest: dict[object, Alive] = {}
        self._lock = threading.Lock()

    def join(self, alive: Alive) -> object:
        token = object()
        with self._lock:
            self._interest[token] = alive
        return token

    def leave(self, token: object) -> None:
        with self._lock:
            self._interest.pop(token, None)

    @property
    def wanted(self) -> bool:
        """True while some session that asked for this result still waits for it."""
        with self._lock:
            waiting = list(self._interest.values())
        return any(alive() for alive in waiting)

    def report(self, progress: object) -> None:
        """The computation's progress callback: keeps the latest report for the waiting sessions, and stops the
        computation (raises Abandoned) when nobody waits any more."""
        self.progress = progress
        if not self.wanted:
            raise Abandoned(f"nobody waits for {self.key!r} any more")


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


class Budget:
    """Bytes shared by several stores (every lesson's store of one kind): a store over it pushes out its own least
    recently used items, so that ten lessons' pictures together stay within one bound."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a budget needs at least 1 byte, got {limit}")
        self.limit, self.used = limit, 0
        self._lock = threading.Lock()
        self._stores: list[ResultStore] = []

    def join(self, store: ResultStore) -> None:
        with self._lock:
            self._stores.append(store)

    def shrink(self, keep: ResultStore) -> None:
        """While over the limit, drop the oldest item of the store holding the most bytes (never `keep`'s newest
        item, which a session is about to use). Called with no store's lock held."""
        while self.over:
            with self._lock:
                stores = sorted(self._stores, key=lambda store: store.bytes, reverse=True)
            if not any(store.drop_oldest(spare_newest=store is keep) for store in stores):
                return  # nothing left that may go

    def add(self, size: int) -> None:
        with self._lock:
            self.used += size

    @property
    def over(self) -> bool:
        with self._lock:
            return self.used > self.limit


class ResultStore:
    """A thread-safe least-recently-used map from hashable keys to results, bounded by items and by bytes."""

    def __init__(self, max_items: int = 32, max_bytes: int | None = None, queue: TrainingQueue | None = None,
                 persistent: PersistentStore | None = None, budget: Budget | None = None) -> None:
        if max_items < 1 or (max_bytes is not None and max_bytes < 1):
            raise ValueError(f"max_items and max_bytes must be at least 1, got {max_items} and {max_bytes}")
        self.max_items, self.max_bytes, self.queue = max_items, max_bytes, queue
        self.persistent = persistent  # results that outlive the server (core.diskcache), or None
        self.budget = budget  # bytes shared with the other lessons' stores of the same kind, or None
        if budget is not None:
            budget.join(self)
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._jobs: dict[Hashable, SharedJob] = {}

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def get(self, key: Hashable) -> object | None:
        """The result for `key` from memory, or else from the persistent cache (verified there; kept in memory
        from then on), or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        if self.persistent is None:
            return None
        found = self.persistent.load(key)
        if found is not None:
            self._keep(key, found)
        return found

    def contains(self, key: Hashable) -> bool:
        """Whether a result for `key` is kept (in memory, or on disk), without loading it."""
        with self._lock:
            if key in self._items:
                return True
        return self.persistent is not None and self.persistent.has(key)

    def put(self, key: Hashable, value: object) -> None:
        """Keep `value` in memory and, when it can be written without pickle, in the persistent cache."""
        self._keep(key, value)
        if self.persistent is not None:
            self.persistent.save(key, value)

    def _keep(self, key: Hashable, value: object) -> None:
        """Keep `value` in memory, pushing out the least recently used items while over a bound (never the new one:
        an item bigger than the whole byte bound is still kept, alone, so the session that made it can use it)."""
        size = size_of(value)
        with self._lock:
            replaced, old_size = key in self._items, 0
            if replaced:
                old_size = self._items.pop(key)[1]
                self._bytes -= old_size
            self._items[key] = (value, size)
            self._bytes += size
            if self.budget is not None:
                self.budget.add(size - (old_size if replaced else 0))
            while len(self._items) > 1 and (len(self._items) > self.max_items or
                                            (self.max_bytes is not None and self._bytes > self.max_bytes)):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
                if self.budget is not None:
                    self.budget.add(-dropped)
        if self.budget is not None:
            self.budget.shrink(keep=self)

    def drop_oldest(self, spare_newest: bool = False) -> bool:
        """Forget the least recently used item (for a shared budget); False when there is none that may go."""
        with self._lock:
            if not self._items or (spare_newest and len(self._items) == 1):
                return False
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped
        if self.budget is not None:
            self.budget.add(-dropped)
        return True

    def is_busy(self, key: Hashable) -> bool:
        """True while some session is computing `key`."""
        with self._lock:
            lock = self._key_locks.get(key)
            job = self._jobs.get(key)
        return (lock is not None and lock.locked()) or job is not None

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

    def shared(self, key: Hashable, compute: Callable[[Callable[[object], None]], T], alive: Alive,
               relay: Relay | None = None, poll_seconds: float = 0.25,
               start: Callable[[Callable[[], None]], threading.Thread] | None = None,
               on_finish: Callable[[SharedJob], None] | None = None) -> T:
        """The stored result for `key`, or `compute(report)` run in a thread of its own (in the store's training
        queue, if it has one) and stored for every session. Every caller — the first and any that ask while it
        runs — waits here, calling `relay(progress, place)` about every `poll_seconds` from its own thread (it
        may raise: the caller leaves, the computation goes on if anyone else still waits). Once no caller is
        `alive()` any more, the computation stops at its next `report` or queue poll and stores nothing.
        `start(target)` makes the thread (default: a daemon thread), so a caller can give it context;
        `on_finish(job)` runs in the caller that started the job when its own wait ends (however it ends)."""
        while True:
            found = self.get(key)
            if found is not None:
                return found  # type: ignore[return-value]
            with self._lock:
                job = self._jobs.get(key)
                starter = job is None
                if starter:
                    job = self._jobs[key] = SharedJob(key)
            token = job.join(alive)
            try:
                if starter:
                    job.thread = (start or _daemon)(lambda: self._run(job, compute))
                    job.thread.start()
                while not job.done.wait(poll_seconds):
                    if relay is not None:
                        relay(job.progress, job.place)
            finally:
                job.leave(token)
                if starter and on_finish is not None:
                    on_finish(job)
            if isinstance(job.error, Abandoned) and alive():
                continue  # we joined a job just as everyone else had left it: start again
            if job.error is not None:
                raise job.error
            return job.value  # type: ignore[return-value]

    def _run(self, job: SharedJob, compute: Callable[[Callable[[object], None]], object]) -> None:
        def on_wait(place: int) -> None:
            job.place = place
            if not job.wanted:
                raise Abandoned(f"nobody waits for {job.key!r} any more")

        try:
            if not job.wanted:
                raise Abandoned(f"nobody waits for {job.key!r} any more")
            if self.queue is None:
                job.value = compute(job.report)
            else:
                with self.queue.slot(on_wait):
                    job.place = None
                    if not job.wanted:  # everyone left while it waited: give the slot straight to the next
                        raise Abandoned(f"nobody waits for {job.key!r} any more")
                    job.value = compute(job.report)
            self.put(job.key, job.value)
        except BaseException as error:  # noqa: BLE001 - handed to every waiting session
            job.error = error
        finally:
            with self._lock:
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]
            job.done.set()
            release_memory()  # what the computation allocated and dropped goes back to the system

    def job(self, key: Hashable) -> SharedJob | None:
        """The computation of `key` running now, if any."""
        with self._lock:
            return self._jobs.get(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def _daemon(target: Callable[[], None]) -> threading.Thread:
    return threading.Thread(target=target, daemon=True, name="netlens-job")


MB = 1 << 20
# Bytes kept per lesson and kind. "training" entries go through the training queue.
KINDS: dict[str, tuple[int, int]] = {  # kind → (max items, max bytes)
    "pictures": (8, 400 * MB),
    "training": (64, 200 * MB),
    "results": (256, 100 * MB),
    "maps": (512, 50 * MB),
}
# Bytes kept per kind by all lessons together, for the kinds that are cheap to make again (issue 9: a server's
# memory stays bounded whatever the class does; a picture set redraws in about a second, a map in milliseconds).
# Trained networks and reports are small and dear: each lesson keeps its own, which no other lesson pushes out.
BUDGETS: dict[str, int] = {"pictures": 200 * MB, "maps": 50 * MB}


PERSISTED = ("training", "results")  # kinds kept on disk too: trained networks and reports (pictures redraw cheaply)


class Cache:
    """One server's stores: one per (lesson, kind), created on first use, all trainings in one queue; trained
    networks and reports also in `disk` (a `core.diskcache` folder or Redis, for `version` of the code)."""

    def __init__(self, queue: TrainingQueue | None = None, kinds: dict[str, tuple[int, int]] | None = None,
                 disk: object | None = None, version: str = "") -> None:
        self.queue = queue or TrainingQueue(slots=1)
        # Picture sets are drawn one at a time too (Python and numpy under one lock: ten drawn side by side each
        # take ten times as long, and a set nobody waits for any more would stop only at its next report).
        self.drawing_queue = TrainingQueue(slots=1)
        self.kinds = dict(KINDS if kinds is None else kinds)
        self.disk, self.version = disk, version
        self.budgets = {kind: Budget(limit) for kind, limit in BUDGETS.items() if kind in self.kinds}
        self._stores: dict[tuple[str, str], ResultStore] = {}
        self._lock = threading.Lock()

    def store(self, lesson: str, kind: str) -> ResultStore:
        if kind not in self.kinds:
            raise ValueError(f"unknown kind of result {kind!r}; choose one of {', '.join(self.kinds)}")
        with self._lock:
            found = self._stores.get((lesson, kind))
            if found is None:
                max_items, max_bytes = self.kinds[kind]
                persistent = PersistentStore(self.disk, f"{lesson}/{kind}", self.version) \
                    if self.disk is not None and kind in PERSISTED else None  # type: ignore[arg-type]
                found = self._stores[(lesson, kind)] = ResultStore(
                    max_items, max_bytes, persistent=persistent,
                    queue=self.queue if kind == "training" else self.drawing_queue if kind == "pictures" else None,
                    budget=self.budgets.get(kind))
            return found


def code_version(root: Path | None = None) -> str:
    """Changes whenever any file of the library (core/, subpackages included) changes, so a server that keeps
    running across an update starts fresh stores instead of mixing results (and classes) of old and new code."""
    core = root if root is not None else Path(__file__).resolve().parent
    stamps = sorted((str(path.relative_to(core)), path.stat().st_mtime_ns, path.stat().st_size)
                    for path in core.rglob("*.py"))
    return hashlib.sha1(repr(stamps).encode()).hexdigest()

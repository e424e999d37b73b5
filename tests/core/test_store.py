"""The shared stores and the one training queue: computed once, nothing kept from a failure, bounded by items and
bytes per lesson and kind, trainings one at a time in arrival order with each waiting session told its place."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from tests.core.waiting import TIMEOUT, wait_until
from core.store import Cache, QueueFull, ResultStore, TrainingQueue, code_version, size_of



class Worker(threading.Thread):
    """One browser session asking a store for a result in its own thread; keeps what came back or what it raised."""

    def __init__(self, store: ResultStore, key: object, compute: Callable[[], object],
                 on_wait: Callable[[int], None] | None = None) -> None:
        super().__init__(daemon=True)
        self.store, self.key, self.compute, self.on_wait = store, key, compute, on_wait
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.store.get_or_compute(self.key, self.compute, on_wait=self.on_wait)
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            self.error = error

    def finish(self, timeout: float = TIMEOUT) -> None:
        self.join(timeout)
        assert not self.is_alive(), f"{self.key!r} did not finish within {timeout} s"


class Trainings:
    """Blocking computations: each records that it started (and how many ran at once) and waits to be released."""

    def __init__(self, queue: TrainingQueue | None = None) -> None:
        self.queue = queue
        self.started: list[str] = []
        self.peak_running = 0
        self._release: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._running = 0

    def compute(self, name: str) -> Callable[[], str]:
        release = self._release.setdefault(name, threading.Event())

        def run() -> str:
            with self._lock:
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
                self.started.append(name)
            try:
                if not release.wait(TIMEOUT):
                    raise TimeoutError(f"{name} was never released")
            finally:
                with self._lock:
                    self._running -= 1
            return f"weights of {name}"

        return run

    def release(self, name: str) -> None:
        self._release[name].set()

    def release_all(self) -> None:
        for event in self._release.values():
            event.set()


class Places:
    """An `on_wait` callback that records the places a waiting session is told (and can be told to leave)."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.leave = threading.Event()

    def __call__(self, place: int) -> None:
        if not self.seen or self.seen[-1] != place:
            self.seen.append(place)
        if self.leave.is_set():
            raise KeyboardInterrupt("the page was rerun")  # what a Streamlit rerun raises into the waiting script

    @property
    def last(self) -> int | None:
        return self.seen[-1] if self.seen else None


@pytest.fixture
def trainings():  # type: ignore[no-untyped-def]
    made: list[Trainings] = []

    def make(queue: TrainingQueue | None = None) -> Trainings:
        made.append(Trainings(queue))
        return made[-1]

    yield make
    for each in made:  # never leave a thread blocked behind a failed assertion
        each.release_all()


# ------------------------------------------------------------------------------------------ one store
def test_two_sessions_asking_at_once_compute_once(trainings):
    """Test whether concurrent requests for one key run the computation a single time and all get its result."""
    store, work = ResultStore(), trainings()
    first = Worker(store, "key", work.compute("first"))
    first.start()
    wait_until(lambda: work.started == ["first"])
    others = [Worker(store, "key", work.compute(f"other {index}")) for index in range(3)]
    for worker in others:
        worker.start()
    time.sleep(0.05)  # let the others block on the key while the first computes
    assert store.is_busy("key")
    work.release("first")
    for worker in (first, *others):
        worker.finish()
    assert work.started == ["first"]
    assert [worker.result for worker in (first, *others)] == ["weights of first"] * 4
    assert not store.is_busy("key") and not store._key_locks  # per-key locks are pruned once done


def test_a_failed_computation_stores_nothing():
    """Test whether an interrupted computation (an error, a page rerun) leaves no half result behind, and the next
    request computes afresh."""
    store = ResultStore()

    def broken() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.get_or_compute("key", broken)
    assert store.get("key") is None and len(store) == 0 and store.bytes == 0
    assert store.get_or_compute("key", lambda: "fine") == "fine"
    assert store.get("key") == "fine"


def test_least_recently_used_items_are_dropped_first():
    """Test whether the store keeps at most max_items, dropping the one used longest ago."""
    store = ResultStore(max_items=2)
    store.put("a", 1)
    store.put("b", 2)
    store.get("a")
    store.put("c", 3)
    assert store.get("a") == 1 and store.get("b") is None and store.get("c") == 3 and len(store) == 2


def test_a_store_keeps_at_most_its_bytes_dropping_the_least_recently_used():
    """Test whether a store over its byte bound drops its least recently used items (here: 400-byte arrays
    under a 1,000-byte bound) and counts exactly the bytes it keeps."""
    store = ResultStore(max_items=100, max_bytes=1000)
    store.put("old", np.zeros(400, dtype=np.uint8))
    store.put("older", np.zeros(400, dtype=np.uint8))
    store.get("old")  # now "older" is the least recently used
    store.put("new", np.zeros(400, dtype=np.uint8))
    assert store.get("older") is None and store.get("old") is not None and store.get("new") is not None
    assert store.bytes == 800 and len(store) == 2


def test_an_item_bigger_than_the_bound_is_kept_alone():
    """Test whether a result bigger than the whole byte bound is still kept (alone), so the session that made it
    can use it, and is the first to go when the next result arrives."""
    store = ResultStore(max_items=100, max_bytes=1000)
    store.put("small", np.zeros(100, dtype=np.uint8))
    store.put("huge", np.zeros(5000, dtype=np.uint8))
    assert store.get("small") is None and store.get("huge") is not None and store.bytes == 5000 and len(store) == 1
    store.put("next", np.zeros(100, dtype=np.uint8))
    assert store.get("huge") is None and store.get("next") is not None and store.bytes == 100


def test_size_of_counts_array_and_tensor_data_once():
    """Test whether `size_of` counts arrays and tensors by their data, inside containers and dataclasses, and an
    array held twice once."""
    array = np.zeros((10, 10), dtype=np.float64)  # 800 bytes
    tensor = torch.zeros(50, dtype=torch.float32)  # 200 bytes
    assert size_of(array) == 800 and size_of(tensor) == 200
    pair = (array, array)
    assert size_of(pair) == sys.getsizeof(pair) + 800  # the same array twice: its data once
    held = {"a": array, "b": [tensor, array]}
    containers = sys.getsizeof(held) + sys.getsizeof("a") + sys.getsizeof("b") + sys.getsizeof(held["b"])
    assert size_of(held) == containers + 800 + 200


# ------------------------------------------------------------------------------------------ one server's stores
def test_cheap_items_never_evict_a_training_of_another_kind_or_lesson():
    """Test whether stores are separate per (lesson, kind): many maps fill the maps store of lesson "a" and push
    out only its own oldest maps, never lesson "a"'s training nor lesson "b"'s maps."""
    cache = Cache(kinds={"training": (10, 1000), "maps": (10, 1000)})
    cache.store("a", "training").put("weights", np.zeros(900, dtype=np.uint8))
    cache.store("b", "maps").put("their map", np.zeros(900, dtype=np.uint8))
    maps = cache.store("a", "maps")
    for index in range(10):
        maps.put(index, np.zeros(300, dtype=np.uint8))
    assert cache.store("a", "training").get("weights") is not None
    assert cache.store("b", "maps").get("their map") is not None
    assert [index for index in range(10) if maps.get(index) is not None] == [7, 8, 9]  # the oldest went first
    assert cache.store("a", "maps") is maps and cache.store("a", "training") is not maps
    with pytest.raises(ValueError, match="unknown kind"):
        cache.store("a", "nonsense")


def test_only_trainings_wait_in_the_queue(trainings):
    """Test whether a map (not a training) is computed at once while a training holds the only slot."""
    cache = Cache(queue=TrainingQueue(slots=1, poll_seconds=0.01))
    work = trainings()
    training = Worker(cache.store("a", "training"), "weights", work.compute("training"))
    training.start()
    wait_until(lambda: work.started == ["training"])
    drawing = Worker(cache.store("a", "maps"), "map", lambda: "a map")
    drawing.start()
    drawing.finish(timeout=2)
    assert drawing.result == "a map" and training.is_alive()  # done while the training still held the slot
    work.release("training")
    training.finish()


def test_trainings_of_all_lessons_run_one_at_a_time_first_come_first_served(trainings):
    """Test whether `TrainingQueue(slots=1)` runs one training at once across every lesson's training store, in
    arrival order, and tells a waiting session its place as it counts down (3, 2, 1)."""
    queue = TrainingQueue(slots=1, poll_seconds=0.01)
    cache, work = Cache(queue=queue), trainings()
    places = {name: Places() for name in "abcd"}
    workers = {name: Worker(cache.store(name, "training"), "weights", work.compute(name), places[name])
               for name in "abcd"}
    workers["a"].start()
    wait_until(lambda: work.started == ["a"])
    for count, name in enumerate("bcd", start=1):
        workers[name].start()
        wait_until(lambda: queue.waiting == count)  # arrival order is b, c, d
    for running, name in zip("abc", "bcd"):
        wait_until(lambda: places["d"].last == 3 - "abc".index(running))
        assert queue.running == 1 and work.started[-1] == running
        work.release(running)
        wait_until(lambda: work.started[-1] == name)
    work.release("d")
    for worker in workers.values():
        worker.finish()
    assert work.started == ["a", "b", "c", "d"] and work.peak_running == 1
    assert places["d"].seen == [3, 2, 1] and places["c"].seen == [2, 1] and places["b"].seen == [1]
    assert places["a"].seen == []  # the first one never waited
    assert [workers[name].result for name in "abcd"] == [f"weights of {name}" for name in "abcd"]
    assert queue.running == 0 and queue.waiting == 0


def test_a_session_that_leaves_the_queue_gives_its_place_to_the_next(trainings):
    """Test whether a waiting session whose `on_wait` raises (its page was rerun) leaves the queue at once: the
    queue shrinks, the session behind moves up, and nothing is ever computed for the one that left."""
    queue = TrainingQueue(slots=1, poll_seconds=0.01)
    cache, work = Cache(queue=queue), trainings()
    places = {name: Places() for name in "abc"}
    workers = {name: Worker(cache.store(name, "training"), "weights", work.compute(name), places[name])
               for name in "abc"}
    workers["a"].start()
    wait_until(lambda: work.started == ["a"])
    workers["b"].start()
    wait_until(lambda: queue.waiting == 1)
    workers["c"].start()
    wait_until(lambda: places["c"].last == 2)
    places["b"].leave.set()
    workers["b"].finish()
    assert isinstance(workers["b"].error, KeyboardInterrupt)
    assert queue.waiting == 1 and queue.running == 1  # "a" still trains: "c" moved up while waiting
    wait_until(lambda: places["c"].last == 1)
    work.release("a")
    wait_until(lambda: work.started == ["a", "c"])
    work.release("c")
    workers["a"].finish()
    workers["c"].finish()
    assert work.started == ["a", "c"]  # nothing was computed for "b"
    assert cache.store("b", "training").get("weights") is None and workers["c"].result == "weights of c"
    assert queue.running == 0 and queue.waiting == 0


def test_a_full_queue_refuses_at_once(trainings):
    """Test whether a session arriving when `max_waiting` sessions already wait gets `QueueFull` straight away,
    computes nothing, and leaves the queue as it was."""
    queue = TrainingQueue(slots=1, max_waiting=1, poll_seconds=0.01)
    cache, work = Cache(queue=queue), trainings()
    first = Worker(cache.store("a", "training"), "weights", work.compute("a"))
    second = Worker(cache.store("b", "training"), "weights", work.compute("b"))
    first.start()
    wait_until(lambda: work.started == ["a"])
    second.start()
    wait_until(lambda: queue.waiting == 1)
    refused = Worker(cache.store("c", "training"), "weights", work.compute("c"))
    refused.start()
    refused.finish(timeout=2)
    assert isinstance(refused.error, QueueFull) and "busy" in str(refused.error)
    assert queue.waiting == 1 and queue.running == 1
    work.release("a")
    work.release("b")
    first.finish()
    second.finish()
    assert work.started == ["a", "b"] and queue.waiting == 0 and queue.running == 0


# ------------------------------------------------------------------------------------------ code version
def test_the_code_version_changes_with_any_file_of_any_subpackage(tmp_path: Path):
    """Test whether `code_version` changes when a file deep inside a subpackage changes or appears (as
    core/lessons/<id>/… does), and only then."""
    deep = tmp_path / "lessons" / "bunnies" / "experiment.py"
    deep.parent.mkdir(parents=True)
    (tmp_path / "store.py").write_text("A = 1\n")
    deep.write_text("B = 1\n")
    before = code_version(tmp_path)
    (tmp_path / "notes.md").write_text("not code\n")
    assert code_version(tmp_path) == before  # same code, same version
    stamp = deep.stat().st_mtime_ns
    deep.write_text("B = 2\n")  # an edit of the same length
    os.utime(deep, ns=(stamp + 10**9, stamp + 10**9))
    edited = code_version(tmp_path)
    assert edited != before
    (tmp_path / "lessons" / "photo").mkdir()
    (tmp_path / "lessons" / "photo" / "__init__.py").write_text("")
    assert code_version(tmp_path) != edited


def test_all_lessons_together_stay_within_their_kinds_budget():
    """Test whether every lesson's store of one kind shares one byte budget: ten lessons' picture sets together
    stay within it (the biggest stores giving up their oldest first), the newest set always kept."""
    from core.store import Budget

    cache = Cache(kinds={"pictures": (8, 400 << 20)})
    cache.budgets["pictures"] = budget = Budget(5 << 20)
    for lesson in range(10):
        store = cache.store(f"lesson{lesson}", "pictures")
        for index in range(3):
            store.put(index, np.zeros(1 << 20, dtype=np.uint8))  # 1 MB each
    stores = [cache.store(f"lesson{lesson}", "pictures") for lesson in range(10)]
    assert budget.used == sum(store.bytes for store in stores) <= 5 << 20
    assert stores[-1].get(2) is not None  # the newest stays
    assert sum(len(store) for store in stores) == 5
    assert stores[0].get(0) is None and len(stores[0]) == 0

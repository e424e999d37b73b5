"""Shared jobs (issue 9): one computation per key in its own thread, shared by every session that asks while it
runs; it goes on while anyone waits and stops at its next progress report once nobody does; a queued job whose
sessions have all gone leaves the queue."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest

from tests.core.waiting import TIMEOUT, wait_until
from core.store import Abandoned, ResultStore, TrainingQueue



class Session(threading.Thread):
    """A browser session asking `store.shared` for `key`: `leave()` closes its tab (alive() turns False, and its
    next relay raises, as Streamlit's stop does)."""

    def __init__(self, store: ResultStore, key: object, compute) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.store, self.key, self.compute = store, key, compute
        self.here = True
        self.relayed: list[tuple[object, object]] = []
        self.result: object = None
        self.error: BaseException | None = None

    def relay(self, progress: object, place: object) -> None:
        if not self.here:
            raise KeyboardInterrupt("tab closed")  # any BaseException: the session's own stop
        self.relayed.append((progress, place))

    def run(self) -> None:
        try:
            self.result = self.store.shared(self.key, self.compute, lambda: self.here, self.relay, poll_seconds=0.01)
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            self.error = error

    def leave(self) -> None:
        self.here = False

    def finish(self) -> None:
        self.join(TIMEOUT)
        assert not self.is_alive()


class Steps:
    """A computation of `total` steps that reports after each one and can be held at any step."""

    def __init__(self, total: int = 1000) -> None:
        self.total, self.done, self.runs = total, 0, 0
        self.go = threading.Event()
        self.go.set()

    def __call__(self, report):  # type: ignore[no-untyped-def]
        self.runs += 1
        for step in range(self.total):
            self.go.wait(TIMEOUT)
            time.sleep(0.001)
            self.done = step + 1
            report(step)
        return f"value after {self.total} steps"


def test_two_sessions_share_one_computation_and_both_see_its_progress():
    """Test whether a second session asking for the same key joins the running computation (it runs once), both
    get its value, and both relay its progress reports."""
    store, steps = ResultStore(), Steps(200)
    first = Session(store, "key", steps)
    first.start()
    wait_until(lambda: steps.done > 10)
    second = Session(store, "key", steps)
    second.start()
    first.finish(), second.finish()
    assert steps.runs == 1 and first.result == second.result == "value after 200 steps"
    assert any(progress is not None for progress, _ in second.relayed)
    assert store.get("key") == "value after 200 steps"


def test_work_stops_soon_after_the_only_session_leaves_and_nothing_is_stored():
    """Test whether, once the only waiting session leaves, the computation stops at its next report (well before
    its end), stores nothing, and a later session computes it afresh."""
    store, steps = ResultStore(), Steps(100_000)
    session = Session(store, "key", steps)
    session.start()
    wait_until(lambda: steps.done > 20)
    session.leave()
    session.finish()
    assert isinstance(session.error, (KeyboardInterrupt, Abandoned))  # its own stop, or the job's, whichever came first
    wait_until(lambda: store.job("key") is None)
    stopped_at = steps.done
    time.sleep(0.05)
    assert steps.done == stopped_at < 1000  # stopped, long before the end
    assert store.get("key") is None


def test_a_result_is_kept_when_the_session_that_started_it_leaves_but_another_waits():
    """Test whether the computation goes on, without starting again, when the session that started it leaves while
    another session still waits, and the one still waiting gets the value."""
    store, steps = ResultStore(), Steps(300)
    starter = Session(store, "key", steps)
    starter.start()
    wait_until(lambda: steps.done > 10)
    waiter = Session(store, "key", steps)
    waiter.start()
    wait_until(lambda: len(waiter.relayed) > 0)
    starter.leave()
    starter.finish(), waiter.finish()
    assert steps.runs == 1 and steps.done == 300
    assert waiter.result == "value after 300 steps" and waiter.error is None
    assert store.get("key") == "value after 300 steps"


def test_a_session_that_leaves_the_queue_frees_its_place_and_nothing_runs_for_it():
    """Test whether a job waiting in the training queue, whose only session leaves, leaves the queue (the next
    session moves up a place) and never runs."""
    queue = TrainingQueue(slots=1, poll_seconds=0.01)
    store = ResultStore(queue=queue)
    busy, queued, third = Steps(100_000), Steps(10), Steps(10)
    busy.go.clear()  # holds the one slot
    running = Session(store, "busy", busy)
    running.start()
    wait_until(lambda: queue.running == 1)
    leaving, staying = Session(store, "queued", queued), Session(store, "third", third)
    leaving.start()
    wait_until(lambda: queue.waiting == 1)
    staying.start()
    wait_until(lambda: queue.waiting == 2)
    wait_until(lambda: any(place == 2 for _, place in staying.relayed))
    leaving.leave()
    leaving.finish()
    wait_until(lambda: queue.waiting == 1)
    wait_until(lambda: any(place == 1 for _, place in staying.relayed[-5:]))
    busy.go.set()
    running.leave()  # the running job stops too: nobody waits for it
    running.finish()
    staying.finish()
    assert queued.runs == 0 and third.runs == 1 and staying.result == "value after 10 steps"


def test_an_error_reaches_every_waiting_session_and_nothing_is_stored():
    """Test whether a computation that raises hands the error to every session waiting for it, stores nothing,
    and the next ask computes again."""
    store = ResultStore()
    gate = threading.Event()

    def broken(report):  # type: ignore[no-untyped-def]
        gate.wait(TIMEOUT)
        raise ValueError("bad settings")

    first, second = Session(store, "key", broken), Session(store, "key", broken)
    first.start()
    wait_until(lambda: store.job("key") is not None)
    second.start()
    wait_until(lambda: len(second.relayed) > 0)
    gate.set()
    first.finish(), second.finish()
    assert isinstance(first.error, ValueError) and isinstance(second.error, ValueError)
    assert store.get("key") is None
    assert store.shared("key", lambda report: "fine", lambda: True) == "fine"


def test_abandoned_is_not_an_ordinary_exception():
    """Test whether Abandoned passes through a page's `except Exception` (nobody is there to read a message)."""
    assert not issubclass(Abandoned, Exception) and issubclass(Abandoned, BaseException)
    with pytest.raises(Abandoned):
        try:
            raise Abandoned("gone")
        except Exception:  # noqa: BLE001 - what a page does
            pass

"""The shared result store: computes once across threads, keeps nothing from a failed computation."""

from __future__ import annotations

import threading
import time

import pytest

from core.store import ResultStore


def test_two_sessions_asking_at_once_compute_once():
    """Test whether concurrent requests for one key run the computation a single time."""
    store, calls = ResultStore(), []

    def compute() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "weights"

    results = []
    threads = [threading.Thread(target=lambda: results.append(store.get_or_compute("key", compute))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["weights"] * 4 and len(calls) == 1
    assert not store._key_locks  # per-key locks are pruned once done


def test_a_failed_computation_stores_nothing():
    """Test whether an interrupted computation (an error, a page rerun) leaves no half result behind."""
    store = ResultStore()

    def broken() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.get_or_compute("key", broken)
    assert store.get("key") is None
    assert store.get_or_compute("key", lambda: "fine") == "fine"


def test_least_recently_used_items_are_dropped_first():
    """Test whether the store keeps at most max_items, dropping the one used longest ago."""
    store = ResultStore(max_items=2)
    store.put("a", 1)
    store.put("b", 2)
    store.get("a")
    store.put("c", 3)
    assert store.get("a") == 1 and store.get("b") is None and store.get("c") == 3 and len(store) == 2


def test_at_most_max_parallel_computations_run_at_once():
    """Test whether different keys queue for the computing slots instead of all running together."""
    store, running, peak = ResultStore(max_parallel=1), [0], [0]
    guard = threading.Lock()

    def compute() -> int:
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with guard:
            running[0] -= 1
        return 1

    threads = [threading.Thread(target=store.get_or_compute, args=(key, compute)) for key in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1 and len(store) == 4 and not store.is_full()

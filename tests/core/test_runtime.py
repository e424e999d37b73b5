"""Process-wide settings that several sessions share: they must come back when the last user is done."""

from __future__ import annotations

import sys

import pytest
import torch

from core.runtime import configure_torch, short_gil_slices, single_thread
from core.seeds import stream


def test_short_gil_slices_give_back_the_process_setting_when_the_last_training_ends():
    """Test whether nested (concurrent) users keep the short interval and the last one restores the original."""
    before = sys.getswitchinterval()
    with short_gil_slices(0.0002):
        assert sys.getswitchinterval() == pytest.approx(0.0002)
        with short_gil_slices(0.0002):  # a second session training at the same time
            pass
        assert sys.getswitchinterval() == pytest.approx(0.0002)
    assert sys.getswitchinterval() == before


def test_single_thread_gives_back_the_thread_count_even_after_an_error():
    """Test whether torch computes on one thread inside the block (nested too) and the count comes back after,
    also when the block is left by an exception (a page rerun stopping a search)."""
    torch.set_num_threads(2)
    with pytest.raises(KeyboardInterrupt):
        with single_thread():
            assert torch.get_num_threads() == 1
            with single_thread():
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1
            raise KeyboardInterrupt
    assert torch.get_num_threads() == 2


def test_two_sessions_inside_single_thread_blocks_at_once_both_get_one_thread():
    """Test whether two script threads that each set two torch threads (as every page run does) both compute on
    one thread inside their blocks at the same time, get their two back afterwards, and leave this thread alone."""
    import threading

    configure_torch(2)
    seen: dict[str, int] = {}
    both_inside = threading.Barrier(2, timeout=10)

    def session(name: str) -> None:
        configure_torch(2)
        with single_thread():
            both_inside.wait()
            seen[name] = torch.get_num_threads()
            both_inside.wait()
        seen[f"{name} after"] = torch.get_num_threads()

    threads = [threading.Thread(target=session, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert seen == {"first": 1, "second": 1, "first after": 2, "second after": 2}
    assert torch.get_num_threads() == 2


def test_seed_streams_are_stable_and_independent():
    """Test whether a stream is the same number on every run and machine (crc32-based, reference value computed
    once with numpy's SeedSequence) and different names or seeds give different streams."""
    assert stream(0, "batch-train") == stream(0, "batch-train")
    assert len({stream(seed, name) for seed in (0, 1) for name in ("train", "test", "weights")}) == 6
    assert stream(0, "splits-practice") == REFERENCE


REFERENCE = 883056694  # what every saved link and README figure was computed with

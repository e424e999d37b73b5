"""The server's store of uploaded photos that links name: by fingerprint, bounded by count and bytes, expiring."""

from __future__ import annotations

import threading

import pytest

from core.lessons.photo.experiment import digest
from core.lessons.photo.kept import KeptPhotos


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_kept_photo_is_found_by_its_fingerprint(clock):
    """Test whether keep returns the bytes' fingerprint and get gives back the same bytes and name."""
    kept = KeptPhotos(clock=clock)
    fingerprint = kept.keep(b"photo one", "one.jpg")
    assert fingerprint == digest(b"photo one")
    found = kept.get(fingerprint)
    assert found is not None and found.data == b"photo one" and found.name == "one.jpg"


def test_a_photo_expires_after_its_time_and_opening_it_does_not_extend_it(clock):
    """Test whether a photo is there until `seconds` after it was kept, even when opened in between, and gone
    after; keeping it again starts its time anew."""
    kept = KeptPhotos(seconds=3600, clock=clock)
    fingerprint = kept.keep(b"photo", "a.jpg")
    clock.now += 3000
    assert kept.get(fingerprint) is not None  # opened: no extension
    clock.now += 599
    assert kept.get(fingerprint) is not None
    clock.now += 1
    assert kept.get(fingerprint) is None and len(kept) == 0
    kept.keep(b"photo", "a.jpg")
    clock.now += 3599
    assert kept.get(fingerprint) is not None


def test_keeping_again_renews_the_time(clock):
    """Test whether a photo kept again (the uploader's page reruns) outlives its first hour."""
    kept = KeptPhotos(seconds=100, clock=clock)
    fingerprint = kept.keep(b"photo", "a.jpg")
    clock.now += 90
    kept.keep(b"photo", "a.jpg")
    clock.now += 90
    assert kept.get(fingerprint) is not None


def test_the_count_bound_pushes_out_the_oldest(clock):
    """Test whether a fourth photo in a store of three pushes out the one kept longest ago."""
    kept = KeptPhotos(max_photos=3, clock=clock)
    fingerprints = []
    for number in range(4):
        clock.now += 1
        fingerprints.append(kept.keep(f"photo {number}".encode(), f"{number}.jpg"))
    assert kept.get(fingerprints[0]) is None
    assert all(kept.get(fingerprint) is not None for fingerprint in fingerprints[1:])
    assert len(kept) == 3


def test_the_byte_bound_pushes_out_the_oldest_and_refuses_a_photo_bigger_than_all(clock):
    """Test whether the store stays within its bytes by forgetting the oldest photos, and refuses one photo
    bigger than the whole bound."""
    kept = KeptPhotos(max_bytes=250, clock=clock)
    first = kept.keep(b"a" * 100, "a.jpg")
    second = kept.keep(b"b" * 100, "b.jpg")
    third = kept.keep(b"c" * 100, "c.jpg")
    assert kept.get(first) is None and kept.get(second) is not None and kept.get(third) is not None
    assert kept.bytes == 200
    with pytest.raises(ValueError, match="more than"):
        kept.keep(b"d" * 251, "d.jpg")
    assert kept.bytes == 200


@pytest.mark.parametrize("fingerprint", ["", "0123", "../../etc/passwd", "0123456789ABCDEF", "g" * 16, None, 12])
def test_unknown_or_malformed_fingerprints_find_nothing(clock, fingerprint):
    """Test whether a link's unknown or malformed fingerprint gives None, never an error."""
    kept = KeptPhotos(clock=clock)
    kept.keep(b"photo", "a.jpg")
    assert kept.get(fingerprint) is None  # type: ignore[arg-type]


def test_bad_bounds_are_refused():
    """Test whether bounds that could keep nothing are refused."""
    for values in ({"max_photos": 0}, {"max_bytes": 0}, {"seconds": 0}):
        with pytest.raises(ValueError):
            KeptPhotos(**values)


def test_many_sessions_keeping_at_once_stay_within_the_bounds(clock):
    """Test whether eight threads keeping photos at once leave the store within its count and bytes."""
    kept = KeptPhotos(max_photos=5, max_bytes=5000, clock=clock)

    def work(thread: int) -> None:
        for number in range(50):
            kept.keep(f"{thread}-{number}".encode() * 40, "x.jpg")

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) <= 5 and kept.bytes <= 5000

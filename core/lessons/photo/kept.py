"""Uploaded photos kept on the server for a while, by fingerprint, so that a link can name one (`?photo_photo=…`)
and show the same photo to anyone who opens it on the same server."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from core.lessons.photo.experiment import digest, is_fingerprint

MB = 1 << 20


@dataclass(frozen=True)
class KeptPhoto:
    data: bytes  # the file as uploaded
    name: str  # what the page calls it ("my_coffee.jpg", "your photo")
    kept_at: float  # clock reading when it was (last) uploaded


class KeptPhotos:
    """A thread-safe map fingerprint → photo, bounded by count and bytes (the oldest go first), where each
    photo expires `seconds` after it was last kept (the uploader's page keeps it again on every rerun; opening
    its link does not extend it). `clock` is injectable for tests (default: `time.monotonic`)."""

    def __init__(self, max_photos: int = 64, max_bytes: int = 200 * MB, seconds: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_photos < 1 or max_bytes < 1 or seconds <= 0:
            raise ValueError(f"need max_photos ≥ 1, max_bytes ≥ 1 and seconds > 0, got {max_photos}, {max_bytes}, "
                             f"{seconds}")
        self.max_photos, self.max_bytes, self.seconds, self.clock = max_photos, max_bytes, seconds, clock
        self._photos: OrderedDict[str, KeptPhoto] = OrderedDict()  # oldest upload first
        self._lock = threading.Lock()

    def keep(self, data: bytes, name: str) -> str:
        """Keep the photo (again: its time starts anew) and return its fingerprint; ValueError when it alone is
        bigger than the store."""
        if len(data) > self.max_bytes:
            raise ValueError(f"a photo of {len(data):,} bytes is more than the {self.max_bytes:,} bytes kept")
        fingerprint = digest(data)
        with self._lock:
            self._photos.pop(fingerprint, None)
            self._photos[fingerprint] = KeptPhoto(data, name, self.clock())
            self._forget_expired()
            while len(self._photos) > self.max_photos or self._bytes() > self.max_bytes:
                self._photos.popitem(last=False)
        return fingerprint

    def get(self, fingerprint: str) -> KeptPhoto | None:
        """The photo kept under `fingerprint`, or None when it is unknown, expired, pushed out or malformed."""
        if not isinstance(fingerprint, str) or not is_fingerprint(fingerprint):
            return None
        with self._lock:
            self._forget_expired()
            return self._photos.get(fingerprint)

    def __len__(self) -> int:
        with self._lock:
            self._forget_expired()
            return len(self._photos)

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes()

    def _bytes(self) -> int:
        return sum(len(photo.data) for photo in self._photos.values())

    def _forget_expired(self) -> None:
        now = self.clock()
        while self._photos:
            oldest = next(iter(self._photos.values()))
            if now - oldest.kept_at < self.seconds:
                break
            self._photos.popitem(last=False)

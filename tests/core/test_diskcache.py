"""Tests for core.diskcache: both backends (a folder, a real redis-server) keep whole, checked entries, bounded
by bytes with least-recently-used eviction; damaged entries read as absent and go; killed writers leave nothing
half-written; the environment picks the backend."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import torch

from core.diskcache import HEADER_BYTES, MB, FolderCache, PersistentStore, RedisCache, content_version, open_cache
from core.models import ModelConfig, build_model
from core.persist import encode
from tests.services import redis_server

ROOT = Path(__file__).resolve().parents[2]
CacheFactory = Callable[[int], "FolderCache | RedisCache"]
CHILD_ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


# -------------------------------------------------------------------------------------------- fixtures
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port, without persistence, for this test session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["folder", "redis"])
def new_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheFactory]:
    """Makes caches of one backend with a given byte bound (Redis ones under a fresh prefix each test)."""
    made: list[FolderCache | RedisCache] = []
    prefix = f"test-{uuid.uuid4().hex}:"

    def make(max_bytes: int) -> FolderCache | RedisCache:
        if request.param == "folder":
            cache: FolderCache | RedisCache = FolderCache(tmp_path / "cache", max_bytes)
        else:
            cache = RedisCache(request.getfixturevalue("redis_url"), max_bytes, prefix=prefix)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.clear()


@pytest.fixture()
def cache(new_cache: CacheFactory) -> FolderCache | RedisCache:
    return new_cache(64 * MB)


def raw_read(cache: FolderCache | RedisCache, key: str) -> bytes | None:
    """The stored entry, header included, as the backend holds it (None when it is not there)."""
    if isinstance(cache, FolderCache):
        path = cache.path(key)
        return path.read_bytes() if path.exists() else None
    return cache.client.get(cache.redis_key(key))


def raw_write(cache: FolderCache | RedisCache, key: str, entry: bytes) -> None:
    """Replace the stored entry behind the cache's back (bit rot, a crashed copy, a foreign file)."""
    if isinstance(cache, FolderCache):
        cache.path(key).write_bytes(entry)
    else:
        cache.client.set(cache.redis_key(key), entry)


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.iterdir() if path.name.startswith(".tmp-")]


# ----------------------------------------------------------------------------------------- both backends
def test_round_trip_overwrite_delete_clear(cache: FolderCache | RedisCache) -> None:
    """Test whether entries come back exactly, are replaced whole, counted with their header, and go."""
    assert cache.get("absent") is None and len(cache) == 0 and cache.total_bytes == 0
    cache.put("a", b"first")
    cache.put("b", b"")
    cache.put("key with / and ü", bytes(range(256)))
    assert cache.get("a") == b"first" and cache.get("b") == b"" and cache.get("key with / and ü") == bytes(range(256))
    cache.put("a", b"second, longer")
    assert cache.get("a") == b"second, longer"
    assert len(cache) == 3 and cache.total_bytes == 3 * HEADER_BYTES + len(b"second, longer") + 256
    cache.delete("a")
    cache.delete("never there")
    assert cache.get("a") is None and len(cache) == 2
    cache.clear()
    assert len(cache) == 0 and cache.total_bytes == 0 and cache.get("b") is None


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "flipped payload byte": lambda entry: entry[:-3] + bytes([entry[-3] ^ 0x01]) + entry[-2:],
    "flipped checksum byte": lambda entry: entry[:20] + bytes([entry[20] ^ 0x80]) + entry[21:],
    "truncated by one byte": lambda entry: entry[:-1],
    "truncated to half": lambda entry: entry[: len(entry) // 2],
    "truncated inside the header": lambda entry: entry[:10],
    "empty": lambda entry: b"",
    "garbage header": lambda entry: b"GARBAGE!" + entry[8:],
    "wrong length": lambda entry: entry[:8] + (len(entry)).to_bytes(8, "little") + entry[16:],
    "extra bytes": lambda entry: entry + b"\x00",
    "foreign file": lambda entry: b"<html>not a cache entry</html>",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_entries_read_as_absent_and_are_deleted(cache: FolderCache | RedisCache, damage: str) -> None:
    """Test whether a corrupt, truncated, empty or foreign entry reads as None, is removed, and can be
    written again afterwards."""
    payload = encode({"weights": torch.arange(1000.0)})
    cache.put("key", payload)
    cache.put("neighbour", b"untouched")
    entry = raw_read(cache, "key")
    assert entry is not None and len(entry) == HEADER_BYTES + len(payload)
    raw_write(cache, "key", DAMAGE[damage](entry))
    assert cache.get("key") is None
    assert raw_read(cache, "key") is None  # deleted, not left to fail again
    assert len(cache) == 1 and cache.total_bytes == HEADER_BYTES + len(b"untouched")
    assert cache.get("neighbour") == b"untouched"
    cache.put("key", payload)
    assert cache.get("key") == payload


def test_least_recently_used_go_first_and_reads_count(new_cache: CacheFactory) -> None:
    """Test whether, over the byte bound, the entry used longest ago goes first, a read counting as a use."""
    entry_bytes = HEADER_BYTES + 1000
    cache = new_cache(3 * entry_bytes)
    for key in "abc":
        cache.put(key, key.encode() * 1000)
    assert len(cache) == 3 and cache.total_bytes == 3 * entry_bytes  # exactly at the bound: nothing goes
    assert cache.get("a") == b"a" * 1000  # now b is the least recently used
    cache.put("d", b"d" * 1000)
    assert cache.get("b") is None and [cache.get(key) is not None for key in "acd"] == [True, True, True]
    # The reads just made a, c, d the use order; e needs 1.5 entries of room: a and c go, d stays.
    cache.put("e", b"e" * 1500)
    assert [key for key in "acde" if cache.get(key) is not None] == ["d", "e"]
    assert cache.total_bytes <= 3 * entry_bytes


def test_an_entry_bigger_than_the_bound_is_kept_alone(new_cache: CacheFactory) -> None:
    """Test whether the entry just written survives its own eviction, even when it alone is over the bound."""
    cache = new_cache(10_000)
    cache.put("small", b"s" * 100)
    cache.put("huge", b"h" * 20_000)
    assert cache.get("huge") == b"h" * 20_000 and cache.get("small") is None and len(cache) == 1


def test_two_threads_writing_one_key_never_mix(cache: FolderCache | RedisCache) -> None:
    """Test whether readers only ever see one writer's whole value while two threads overwrite one key."""
    values = [bytes([char]) * (2 * MB) for char in b"AB"]
    cache.put("shared", values[0])
    seen: list[bytes | None] = []
    done = threading.Event()

    def write(value: bytes) -> None:
        for _ in range(15):
            cache.put("shared", value)

    writers = [threading.Thread(target=write, args=(value,)) for value in values]
    for writer in writers:
        writer.start()
    while not done.is_set():
        seen.append(cache.get("shared"))
        if not any(writer.is_alive() for writer in writers):
            done.set()
    for writer in writers:
        writer.join()
    assert seen and all(value in values for value in seen)
    assert cache.get("shared") in values and len(cache) == 1
    if isinstance(cache, FolderCache):
        assert temp_files(cache.root) == []


WRITER = """
import sys
from pathlib import Path
from core.diskcache import FolderCache, RedisCache
kind, where, prefix, char, count = sys.argv[1:]
cache = FolderCache(Path(where), 1 << 40) if kind == "folder" else RedisCache(where, 1 << 40, prefix=prefix)
payload = char.encode() * (2 << 20)
print("ready", flush=True)
for _ in range(int(count)):
    cache.put("shared", payload)
"""


def test_two_processes_writing_one_key_never_mix(cache: FolderCache | RedisCache) -> None:
    """Test whether two processes overwriting one key leave only whole values, while this one reads."""
    old = b"O" * (2 * MB)
    cache.put("shared", old)
    if isinstance(cache, FolderCache):
        kind, where, prefix = "folder", str(cache.root), ""
    else:
        kind, where, prefix = "redis", cache.url, cache.prefix
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, kind, where, prefix, char, "15"], cwd=ROOT,
                                env=CHILD_ENVIRONMENT, stdout=subprocess.PIPE, text=True) for char in "AB"]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    seen = []
    while any(writer.poll() is None for writer in writers):
        seen.append(cache.get("shared"))
    assert [writer.wait() for writer in writers] == [0, 0]
    wholes = {old, b"A" * (2 * MB), b"B" * (2 * MB)}
    assert seen and all(value in wholes for value in seen)
    assert cache.get("shared") in (b"A" * (2 * MB), b"B" * (2 * MB))
    if isinstance(cache, FolderCache):
        assert temp_files(cache.root) == []


def test_persistent_store_round_trips_values_and_refuses_what_it_cannot_encode(cache: FolderCache | RedisCache) -> None:
    """Test whether PersistentStore keeps real results under settings keys, per namespace and version, and
    reports False (keeping nothing) for a value it cannot encode."""
    network = build_model(ModelConfig(width=4, depth=2), seed=5).eval()
    value = {"network": network, "accuracy": np.float64(0.97), "curve": np.linspace(0, 1, 11)}
    store = PersistentStore(cache, "bunnies/training", "v1")
    key = (ModelConfig(width=4, depth=2), "seed", 5)
    assert store.load(key) is None
    assert store.save(key, value) is True
    back = store.load(key)
    inputs = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(back["network"](inputs), network(inputs))  # type: ignore[index]
    assert np.array_equal(back["curve"], value["curve"])  # type: ignore[index]
    assert PersistentStore(cache, "bunnies/training", "v2").load(key) is None  # new code: not trusted
    assert PersistentStore(cache, "bunnies/maps", "v1").load(key) is None
    assert store.save("lambda", lambda: 1) is False and store.load("lambda") is None
    assert len(cache) == 1


def test_persistent_store_deletes_an_entry_it_cannot_decode(cache: FolderCache | RedisCache) -> None:
    """Test whether an intact entry that is not a persist value (checksum fine, contents foreign) is a miss
    and is deleted, so the next save can replace it."""
    store = PersistentStore(cache, "lesson/results", "v1")
    name = store.name("key")
    cache.put(name, b"a payload with a good checksum that persist did not write")
    assert store.load("key") is None and cache.get(name) is None
    assert store.save("key", [1, 2]) and store.load("key") == [1, 2]


def test_persistent_store_over_an_unreachable_redis_is_a_miss_not_an_error() -> None:
    """Test whether a Redis that does not answer makes loads misses and saves False, instead of raising into
    the page (the result is then just computed and kept in memory)."""
    unreachable = RedisCache(f"redis://127.0.0.1:{free_port()}/0", MB)  # nothing listens there
    store = PersistentStore(unreachable, "lesson/results", "v1")
    assert store.load("key") is None and store.save("key", [1]) is False


def test_persistent_store_without_a_cache_keeps_nothing() -> None:
    """Test whether NETLENS_CACHE=off (no cache) turns every load into a miss and every save into False."""
    store = PersistentStore(None, "lesson/results", "v1")
    assert store.save("key", 1) is False and store.load("key") is None


# ---------------------------------------------------------------------------------------- folder only
KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from core.diskcache import FolderCache
root, point = Path(sys.argv[1]), sys.argv[2]
cache = FolderCache(root, 1 << 40)
payload = b"N" * (24 << 20)

def announce_and_hang(*_):
    print("started", flush=True)
    time.sleep(600)

if point == "mid-write":  # the first 4 MB are on disk, the rest never comes
    real_write, calls = os.write, []
    def write(descriptor, data):
        calls.append(real_write(descriptor, data))
        if len(calls) == 1:
            announce_and_hang()
        return calls[-1]
    os.write = write
elif point == "before-rename":  # the whole temp file is written, the rename never happens
    os.fsync = announce_and_hang
else:  # unpatched, overwriting in a loop until killed wherever it happens to be
    print("started", flush=True)
    while True:
        cache.put("key", payload)
cache.put("key", payload)
"""


@pytest.mark.parametrize("point", ["mid-write", "before-rename", "anywhere"])
def test_a_writer_killed_mid_write_leaves_the_old_entry_and_a_swept_temp_file(tmp_path: Path, point: str) -> None:
    """Test whether SIGKILL of a writer leaves the key reading its complete old value (or the complete new one,
    when killed between two writes), never part of one, and whether the next open sweeps its temp file."""
    root = tmp_path / "cache"
    old, new = b"O" * (1 << 20), b"N" * (24 << 20)
    FolderCache(root, 1 << 40).put("key", old)
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(root), point], cwd=ROOT,
                              env=CHILD_ENVIRONMENT, stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "started"
    if point == "anywhere":
        time.sleep(0.5)  # let it write a few entries (the kill lands wherever it lands)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()  # reaped: its pid is gone, so its temp file counts as abandoned
    left = temp_files(root)
    if point != "anywhere":
        assert len(left) == 1 and 0 < left[0].stat().st_size  # it really was killed while writing
        if point == "mid-write":
            assert left[0].stat().st_size < HEADER_BYTES + len(new)
    value = FolderCache(root, 1 << 40).get("key")  # a later open
    assert value == old if point != "anywhere" else value in (old, new)
    assert temp_files(root) == []


def test_sweep_keeps_a_live_writers_temp_file(tmp_path: Path) -> None:
    """Test whether opening a cache removes temp files of dead writers and odd names, but not of live ones."""
    root = tmp_path / "cache"
    root.mkdir()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead = root / f".tmp-{'a' * 64}-{finished.stdout.strip()}-0000"  # that process has exited
    live = root / f".tmp-{'b' * 64}-{os.getpid()}-0000"  # this one is running
    odd = root / ".tmp-something"
    for path in (dead, live, odd):
        path.write_bytes(b"partial")
    FolderCache(root, 1000)
    assert temp_files(root) == [live]


def test_an_unreadable_entry_is_absent(tmp_path: Path) -> None:
    """Test whether an entry that cannot be read at all (a folder in its place) reads as None, no error."""
    cache = FolderCache(tmp_path / "cache", 1000)
    cache.path("key").mkdir()
    assert cache.get("key") is None


def test_content_version_follows_contents_not_times(tmp_path: Path) -> None:
    """Test whether the version changes when a file's content (or name) changes, not when only its time does,
    and is the same for a copy of the code elsewhere."""
    copy = tmp_path / "core"
    shutil.copytree(ROOT / "core", copy, ignore=shutil.ignore_patterns("__pycache__"))
    version = content_version(copy)
    assert version == content_version() and len(version) == 64  # another clone, the same version
    target = copy / "models.py"
    os.utime(target, ns=(1, 1))
    assert content_version(copy) == version
    original = target.read_bytes()
    target.write_bytes(original + b"\n# a comment\n")
    assert content_version(copy) != version
    target.write_bytes(original)
    assert content_version(copy) == version
    target.rename(copy / "models_renamed.py")
    assert content_version(copy) != version


# --------------------------------------------------------------------------------------- the environment
def test_open_cache_defaults_to_a_folder_in_the_users_cache_directory(tmp_path: Path) -> None:
    """Test whether the default is a 2048 MB folder under XDG_CACHE_HOME, or ~/.cache without it."""
    cache = open_cache({"HOME": str(tmp_path)})
    assert isinstance(cache, FolderCache) and cache.root == tmp_path / ".cache" / "netlens"
    assert cache.max_bytes == 2048 * MB
    cache = open_cache({"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert isinstance(cache, FolderCache) and cache.root == tmp_path / "xdg" / "netlens"


def test_open_cache_reads_every_setting(tmp_path: Path, redis_url: str) -> None:
    """Test whether NETLENS_CACHE, _DIR, _MB and _REDIS_URL choose the backend, folder, bound and server."""
    cache = open_cache({"NETLENS_CACHE": "folder", "NETLENS_CACHE_DIR": str(tmp_path / "here"),
                        "NETLENS_CACHE_MB": "1.5"})
    assert isinstance(cache, FolderCache) and cache.root == tmp_path / "here" and cache.max_bytes == int(1.5 * MB)
    assert open_cache({"NETLENS_CACHE": "off"}) is None
    cache = open_cache({"NETLENS_CACHE": "Redis", "NETLENS_REDIS_URL": redis_url, "NETLENS_CACHE_MB": "10"})
    assert isinstance(cache, RedisCache) and cache.max_bytes == 10 * MB
    assert cache.client.ping()


@pytest.mark.parametrize("environ", [
    {"NETLENS_CACHE": "disk"}, {"NETLENS_CACHE_MB": "lots"}, {"NETLENS_CACHE_MB": "0"}, {"NETLENS_CACHE_MB": "-5"},
    {"NETLENS_CACHE_MB": "nan"}, {"NETLENS_CACHE_MB": "inf"},
    {"NETLENS_CACHE": "redis", "NETLENS_REDIS_URL": "http://127.0.0.1:6379"},
])
def test_open_cache_refuses_bad_settings_in_one_plain_line(environ: dict[str, str], tmp_path: Path) -> None:
    """Test whether a bad setting raises ValueError naming the variable, in one line."""
    with pytest.raises(ValueError) as raised:
        open_cache({"HOME": str(tmp_path), **environ})
    message = str(raised.value)
    assert "\n" not in message and any(name in message for name in environ)


def test_redis_prefixes_keep_caches_apart(redis_url: str) -> None:
    """Test whether two caches in one Redis under different prefixes neither see nor clear each other."""
    first = RedisCache(redis_url, MB, prefix=f"first-{uuid.uuid4().hex}:")
    second = RedisCache(redis_url, MB, prefix=f"second-{uuid.uuid4().hex}:")
    first.put("key", b"one")
    second.put("key", b"two")
    first.clear()
    assert first.get("key") is None and second.get("key") == b"two" and len(second) == 1
    second.clear()

"""The result cache that outlives a server: a folder on disk (the default) or Redis (several servers, one cache).

Both backends keep bytes under string keys with one interface (`get`, `put`, `delete`, `clear`, `len`,
`total_bytes`) and the same promises: an entry is written whole or not at all, every read checks a sha256 of the
payload, and an entry that fails the check (flipped bits, truncated, empty, foreign) reads as absent and is
deleted, so the caller recomputes it. The cache is bounded in bytes: after a put, the least recently used
entries (a read counts as a use) go first, never the one just written. `PersistentStore` puts values (through
`core.persist`, no pickle) in front of either backend; `open_cache` picks the backend from the environment.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import threading
import time
from pathlib import Path
from typing import Mapping, Protocol

from core import persist

MAGIC = b"NLCACHE1"
_HEADER = struct.Struct("<8sQ32s")  # format tag, payload length, sha256 of the payload
HEADER_BYTES = _HEADER.size
MB = 1 << 20
_TEMP_PREFIX = ".tmp-"
_ENTRY_SUFFIX = ".entry"
_STALE_TEMP_SECONDS = 3600  # a temp file this old is swept even if its writer's pid is alive (pid reuse, NFS)


class Cache(Protocol):
    """What `PersistentStore` needs from a backend."""

    def get(self, key: str) -> bytes | None: ...
    def has(self, key: str) -> bool: ...
    def put(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...


def wrap(data: bytes) -> bytes:
    """`data` behind its header: tag, length, checksum."""
    return _HEADER.pack(MAGIC, len(data), hashlib.sha256(data).digest()) + data


def unwrap(entry: bytes) -> bytes | None:
    """The payload of a stored entry, or None when the entry is not exactly what `wrap` wrote."""
    if len(entry) < HEADER_BYTES:
        return None
    tag, length, checksum = _HEADER.unpack_from(entry)
    payload = entry[HEADER_BYTES:]
    if tag != MAGIC or length != len(payload) or hashlib.sha256(payload).digest() != checksum:
        return None
    return payload


class _Clock:
    """Strictly increasing wall-clock times (ns) within a process: file timestamps come from a coarse kernel
    clock, so two uses a millisecond apart would otherwise look simultaneous to the eviction order."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


_CLOCK = _Clock()


# ---------------------------------------------------------------------------------------------- the folder
class FolderCache:
    """Entries as files `<sha256 of key>.entry` in `root`, at most `max_bytes` of them (headers included)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        self.root, self.max_bytes = Path(root), int(max_bytes)
        self.root.mkdir(parents=True, exist_ok=True)
        self.sweep()

    def path(self, key: str) -> Path:
        """Where `key`'s entry lives (any string is a key; the file name is its hash)."""
        return self.root / (hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest() + _ENTRY_SUFFIX)

    def has(self, key: str) -> bool:
        """Whether an entry exists (not verified: `get` checks it), without reading it or counting a use."""
        return self.path(key).is_file()

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            with open(path, "rb") as file:
                identity = os.fstat(file.fileno()).st_ino
                entry = file.read()
        except FileNotFoundError:
            return None
        except OSError:
            entry, identity = b"", None  # unreadable: treat like corrupt
        payload = unwrap(entry)
        if payload is None:
            self._remove_if_same(path, identity)
            return None
        self._touch(path)
        return payload

    def put(self, key: str, data: bytes) -> None:
        """Write the entry to a temp file beside it, fsync, rename over the old one: readers see the old entry
        or the new one, never a mix, and a writer killed midway leaves only its temp file."""
        path = self.path(key)
        temp = self.root / f"{_TEMP_PREFIX}{path.stem}-{os.getpid()}-{secrets.token_hex(4)}"
        entry = memoryview(wrap(data))
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                written = 0
                while written < len(entry):
                    written += os.write(descriptor, entry[written : written + 4 * MB])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._sync_folder()
        self._touch(path)
        self._evict(keep=path)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every entry (and abandoned temp files; a live writer's temp file stays)."""
        for path in self._entries():
            path.unlink(missing_ok=True)
        self.sweep()

    def __len__(self) -> int:
        return len(self._entries())

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self._stats())

    def sweep(self) -> int:
        """Delete temp files left by writers that died (their process is gone, or the file is over an hour old);
        returns how many went."""
        removed = 0
        for temp in self.root.glob(_TEMP_PREFIX + "*"):
            try:
                pid = int(temp.name.rsplit("-", 2)[-2])
                stale = not _alive(pid) or time.time() - temp.stat().st_mtime > _STALE_TEMP_SECONDS
            except (ValueError, IndexError):
                stale = True  # not a name `put` makes
            except FileNotFoundError:
                continue  # renamed into place meanwhile
            if stale:
                temp.unlink(missing_ok=True)
                removed += 1
        return removed

    def _entries(self) -> list[Path]:
        return list(self.root.glob("*" + _ENTRY_SUFFIX))

    def _stats(self) -> list[tuple[Path, int, int]]:
        """(path, bytes, last use in ns) of every entry still there."""
        found = []
        for path in self._entries():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # evicted by another process meanwhile
            found.append((path, stat.st_size, stat.st_mtime_ns))
        return found

    def _evict(self, keep: Path) -> None:
        """Drop least recently used entries, except `keep`, until the folder is within its bound."""
        stats = self._stats()
        total = sum(size for _, size, _ in stats)
        for path, size, _ in sorted(stats, key=lambda stat: stat[2]):
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size

    def _touch(self, path: Path) -> None:
        """Mark a use: the modification time is the entry's last use."""
        now = _CLOCK.now()
        try:
            os.utime(path, ns=(now, now))
        except FileNotFoundError:
            pass  # evicted by another process meanwhile

    def _remove_if_same(self, path: Path, identity: int | None) -> None:
        """Delete a bad entry, unless another writer has just replaced it with a new file."""
        try:
            if identity is None or os.stat(path).st_ino == identity:
                path.unlink()
        except OSError:
            pass  # gone already, or not removable (e.g. a folder in its place): it still reads as absent

    def _sync_folder(self) -> None:
        """Make the rename itself durable (best effort: not every filesystem lets a folder be fsynced)."""
        try:
            descriptor = os.open(self.root, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        except OSError:
            pass
        finally:
            os.close(descriptor)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


# ------------------------------------------------------------------------------------------------- Redis
class RedisCache:
    """Entries as Redis strings `<prefix>entry:<key>`, their last use in the sorted set `<prefix>lru` and their
    sizes in the hash `<prefix>sizes`, at most `max_bytes` in all (headers included). Servers sharing one Redis
    share the cache; several caches can share one Redis under different prefixes."""

    def __init__(self, url: str, max_bytes: int, prefix: str = "netlens:") -> None:
        import redis  # only servers that use Redis need the client loaded

        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        self.url, self.max_bytes, self.prefix = url, int(max_bytes), prefix
        self.client = redis.Redis.from_url(url)
        self._lru, self._sizes = prefix + "lru", prefix + "sizes"

    def redis_key(self, key: str) -> str:
        """The Redis key holding `key`'s entry."""
        return f"{self.prefix}entry:{key}"

    def has(self, key: str) -> bool:
        """Whether an entry exists (not verified: `get` checks it), without reading it or counting a use."""
        return bool(self.client.exists(self.redis_key(key)))

    def get(self, key: str) -> bytes | None:
        entry = self.client.get(self.redis_key(key))
        if entry is None:
            return None
        payload = unwrap(entry)
        if payload is None:
            self.delete(key)
            return None
        self.client.zadd(self._lru, {key: self._now()})
        return payload

    def put(self, key: str, data: bytes) -> None:
        """Store the entry, its size and its use in one transaction, then evict."""
        entry = wrap(data)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.redis_key(key), entry)
            pipe.zadd(self._lru, {key: self._now()})
            pipe.hset(self._sizes, key, len(entry))
            pipe.execute()
        self._evict(keep=key)

    def delete(self, key: str) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.redis_key(key))
            pipe.zrem(self._lru, key)
            pipe.hdel(self._sizes, key)
            pipe.execute()

    def clear(self) -> None:
        """Remove every key under this cache's prefix."""
        names = list(self.client.scan_iter(match=_glob_escape(self.prefix) + "*", count=500))
        for start in range(0, len(names), 500):
            self.client.delete(*names[start : start + 500])

    def __len__(self) -> int:
        return int(self.client.hlen(self._sizes))

    @property
    def total_bytes(self) -> int:
        return sum(int(size) for size in self.client.hvals(self._sizes))

    def _evict(self, keep: str) -> None:
        """Drop least recently used entries, except `keep`, until within the bound."""
        total = self.total_bytes
        if total <= self.max_bytes:
            return
        sizes = {name.decode(): int(size) for name, size in self.client.hgetall(self._sizes).items()}
        for name in self.client.zrange(self._lru, 0, -1):
            name = name.decode()
            if total <= self.max_bytes:
                break
            if name != keep:
                total -= sizes.get(name, 0)
                self.delete(name)

    @staticmethod
    def _now() -> float:
        """Microseconds: a float64 score holds them exactly (nanoseconds since 1970 would be rounded)."""
        return float(_CLOCK.now() // 1000)


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


# -------------------------------------------------------------------------------------- choosing and using
def content_version(root: Path | None = None) -> str:
    """sha256 over the relative path and contents of every .py file under `root` (default: this `core`
    folder): the same code gives the same version on every clone and every server, whatever the files' times."""
    core = Path(root) if root is not None else Path(__file__).resolve().parent
    hasher = hashlib.sha256()
    for path in sorted(core.rglob("*.py"), key=lambda found: found.relative_to(core).as_posix()):
        name, content = path.relative_to(core).as_posix().encode(), path.read_bytes()
        hasher.update(struct.pack("<QQ", len(name), len(content)) + name + content)
    return hasher.hexdigest()


def default_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CACHE_HOME/netlens, or ~/.cache/netlens."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not base or not Path(base).is_absolute():  # the XDG spec says to ignore relative paths
        base = str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "netlens"


def open_cache(environ: Mapping[str, str] = os.environ) -> FolderCache | RedisCache | None:
    """The cache the environment asks for: NETLENS_CACHE = folder (default) | redis | off, NETLENS_CACHE_DIR,
    NETLENS_CACHE_MB (default 2048), NETLENS_REDIS_URL (default redis://127.0.0.1:6379/0)."""
    kind = environ.get("NETLENS_CACHE", "folder").strip().lower() or "folder"
    if kind not in ("folder", "redis", "off"):
        raise ValueError(f"NETLENS_CACHE must be folder, redis or off, got {environ['NETLENS_CACHE']!r}")
    if kind == "off":
        return None
    text = environ.get("NETLENS_CACHE_MB", "2048").strip()
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1.0
    if not (megabytes > 0 and megabytes * MB < 2**63):  # also refuses nan and inf
        raise ValueError(f"NETLENS_CACHE_MB must be a positive number of megabytes, got {text!r}")
    max_bytes = max(1, int(megabytes * MB))
    if kind == "redis":
        url = environ.get("NETLENS_REDIS_URL", "redis://127.0.0.1:6379/0").strip()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"NETLENS_REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}")
        try:
            return RedisCache(url, max_bytes)
        except ValueError as error:
            raise ValueError(f"NETLENS_REDIS_URL {url!r} is not usable: {error}") from None
    folder = environ.get("NETLENS_CACHE_DIR", "").strip()
    return FolderCache(Path(folder).expanduser() if folder else default_folder(environ), max_bytes)


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What a backend raises when its storage fails (full disk: RuntimeError or OSError; Redis down)."""
    errors: tuple[type[BaseException], ...] = (OSError, RuntimeError)
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return errors
    return errors + (RedisError,)


class PersistentStore:
    """Values under keys (any value `core.persist` can encode) in one namespace of a cache, for one code
    version. A failing cache never fails the caller: reads become misses, writes report False."""

    def __init__(self, cache: Cache | None, namespace: str, version: str) -> None:
        self.cache, self.namespace, self.version = cache, namespace, version
        self._errors = _storage_errors()

    def name(self, key: object) -> str:
        """The cache key of `key`."""
        return persist.digest(self.namespace, key, self.version)

    def has(self, key: object) -> bool:
        """Whether the cache holds an entry for `key` (a cheap look, no read; a damaged entry still counts)."""
        if self.cache is None:
            return False
        try:
            return self.cache.has(self.name(key))
        except persist.Unsupported:
            return False
        except self._errors:
            return False

    def load(self, key: object) -> object | None:
        """The stored value (a fresh copy), or None when absent, damaged or unreadable (damaged ones are deleted)."""
        if self.cache is None:
            return None
        try:
            name = self.name(key)
            data = self.cache.get(name)
        except persist.Unsupported:
            return None
        except self._errors:
            return None
        if data is None:
            return None
        try:
            return persist.decode(data)
        except persist.Corrupt:
            try:
                self.cache.delete(name)
            except self._errors:
                pass
            return None

    def save(self, key: object, value: object) -> bool:
        """Store `value`; False when it cannot be encoded (keep it in memory only) or the cache failed."""
        if self.cache is None:
            return False
        try:
            name, data = self.name(key), persist.encode(value)
            self.cache.put(name, data)
        except persist.Unsupported:
            return False
        except self._errors:
            return False
        return True

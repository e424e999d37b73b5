"""Real services the tests start themselves on 127.0.0.1 and a free port (Debian's packages, installed by
`sh .ci/setup test`), and stop again whatever happens."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def program(name: str) -> str:
    """The path of a Debian program (sbin included); a plain failure naming the setup command if it is missing."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/sbin"]))
    if found is None:
        pytest.fail(f"{name} is not installed, so this cannot be tested: run `sh .ci/setup test` (CI installs it)")
    return found


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A private redis-server without persistence; yields its URL once it answers."""
    import redis

    port = free_port()
    server = subprocess.Popen([program("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        for _ in range(200):  # wait until it answers (not a timed assertion: a failure below says why)
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None:
                    pytest.fail(f"redis-server exited with code {server.returncode} before answering")
                time.sleep(0.05)
        else:
            pytest.fail(f"redis-server on port {port} did not answer")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)

"""A school on this machine: Redis, two NetLens servers sharing it, and nginx (assets/deploy/nginx.conf) in front.
A lesson trained through one server is served by the other from Redis; through nginx the page works (websocket
proxied), one browser stays on one server and new browsers reach both."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from core.school import nginx_config
from tests.services import redis_server
from tests.browser.conftest import EXCEPTION, ROOT, _free_port, _wait_healthy, screenshot, settle, stop_server

pytestmark = pytest.mark.browser

LINK = "/Bunnies_and_grass?bunnies_trained=1"  # the flagship's default settings, trained
UPSTREAM = "x-netlens-upstream"
SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/sbin"])


@dataclass
class School:
    redis_url: str
    servers: dict[str, str]  # "127.0.0.1:PORT" (what nginx names) -> http://127.0.0.1:PORT
    front: str  # nginx's address
    folder: Path  # nginx's pid, logs and temporary files

    def calls(self, command: str) -> int:
        """How many `command`s Redis has run: each stored result is one SET, each one read one GET."""
        import redis

        stats = redis.Redis.from_url(self.redis_url).info("commandstats")
        return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def _program(name: str) -> str:
    found = shutil.which(name, path=SEARCH)
    if found is None:
        pytest.fail(f"{name} is not installed: run `sh .ci/setup test` (CI installs redis-server and nginx)")
    return found


def _redis(folder: Path):  # type: ignore[no-untyped-def]
    return redis_server(folder)


@contextmanager
def _netlens(redis_url: str) -> Iterator[tuple[str, str]]:
    """A fresh NetLens server whose result cache is the shared Redis; its log must hold no traceback."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "NETLENS_THREADS": "1",
             "NETLENS_CACHE": "redis", "NETLENS_REDIS_URL": redis_url})
    log = ""
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        yield f"127.0.0.1:{port}", url
    finally:
        log = stop_server(process)
    assert "Traceback" not in log, f"a NetLens server logged an error:\n{log[-4000:]}"


@contextmanager
def _nginx(backends: list[str], folder: Path) -> Iterator[str]:
    """nginx with our configuration, on a free loopback port, in the foreground, everything under `folder`."""
    import urllib.request

    listen = _free_port()
    config = folder / "nginx.conf"
    config.write_text(nginx_config(backends, listen, folder, "127.0.0.1"))
    process = subprocess.Popen([_program("nginx"), "-p", str(folder), "-c", str(config), "-e",
                                str(folder / "error.log"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{listen}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"nginx exited: {process.stderr.read().decode() if process.stderr else ''}")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def school(tmp_path: Path) -> Iterator[School]:
    """Redis, two NetLens servers on it and nginx in front; all stopped afterwards, also when a check failed."""
    with ExitStack() as stack:
        redis_url = stack.enter_context(_redis(tmp_path))
        servers = dict(stack.enter_context(_netlens(redis_url)) for _ in range(2))
        folder = tmp_path / "nginx"
        folder.mkdir()
        front = stack.enter_context(_nginx(list(servers), folder))
        yield School(redis_url, servers, front, folder)


def _trained_in(browser, url: str,  # type: ignore[no-untyped-def]
                headers: list[str] | None = None) -> tuple[str, str | None]:
    """Open the flagship's default link in a new browser; return the shown training time and its route cookie.
    With `headers`, collect the upstream header of every response."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        if headers is not None:
            page.on("response", lambda response: headers.append(response.headers.get(UPSTREAM, "(none)")))
        page.goto(url + LINK)
        page.get_by_text("Trained in").first.wait_for(timeout=180_000)
        settle(page)
        assert page.locator(EXCEPTION).count() == 0
        caption = page.get_by_text(re.compile(r"Trained in [0-9.]+ s")).first.inner_text()
        if headers is not None:
            assert page.get_by_text("Right on surprise pictures").count() >= 1
            assert page.locator('[data-testid="stImage"] img').count() >= 8  # the picture, six maps, the legend
            screenshot(page, "school_through_nginx")
        cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
        seconds = re.search(r"Trained in ([0-9.]+) s", caption).group(1)  # type: ignore[union-attr]
        return seconds, cookies.get("netlens_route")
    finally:
        context.close()


def _access_log(folder: Path, route: str, wanted: str = "/_stcore/stream") -> list[str]:
    """The access-log lines of one route, once the line for `wanted` (logged when the websocket closed) is in."""
    lines: list[str] = []
    for _ in range(100):
        lines = [line for line in (folder / "access.log").read_text().splitlines() if f"route={route} " in line]
        if any(wanted in line for line in lines):
            break
        time.sleep(0.1)
    return lines


def test_a_lesson_trained_through_one_server_is_served_by_the_other_and_through_nginx(  # type: ignore[no-untyped-def]
        school, browser) -> None:
    """Test whether the default link trains on server A; shows the same training (same stored time, and Redis
    stores nothing new) on server B; renders fully through nginx, where every response and the websocket of one
    browser come from one server; and whether twelve new browsers from this one address reach both servers."""
    url_a, url_b = school.servers.values()
    seconds_a, _ = _trained_in(browser, url_a)
    stored, read = school.calls("set"), school.calls("get")
    assert stored >= 1  # A kept its training (and report) in Redis

    seconds_b, _ = _trained_in(browser, url_b)
    assert seconds_b == seconds_a  # the time measured by A's training, read back by B
    assert school.calls("get") > read  # B read from Redis ...
    assert school.calls("set") == stored  # ... and computed nothing: a retraining would have stored its network

    headers: list[str] = []
    seconds_front, route = _trained_in(browser, school.front, headers)
    assert seconds_front == seconds_a
    assert route is not None and re.fullmatch(r"[0-9a-f]{32}", route)
    assert len(headers) >= 5 and len(set(headers)) == 1 and headers[0] in school.servers, headers
    lines = _access_log(school.folder, route)
    assert any("/_stcore/stream" in line and " 101 " in line for line in lines), lines  # the websocket, upgraded
    assert {re.search(r"upstream=(\S+)", line).group(1) for line in lines} == {headers[0]}  # type: ignore[union-attr]

    reached = []
    for _ in range(12):  # new browsers, all from 127.0.0.1 as a school behind one NAT address
        context = browser.new_context()
        try:
            response = context.new_page().goto(school.front + "/", wait_until="domcontentloaded")
            reached.append(response.headers.get(UPSTREAM) if response else None)
        finally:
            context.close()
    assert set(reached) == set(school.servers), reached

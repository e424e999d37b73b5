"""A fresh `streamlit run` server and a real headless Chromium (Debian's, not a downloaded one)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from core.runtime import SERVER_ENV

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


def start_server(cache_dir: Path | None = None) -> tuple[str, subprocess.Popen]:
    """A brand-new server: nobody has visited it yet, which is where first-visitor bugs live. Its on-disk result
    cache is a fresh, empty folder unless `cache_dir` (e.g. a restarted server's) is given."""
    cache_dir = Path(tempfile.mkdtemp(prefix="netlens-cache-")) if cache_dir is None else cache_dir
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **SERVER_ENV, "PYTHONUNBUFFERED": "1", "NETLENS_CACHE": "folder", "NETLENS_CACHE_DIR": str(cache_dir)},
    )
    _wait_healthy(url, process)
    return url, process


def stop_server(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output.decode(errors="replace") if output else ""


@pytest.fixture
def fresh_server() -> Iterator[str]:
    url, process = start_server()
    yield url
    log = stop_server(process)
    assert "Traceback" not in log, f"the server logged an error:\n{log[-4000:]}"


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save what a 1366×768 projector shows (`name.png`) and the whole page (`name_full.png`): Streamlit
    scrolls inside its own container, so the whole page needs a viewport as tall as that container."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    viewport = page.viewport_size
    height = page.evaluate("() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": min(int(height) + 50, 12000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / f"{name}_full.png"))
    page.set_viewport_size(viewport)
    return path


EXCEPTION = '[data-testid="stException"]'


IDLE = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')")


def settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app has finished running its script: no "running" widget and no element left over (stale)
    from the run before, twice half a second apart (a rerun can start just after the first look)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    for _ in range(2):
        page.wait_for_function(IDLE, timeout=120_000)
        page.wait_for_timeout(500)
    page.wait_for_function(IDLE, timeout=120_000)


@contextmanager
def fresh_page(browser, url: str) -> Iterator:  # type: ignore[no-untyped-def]
    """`url` opened in a brand-new browser context (no cookies, no session: another student's browser), settled."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto(url)
        settle(page)
        yield page
    finally:
        context.close()

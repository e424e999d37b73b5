"""Many browser sessions against one NetLens server, driven at the protocol level (`netlens load`).

A real browser costs ~150 MB and a core to render; a class of thirty of them would measure the client, not the
server. So each "student" here speaks Streamlit's own protocol: the same HTTP requests a browser makes before
connecting (the page, `/_stcore/health`, `/_stcore/host-config`, which also hand out the XSRF cookie), the same
websocket `/_stcore/stream` with the same subprotocols, and the same first `BackMsg` (a `rerun_script` carrying the
page name and the query string). It then reads the `ForwardMsg`s the page sends — exceptions, error boxes, the
training queue's "N ahead of you" — until the script run finishes. Scenarios (`same`, `own`, `mixed`, `abandon`)
reproduce the classroom measurements of issue 9; `Server` starts a fresh server (or targets one on loopback) and
reads its memory and CPU time from /proc.

Importing this module loads no Streamlit: its protobuf message classes (`streamlit.proto`, the wire format, not the
page API) are imported only while sessions are being driven.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlencode, urlsplit

from core.runtime import SERVER_ENV

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = "Bunnies_and_grass"
# Each lesson's page and the link that makes it compute its main result on open (a shared "trained" link, or a
# page that computes anyway). tests/load checks that this covers every lesson of the syllabus.
COMPUTING_LINKS: dict[str, tuple[str, dict[str, str]]] = {
    "bunnies": (FLAGSHIP, {"bunnies_trained": "1"}),
    "photo": ("Your_own_photo", {}),
    "house_prices": ("The_house-price_formula", {"house_prices_nudges": "50"}),
    "templates": ("Programs_as_templates", {}),
    "how_many_pictures": ("How_many_pictures", {"how_many_pictures_trained": "1"}),
    "splits": ("Splitting_the_data", {"splits_trained": "1"}),
    "batch_size": ("Batch_size", {"batch_size_trained": "1"}),
    "squeeze": ("Squeezing_it_onto_a_phone", {"squeeze_trained": "1"}),
    "why_it_works": ("Why_does_it_work", {"why_it_works_trained": "1"}),
    "seasoning": ("Seasoning_to_taste", {"seasoning_cooked": "1"}),
}
SCENARIOS = ("same", "own", "mixed", "abandon")
MAX_STUDENTS = 200
ABANDON_AFTER = 2.0  # seconds a tab stays open in `abandon`
IDLE_SHARE = 0.05  # "idle": under 5 % of one core...
IDLE_WINDOW = 1.0  # ...over a window of this many seconds
IDLE_CAP = 120.0  # stop watching for idleness after this long
SETTLE_SECONDS = 3.0  # after the last session leaves, before "after leaving" memory is read
QUEUE_PLACE = re.compile(r"(\d+) ahead of you")
FIGURES = frozenset({"plotly_chart", "imgs", "dataframe", "vega_lite_chart", "metric"})
TURN_AWAY = ("very busy", "try again", "no longer kept")  # warning boxes that send the user away, not lesson content


# ---------------------------------------------------------------------------------------------------- one session
@dataclass(frozen=True)
class SessionResult:
    """What one protocol-level browser session saw. `seconds`: from the first HTTP request until the script run
    finished (None if it never did); `queue_places`: the training queue's places shown, 1 = next."""

    link: str
    seconds: float | None
    timed_out: bool = False
    abandoned: bool = False
    exceptions: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    turned_away: tuple[str, ...] = ()
    queue_places: tuple[int, ...] = ()
    problem: str | None = None  # the connection itself failed, or the page was not found
    seconds_waited: float = 0.0  # until the session ended, however it ended
    elements: int = 0  # elements drawn by the run (0: nothing reached the screen)
    figures: int = 0  # charts, pictures and tables among them: a lesson's results (its text alone has few)

    @property
    def failures(self) -> tuple[str, ...]:
        """Every reason this session did not end with the page's results on screen (an abandoned tab has none)."""
        found = [f"exception: {text}" for text in self.exceptions] + [f"error box: {text}" for text in self.errors]
        found += [f"turned away: {text}" for text in self.turned_away]
        if self.problem:
            found.append(self.problem)
        if self.timed_out and not self.abandoned:
            found.append(f"timed out after {self.seconds_waited:.0f} s")
        return tuple(found)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class _Seen:
    """What has arrived so far on one session's websocket."""

    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    turned_away: list[str] = field(default_factory=list)
    queue_places: list[int] = field(default_factory=list)
    problem: str | None = None
    finished: bool = False
    elements: int = 0
    figures: int = 0


def link_of(page: str, query: Mapping[str, str]) -> str:
    """The path and query string a browser would open, e.g. `Bunnies_and_grass?bunnies_trained=1&seed=3`."""
    return page + (f"?{urlencode(dict(query))}" if query else "")


def queue_place(text: str) -> int | None:
    """The place (1 = next) in the training queue that an info box states, or None if it states none."""
    if "you are next" in text:
        return 1
    found = QUEUE_PLACE.search(text)
    return int(found.group(1)) + 1 if found else None


def _take(frame: bytes, seen: _Seen) -> None:
    """Note what one ForwardMsg shows: exceptions, error boxes, turn-away warnings, queue places, the run's end."""
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg()
    message.ParseFromString(frame)
    kind = message.WhichOneof("type")
    if kind == "script_finished":
        # An early finish for a rerun is followed by the rerun; a fragment's finish is not the page's.
        if message.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
            seen.finished = True
            if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                seen.problem = "the page's script did not compile"
    elif kind == "page_not_found":
        seen.problem, seen.finished = f"page not found: {message.page_not_found.page_name!r}", True
    elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element
        shown = element.WhichOneof("type")
        seen.elements += 1
        seen.figures += shown in FIGURES
        if shown == "exception":
            seen.exceptions.append(f"{element.exception.type}: {element.exception.message}".strip(": "))
        elif shown == "alert":
            text = element.alert.body
            if element.alert.format == Alert.ERROR:
                seen.errors.append(text)
            elif element.alert.format == Alert.WARNING and any(phrase in text.lower() for phrase in TURN_AWAY):
                seen.turned_away.append(text)
            elif element.alert.format == Alert.INFO and (place := queue_place(text)) is not None:
                if not seen.queue_places or seen.queue_places[-1] != place:
                    seen.queue_places.append(place)


async def _http_get(host: str, port: int, path: str, cookie: str | None) -> tuple[int, list[str]]:
    """One plain HTTP/1.1 GET as a browser makes it: the status and the Set-Cookie values (body read, dropped)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        headers = [f"GET /{path.lstrip('/')} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*", "Connection: close"]
        if cookie:
            headers.append(f"Cookie: {cookie}")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1]) if head and len(head[0].split()) > 1 else 0
    cookies = [line.split(":", 1)[1].strip().split(";", 1)[0] for line in head[1:]
               if line.lower().startswith("set-cookie:")]
    return status, cookies


def _rerun_message(page: str, query: Mapping[str, str]) -> bytes:
    """The first BackMsg a browser sends: run the page named in the address, with its query string."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    state = message.rerun_script
    state.query_string = urlencode(dict(query))
    state.page_script_hash = ""
    state.page_name = page
    state.context_info.timezone = "UTC"
    state.context_info.timezone_offset = 0
    state.context_info.locale = "en-US"
    state.context_info.is_embedded = False
    state.context_info.color_scheme = "light"
    return message.SerializeToString()


async def _connect(base_url: str, page: str, query: Mapping[str, str], seen: _Seen):  # type: ignore[no-untyped-def]
    """The requests a browser makes before it connects, then the websocket with the same subprotocols (the
    second carries the XSRF cookie's token) and the first BackMsg sent; None if an HTTP request failed."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin, Subprotocol

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    jar: dict[str, str] = {}
    for path in (link_of(page, query), "_stcore/health", "_stcore/host-config"):
        cookie = "; ".join(f"{name}={value}" for name, value in jar.items()) or None
        status, cookies = await _http_get(host, port, path, cookie)
        if status >= 400:
            seen.problem = f"HTTP {status} for /{path}"
            return None
        jar.update(item.split("=", 1) for item in cookies if "=" in item)
    token = jar.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")
    headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in jar.items())} if jar else None
    # No protocol-level pings (a browser sends none) and no proxy: this is loopback.
    websocket = await connect(f"ws://{host}:{port}/_stcore/stream", origin=Origin(f"http://{host}:{port}"),
                              subprotocols=[Subprotocol("streamlit"), Subprotocol(token)], additional_headers=headers,
                              max_size=None, ping_interval=None, proxy=None, open_timeout=None)
    await websocket.send(_rerun_message(page, query))
    return websocket


async def open_page_async(base_url: str, page: str, query: Mapping[str, str], timeout: float,
                          close_after: float | None = None, stay: asyncio.Event | None = None,
                          on_end: Callable[[SessionResult], None] | None = None) -> SessionResult:
    """One browser session on `base_url`/`page`?`query` (async), until its script run finishes or `timeout`
    seconds pass. With `close_after`, the tab closes that many seconds after opening (an abandoned tab). With
    `stay`, a tab whose run finished stays open until the event is set (a class that stays on the page); `on_end`
    hears the result the moment the run ends, before the tab closes."""
    seen, started = _Seen(), time.monotonic()
    websocket, timed_out = None, False
    try:
        try:
            async with asyncio.timeout(timeout):
                websocket = await _connect(base_url, page, query, seen)
                while websocket is not None and not seen.finished:
                    left = None if close_after is None else started + close_after - time.monotonic()
                    if left is not None and left <= 0:
                        break  # the tab closes
                    try:
                        frame = await asyncio.wait_for(websocket.recv(), left)
                    except TimeoutError:
                        break
                    if isinstance(frame, bytes):
                        _take(frame, seen)
        except TimeoutError:
            timed_out = True
        except Exception as error:  # noqa: BLE001 - refused, reset, closed, bad handshake: this session's problem
            seen.problem = f"connection failed: {type(error).__name__}: {error}"
        waited = time.monotonic() - started
        result = SessionResult(
            link=link_of(page, query), seconds=waited if seen.finished else None, timed_out=timed_out,
            abandoned=close_after is not None and not seen.finished and not timed_out and seen.problem is None,
            exceptions=tuple(seen.exceptions), errors=tuple(seen.errors), turned_away=tuple(seen.turned_away),
            queue_places=tuple(seen.queue_places), problem=seen.problem, seconds_waited=waited,
            elements=seen.elements, figures=seen.figures)
        if on_end is not None:
            on_end(result)
        if stay is not None and seen.finished and websocket is not None:
            await stay.wait()
        return result
    finally:
        if websocket is not None:
            await websocket.close()


def open_page(base_url: str, page: str, query: Mapping[str, str], timeout: float,
              close_after: float | None = None) -> SessionResult:
    """`open_page_async` for callers without an event loop (tests, a Python prompt)."""
    return run_coroutine(open_page_async(base_url, page, query, timeout, close_after))


def run_coroutine(coroutine):  # type: ignore[no-untyped-def]
    """`asyncio.run(coroutine)`, also where this thread already runs an event loop (a test session that has a
    Playwright browser open): then in a thread of its own, with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="netlens-load")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


# ---------------------------------------------------------------------------------------------------- the server
def check_loopback(url: str) -> str:
    """`url` without a trailing slash, if it is an http address on this machine; ValueError in one line otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback or parts.port is None:
        raise ValueError(f"--url must be http://127.0.0.1:PORT (a server on this machine), got {url!r}")
    return url.rstrip("/")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                pass
    return found


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (fields 14 and 15 of /proc/<pid>/stat, after the command name)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _listening_pid(port: int) -> int | None:
    """The process (of this user) listening on 127.0.0.1:`port`, found through its socket's inode."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            columns = row.split()
            if int(columns[1].rsplit(":", 1)[1], 16) == port and columns[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{columns[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    return int(entry.name)
            except OSError:
                continue
    return None


class Server:
    """A NetLens server for a load test: a fresh `streamlit run` on 127.0.0.1 and a free port (stopped on exit,
    also on Ctrl+C or an error), or the loopback server at `url`. Reads the server's memory and CPU from /proc."""

    def __init__(self, url: str | None = None, script: Path | str = "streamlit_app.py", cwd: Path | None = None,
                 env: Mapping[str, str] | None = None, startup_timeout: float = 90.0, warm_first: bool = True) -> None:
        self.url = check_loopback(url) if url is not None else None
        self.warm_first = warm_first  # open the home page once before the students (see `warm`)
        self.script, self.cwd = str(script), cwd or ROOT
        self.env, self.startup_timeout = dict(env or {}), startup_timeout
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None
        self._log = tempfile.TemporaryFile()

    def __enter__(self) -> Server:
        try:
            if self.url is None:
                port = _free_port()
                self.url = f"http://127.0.0.1:{port}"
                command = [sys.executable, "-m", "streamlit", "run", self.script, "--server.address", "127.0.0.1",
                           "--server.port", str(port), "--server.headless", "true",
                           "--browser.gatherUsageStats", "false"]
                self.process = subprocess.Popen(command, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                                env={**os.environ, **SERVER_ENV, "PYTHONUNBUFFERED": "1", **self.env},
                                                start_new_session=True)  # Ctrl+C reaches us, and we stop it
                self.pid = self.process.pid
            self._wait_healthy()
            if self.pid is None:
                self.pid = _listening_pid(urlsplit(self.url).port or 0)
            elif self.warm_first:
                warm(self.url)  # as `netlens app` does: the class arrives at a server that has started
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}:\n{self.log()[-2000:]}")
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"no server answered at {self.url}/_stcore/health within {self.startup_timeout:.0f} s")

    def stop(self) -> None:
        """Stop the server this object started (its whole process group); a targeted server is left running."""
        if self.process is None or self.process.poll() is not None:
            return
        for sent, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sent)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log(self) -> str:
        """What the started server printed so far ("" for a targeted one)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def peak_mb(self) -> float | None:
        """Peak resident memory since the server started (VmHWM, summed over its processes: an upper bound when
        it has children), MB."""
        return None if self.pid is None else sum(_status_kb(pid, "VmHWM") for pid in _descendants(self.pid)) / 1024

    def rss_mb(self) -> float | None:
        """Resident memory now (VmRSS over its processes), MB."""
        return None if self.pid is None else sum(_status_kb(pid, "VmRSS") for pid in _descendants(self.pid)) / 1024

    def cpu_seconds(self) -> float | None:
        """CPU time used so far (utime + stime over its processes), seconds."""
        return None if self.pid is None else sum(_cpu_seconds(pid) for pid in _descendants(self.pid))


def warm(url: str, timeout: float = 300.0) -> SessionResult:
    """Open the home page once, as the server's first visitor: it imports every lesson and every module a page may
    import lazily, and starts the kernels' warm-up, so that real first visitors (a class arriving at once) neither
    wait for that nor race on it. What `netlens app` does right after its server answers (issue 9)."""
    return open_page(url, "", {}, timeout=timeout)


def warm_when_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait until the server started as `process` answers at `url`, then `warm` it (quietly: a failure here only
    means the first visitor pays for the imports)."""
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    warm(url)
                    return
        except OSError:
            time.sleep(0.3)


# ---------------------------------------------------------------------------------------------------- scenarios
Plan = tuple[str, dict[str, str], float | None]  # (page, query, close after seconds or None)


def plans(scenario: str, students: int, seed_base: int = 0) -> list[Plan]:
    """The sessions of a scenario: `same` one flagship link and seed for all; `own` the flagship link with a seed
    each; `mixed` round-robin over every lesson's computing link; `abandon` own seeds (from `seed_base`, so a
    server that already trained them is not asked again), each tab closed after ABANDON_AFTER seconds."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if not 1 <= students <= MAX_STUDENTS:
        raise ValueError(f"--students must be from 1 to {MAX_STUDENTS}, got {students}")
    trained = {"bunnies_trained": "1"}
    if scenario == "same":
        return [(FLAGSHIP, {**trained, "seed": "0"}, None)] * students
    if scenario == "own":
        return [(FLAGSHIP, {**trained, "seed": str(index + 1)}, None) for index in range(students)]
    if scenario == "abandon":
        return [(FLAGSHIP, {**trained, "seed": str(seed_base + index)}, ABANDON_AFTER) for index in range(students)]
    links = list(COMPUTING_LINKS.values())
    return [(*links[index % len(links)], None) for index in range(students)]


def percentile(values: list[float], share: float) -> float | None:
    """The `share` quantile (0..1) of `values` with linear interpolation between ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LoadReport:
    """One scenario's outcome. Page seconds are of the sessions whose run finished; `failures` counts sessions
    with any failure (exception, error box, turned away, timed out, connection problem). Memory in MB: `peak_mb`
    is VmHWM since the server started, `peak_seen_mb` the largest RSS sampled during this run, `after_mb` the RSS
    SETTLE_SECONDS after the last session left. Abandon only: `busy_cores`, the server's CPU use (in cores) while
    the tabs were open (was there work to stop?); `idle_after`, seconds from the last tab closing until the server
    used under IDLE_SHARE of a core over IDLE_WINDOW (None if not idle within `idle_cap`)."""

    scenario: str
    students: int
    url: str
    fresh_server: bool
    wall_seconds: float
    p50: float | None
    p95: float | None
    max: float | None
    finished: int
    failures: int
    failure_messages: tuple[str, ...]
    largest_queue_place: int
    told_place: int
    peak_mb: float | None
    peak_seen_mb: float | None
    after_mb: float | None
    busy_cores: float | None
    idle_after: float | None
    idle_cap: float | None
    sessions: tuple[SessionResult, ...] = ()

    def as_json(self) -> dict:
        """Plain JSON-ready data, each session with its failures spelled out."""
        data = dataclasses.asdict(self)
        data["sessions"] = [{**dataclasses.asdict(each), "failures": list(each.failures)} for each in self.sessions]
        return data


async def _watch_memory(server: Server, peak: list[float], stop: asyncio.Event) -> None:
    """Sample the server's RSS every half second until `stop`, keeping the largest in `peak[0]`."""
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss_mb() or 0.0)
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


async def _idle_after(server: Server, cap: float, since: float | None = None) -> float | None:
    """Seconds from `since` (default: now) until the server's CPU use over some IDLE_WINDOW falls under IDLE_SHARE
    of a core (sampled every 0.1 s, sliding window); None if that does not happen within `cap` seconds."""
    start = time.monotonic() if since is None else since
    samples: list[tuple[float, float]] = []
    while True:
        now, used = time.monotonic(), server.cpu_seconds()
        if used is None:
            return None
        samples.append((now, used))
        for then, before in samples:
            if now - then < IDLE_WINDOW:
                break
            if now - then <= IDLE_WINDOW + 0.15 and used - before < IDLE_SHARE * (now - then):
                return max(0.0, then - start)
        samples = [(then, before) for then, before in samples if now - then <= IDLE_WINDOW + 0.15]
        if now - start > cap:
            return None
        await asyncio.sleep(0.1)


async def _drive(server: Server, scenario: str, session_plans: list[Plan], deadline: float,
                 on_session: Callable[[int, int, SessionResult], None] | None) -> LoadReport:
    """Open every planned session at once (tabs stay open until the last run ends, then the class leaves), then
    measure memory after leaving and, for `abandon`, the server's CPU while the tabs were open and after."""
    started = time.monotonic()
    stay, stop_watching, peak = asyncio.Event(), asyncio.Event(), [0.0]
    watcher = asyncio.ensure_future(_watch_memory(server, peak, stop_watching))
    done: list[SessionResult] = []

    def ended(result: SessionResult) -> None:
        done.append(result)
        if on_session is not None:
            on_session(len(done), len(session_plans), result)
        if len(done) == len(session_plans):
            stay.set()  # everyone has their page: the class leaves together

    try:
        busy = None
        if scenario == "abandon":  # a class opens a server that is already up: imports done, warm-up finished
            await open_page_async(server.url or "", FLAGSHIP, {}, max(1.0, deadline - time.monotonic()))
            await _idle_after(server, max(1.0, min(IDLE_CAP, deadline - time.monotonic())))
            opened, used = time.monotonic(), server.cpu_seconds() or 0.0
        results = await asyncio.gather(*(
            open_page_async(server.url or "", page, query, max(1.0, deadline - time.monotonic()), close_after,
                            stay, ended) for page, query, close_after in session_plans))
        idle = cap = None
        if scenario == "abandon":
            busy = ((server.cpu_seconds() or 0.0) - used) / max(1e-9, time.monotonic() - opened)
            cap = max(1.0, min(IDLE_CAP, deadline - time.monotonic()))
            idle = await _idle_after(server, cap, since=opened + ABANDON_AFTER)  # when the tabs began to close
        await asyncio.sleep(max(0.0, min(SETTLE_SECONDS, deadline - time.monotonic())))
        after = server.rss_mb()
    finally:
        stop_watching.set()
        await watcher
    times = [result.seconds for result in results if result.seconds is not None]
    failed = [result for result in results if not result.ok]
    places = [place for result in results for place in result.queue_places]
    return LoadReport(
        scenario=scenario, students=len(session_plans), url=server.url or "", fresh_server=server.process is not None,
        wall_seconds=time.monotonic() - started, p50=percentile(times, 0.5), p95=percentile(times, 0.95),
        max=max(times) if times else None, finished=len(times), failures=len(failed),
        failure_messages=tuple(f"{result.link}: {result.failures[0]}" for result in failed[:5]),
        largest_queue_place=max(places, default=0), told_place=sum(1 for result in results if result.queue_places),
        peak_mb=server.peak_mb(), peak_seen_mb=peak[0] or None, after_mb=after, busy_cores=busy, idle_after=idle,
        idle_cap=cap,
        sessions=tuple(results))


def run_load(scenario: str, students: int, url: str | None = None, timeout: float = 900.0,
             env: Mapping[str, str] | None = None,
             on_session: Callable[[int, int, SessionResult], None] | None = None) -> LoadReport:
    """Run one scenario with `students` sessions opened at once against a fresh server (or the loopback server at
    `url`), everything bounded by `timeout` seconds; `env` adds to the fresh server's environment."""
    session_plans = plans(scenario, students, seed_base=500_000 + int(time.time()) % 400_000)
    if timeout <= 0:
        raise ValueError(f"--timeout must be positive, got {timeout}")
    deadline = time.monotonic() + timeout
    with Server(url, env=env) as server:
        return run_coroutine(_drive(server, scenario, session_plans, deadline, on_session))


def _number(value: float | None, unit: str, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f} {unit}"


def report_text(report: LoadReport) -> str:
    """The report in a few plain lines."""
    server = "a fresh server" if report.fresh_server else report.url
    drawing = sum(1 for session in report.sessions if session.abandoned and session.elements)
    lines = [
        f"{report.scenario}: {report.students} students on {server}, {report.wall_seconds:.0f} s in all",
        f"  page time: p50 {_number(report.p50, 's')}, p95 {_number(report.p95, 's')}, max {_number(report.max, 's')}"
        f" ({report.finished} of {report.students} runs finished)" if report.scenario != "abandon" else
        f"  tabs: {report.students} closed {ABANDON_AFTER:g} s after opening, {drawing} of them with the page drawing",
        f"  failures: {report.failures}" + "".join(f"\n    {message}" for message in report.failure_messages),
        f"  queue: largest place shown {report.largest_queue_place or '—'}; "
        f"{report.told_place} of {report.students} sessions were told their place",
        f"  memory: peak {_number(report.peak_mb, 'MB', 0)} (since the server started), "
        f"{_number(report.peak_seen_mb, 'MB', 0)} seen during the run, {_number(report.after_mb, 'MB', 0)} "
        f"{SETTLE_SECONDS:.0f} s after everyone left",
    ]
    if report.scenario == "abandon":
        idle = (f"{report.idle_after:.1f} s" if report.idle_after is not None
                else f"not within {report.idle_cap:.0f} s")
        lines.append(f"  while the tabs were open the server used {report.busy_cores or 0:.2f} cores; idle after "
                     f"they closed: {idle} (under {IDLE_SHARE:.0%} of a core over {IDLE_WINDOW:g} s)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- command line
def _progress(done: int, total: int, result: SessionResult) -> None:
    """One stderr line per finished session (stdout stays clean for --json)."""
    if result.abandoned:
        state = f"left after {result.seconds_waited:.1f} s"
    elif result.ok:
        state = f"{result.seconds:.1f} s"
    else:
        state = "FAILED: " + result.failures[0]
    place = f", queue place {max(result.queue_places)}" if result.queue_places else ""
    print(f"[{done}/{total}] {result.link}: {state}{place}", file=sys.stderr, flush=True)


def add_load_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `netlens load` on the `netlens` command's subparsers."""
    command = subparsers.add_parser("load", help="drive many browser sessions at once against a server (a class)")
    command.add_argument("--students", type=int, default=30, help=f"sessions opened at once (1..{MAX_STUDENTS})")
    command.add_argument("--scenario", choices=SCENARIOS, default="same",
                         help="same: one link; own: a seed each; mixed: every lesson; abandon: tabs closed after 2 s")
    command.add_argument("--url", default=None,
                         help="target this server (http://127.0.0.1:PORT) instead of a fresh one")
    command.add_argument("--timeout", type=float, default=900.0, help="seconds the whole run may take (default 900)")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=load_command)
    return command


def load_command(args: argparse.Namespace) -> int:
    """`netlens load`: run the scenario, print the report; 1 if any session failed, 130 if interrupted (Ctrl+C or
    SIGTERM: the server it started is stopped either way)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        report = run_load(args.scenario, args.students, url=args.url, timeout=args.timeout, on_session=_progress)
    except KeyboardInterrupt:
        print("netlens: load test interrupted; its server was stopped", file=sys.stderr)
        return 130
    print(json.dumps(report.as_json(), indent=2) if args.json else report_text(report))
    return 1 if report.failures else 0

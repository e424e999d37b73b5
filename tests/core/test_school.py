"""Tests for core.school: the nginx configuration is one nginx accepts, names every backend once, refuses bad input
in one line, and really keeps a browser on one server (by its cookie) while spreading new browsers over all."""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from core.cli import _Parser
from core.school import add_school_command, nginx_config

NGINX = shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin") or ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_check(config: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on `config`, written to `folder`/nginx.conf (the error log given up front, so that nginx never
    touches /var/log)."""
    if not NGINX:
        pytest.fail("nginx is not installed, so its configuration cannot be checked: run `sh .ci/setup test`")
    (folder / "nginx.conf").write_text(config)
    return subprocess.run([NGINX, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf"),
                           "-e", str(folder / "error.log")], capture_output=True, text=True, timeout=30)


def test_the_rendered_configuration_passes_nginx_t(tmp_path: Path) -> None:
    """Test whether nginx itself accepts the configuration for three kinds of backend address."""
    config = nginx_config(["127.0.0.1:8501", "localhost:8501", "[::1]:8502"], 8080, tmp_path, "127.0.0.1")
    checked = nginx_check(config, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_every_placeholder_is_filled_and_every_backend_named_once(tmp_path: Path) -> None:
    """Test whether the backends, listen address and folder land in the directives (not only in comments), and
    whether the sticky-session machinery is there and ip_hash is not."""
    config = nginx_config([" 10.0.0.7:8501", "10.0.0.8:8501"], 9000, tmp_path)
    directives = [line.strip() for line in config.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert not any("{{" in line for line in directives)
    servers = [line for line in directives if line.startswith("server ") and ":" in line]
    assert servers == ["server 10.0.0.7:8501 max_fails=2 fail_timeout=10s;",
                       "server 10.0.0.8:8501 max_fails=2 fail_timeout=10s;"]
    assert "listen 0.0.0.0:9000;" in directives
    assert f"pid {tmp_path.resolve()}/nginx.pid;" in directives
    assert "hash $netlens_route consistent;" in directives
    assert not any(line.startswith("ip_hash") for line in directives)


@pytest.mark.parametrize(("backends", "listen", "message"), [
    ([], 8080, "at least one backend"),
    (["127.0.0.1"], 8080, "HOST:PORT"),
    (["127.0.0.1:0"], 8080, "1–65535"),
    (["127.0.0.1:65536"], 8080, "1–65535"),
    (["127.0.0.1:http"], 8080, "port number"),
    (["300.1.1.1:8501"], 8080, "not an IPv4 address"),
    (["[::g]:8501"], 8080, "not an IPv6 address"),
    (["bad host:8501"], 8080, "not a host name"),
    (["a;b:8501"], 8080, "not a host name"),
    (["127.0.0.1:8501", "127.0.0.1:8501"], 8080, "listed twice"),
    (["127.0.0.1:8501"], 0, "the listen port"),
    (["127.0.0.1:8501"], 70000, "the listen port"),
])
def test_bad_input_is_refused_in_one_line(tmp_path: Path, backends: list[str], listen: int, message: str) -> None:
    """Test whether each kind of bad backend or port raises ValueError with one line that says what is wrong."""
    with pytest.raises(ValueError) as caught:
        nginx_config(backends, listen, tmp_path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_folder_nginx_would_misread_is_refused(tmp_path: Path) -> None:
    """Test whether a folder with a space or a semicolon (nginx reads paths unquoted) is refused in one line."""
    for name in ("with space", "semi;colon"):
        with pytest.raises(ValueError, match="unquoted"):
            nginx_config(["127.0.0.1:8501"], 8080, tmp_path / name)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="netlens")
    add_school_command(parser.add_subparsers(dest="command", required=True))
    return parser


def test_the_command_prints_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Test whether `netlens nginx-config` prints what nginx_config returns for the same flags."""
    args = _parser().parse_args(["nginx-config", "--backend", "127.0.0.1:8501", "--backend", "127.0.0.1:8502",
                                 "--listen", "8080", "--folder", str(tmp_path), "--address", "127.0.0.1"])
    assert args.run(args) == 0
    assert capsys.readouterr().out == nginx_config(["127.0.0.1:8501", "127.0.0.1:8502"], 8080, tmp_path,
                                                   "127.0.0.1")


# ------------------------------------------------------------------ stickiness, with nginx in front of two stubs
class _Named(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        body = self.server.server_address[1].to_bytes(4, "big")  # type: ignore[union-attr]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def school_of_stubs(folder: Path, count: int = 2) -> Iterator[tuple[str, list[int]]]:
    """nginx (our configuration) in front of `count` stub servers that answer with their own port."""
    stubs = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Named) for _ in range(count)]
    threads = [threading.Thread(target=stub.serve_forever, daemon=True) for stub in stubs]
    for thread in threads:
        thread.start()
    ports = [stub.server_address[1] for stub in stubs]
    listen = free_port()
    (folder / "nginx.conf").write_text(nginx_config([f"127.0.0.1:{port}" for port in ports], listen, folder,
                                                    "127.0.0.1"))
    nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e",
                              str(folder / "error.log"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{listen}/"
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if nginx.poll() is not None:
                    pytest.fail(f"nginx exited: {nginx.stderr.read().decode() if nginx.stderr else ''}")
                time.sleep(0.05)
        yield url, ports
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        for stub in stubs:
            stub.shutdown()
            stub.server_close()


def _get(url: str, cookie: str | None = None) -> tuple[int, str, str | None]:
    """(port of the stub that answered, the X-NetLens-Upstream header, the Set-Cookie header)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int.from_bytes(response.read(), "big"), response.headers["X-NetLens-Upstream"], \
            response.headers["Set-Cookie"]


def test_a_browser_stays_on_its_server_and_new_browsers_reach_every_server(tmp_path: Path) -> None:
    """Test whether a first visit gets a route cookie, every request carrying it reaches the same server (named
    by the upstream header), no cookie is set again, and 24 new visitors from one address (a school's NAT)
    are spread over both servers."""
    if not NGINX:
        pytest.fail("nginx is not installed: run `sh .ci/setup test`")
    with school_of_stubs(tmp_path) as (url, ports):
        first, header, set_cookie = _get(url)
        assert set_cookie is not None and set_cookie.startswith("netlens_route=")
        assert header == f"127.0.0.1:{first}"
        cookie = set_cookie.split(";")[0]
        again = [_get(url + "_stcore/health", cookie) for _ in range(20)]
        assert {port for port, _, _ in again} == {first}
        assert {header for _, header, _ in again} == {f"127.0.0.1:{first}"}
        assert {set_cookie for _, _, set_cookie in again} == {None}
        newcomers = {_get(url)[0] for _ in range(24)}  # all from 127.0.0.1: ip_hash would pick one server
        assert newcomers == set(ports)


# ---------------------------------------------------------------------- `netlens school` on this machine
SCHOOL = ("import sys; from core.cli import _Parser; from core.school import add_school_command\n"
          "parser = _Parser(prog='netlens'); add_school_command(parser.add_subparsers(dest='command'))\n"
          "args = parser.parse_args(sys.argv[1:]); sys.exit(args.run(args))\n")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_the_school_command_serves_through_nginx_and_stops_everything(tmp_path: Path) -> None:
    """Test whether `netlens school --servers 2` answers through nginx from both servers, and whether stopping it
    stops Redis, both servers and nginx and removes its folder."""
    if not NGINX:
        pytest.fail("nginx is not installed: run `sh .ci/setup test`")
    listen = free_port()
    school = subprocess.Popen([sys.executable, "-c", SCHOOL, "school", "--servers", "2", "--listen", str(listen)],
                              cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    children: list[int] = []
    folder = tmp_path / "never named"
    try:
        line = school.stdout.readline() if school.stdout else ""
        assert "Ctrl+C stops everything" in line, line
        children = _children(school.pid)
        assert len(children) == 4  # redis-server, two servers, nginx
        folder = Path(re.search(r"nginx logs in (\S+)\.", line).group(1))  # type: ignore[union-attr]
        assert folder.is_dir()
        reached = {_get(f"http://127.0.0.1:{listen}/_stcore/health")[1] for _ in range(24)}
        assert reached == set(re.search(r"-> ([^;]+);", line).group(1).split(", "))  # type: ignore[union-attr]
    finally:
        school.terminate()
        try:
            school.wait(timeout=60)
        except subprocess.TimeoutExpired:  # the school failed to stop them: stop what it started, then it
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            school.kill()
            school.wait()
    assert school.returncode == 0
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []
    assert not folder.exists()

"""A school on several servers: the nginx configuration that puts identical NetLens servers behind one address
with sticky sessions (`netlens nginx-config`, from the template in assets/deploy/nginx.conf), and `netlens school`,
which starts Redis, the servers and nginx on this machine to try it."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from core.runtime import SERVER_ENV

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "assets" / "deploy" / "nginx.conf"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # one part of a host name (RFC 1123)
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# nginx reads these paths unquoted: a space, `;`, `{`, `}`, a quote, `$` or `#` would change the configuration
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/+,=@~-]+")


def check_port(port: object, what: str) -> int:
    """`port` as an int in 1–65535; anything else is refused in one line."""
    if isinstance(port, bool) or not isinstance(port, int):
        try:
            port = int(str(port).strip(), 10)
        except ValueError:
            raise ValueError(f"{what} must be a port number 1–65535, got {port!r}") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{what} must be a port number 1–65535, got {port}")
    return port


def check_host(host: str, what: str) -> str:
    """A hostname, an IPv4 address or a bracketed IPv6 address, as nginx writes it."""
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise ValueError(f"{what}: {host!r} is not an IPv6 address") from None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise ValueError(f"{what}: {host!r} is not an IPv4 address") from None
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        raise ValueError(f"{what}: {host!r} is not a host name or address (e.g. 127.0.0.1, school-pc-2 or [::1])")
    return host


def check_backend(text: str) -> str:
    """`HOST:PORT` of one NetLens server, normalised (`localhost:8501`, `10.0.0.7:8501`, `[::1]:8501`)."""
    text = str(text).strip()
    host, colon, port = text.rpartition(":")
    if not colon or not host:
        raise ValueError(f"a backend is HOST:PORT (e.g. 127.0.0.1:8501), got {text!r}")
    return f"{check_host(host, 'backend ' + repr(text))}:{check_port(port, f'the port of backend {text!r}')}"


def check_folder(folder: Path) -> Path:
    """The absolute folder for nginx's pid, logs and temporary files; refused if nginx would misread it."""
    resolved = Path(folder).expanduser().resolve()
    if not _SAFE_PATH.fullmatch(str(resolved)):
        raise ValueError(f"the folder {str(resolved)!r} must use only letters, digits and . _ / + , = @ ~ - "
                         "(nginx reads it unquoted)")
    return resolved


def nginx_config(backends: list[str], listen: int, folder: Path, address: str = "0.0.0.0") -> str:
    """The nginx configuration for `backends` (HOST:PORT each) behind `address:listen`, writing its pid, logs and
    temporary files under `folder`. Bad input raises ValueError with one plain line."""
    if isinstance(backends, str):
        backends = [backends]
    checked = [check_backend(backend) for backend in backends]
    if not checked:
        raise ValueError("at least one backend (a NetLens server's HOST:PORT) is needed")
    repeated = sorted({backend for backend in checked if checked.count(backend) > 1})
    if repeated:  # a server listed twice would get twice the students
        raise ValueError(f"backend {repeated[0]} is listed twice")
    where = f"{check_host(address, 'the listen address')}:{check_port(listen, 'the listen port')}"
    # nginx's max_fails: a backend that fails twice within 10 s gets no requests for the next 10 s
    servers = "\n".join(f"        server {backend} max_fails=2 fail_timeout=10s;" for backend in checked)
    return fill(TEMPLATE.read_text(encoding="utf-8"),
                {"backends": servers, "listen": where, "folder": str(check_folder(folder))})


def fill(template: str, values: dict[str, str]) -> str:
    """`template` with each `{{name}}` outside comments replaced (the comments at its top document them)."""
    lines = template.splitlines(keepends=True)
    for name, value in values.items():
        marker = "{{" + name + "}}"
        if not any(marker in line and not line.lstrip().startswith("#") for line in lines):
            raise RuntimeError(f"the nginx template has lost its {marker} placeholder")
        lines = [line if line.lstrip().startswith("#") else line.replace(marker, value) for line in lines]
    return "".join(lines)


def _print_config(args: argparse.Namespace) -> int:
    """`netlens nginx-config`: the filled configuration on standard output."""
    print(nginx_config(args.backend or [], args.listen, args.folder, args.address), end="")
    return 0


# ------------------------------------------------------------- `netlens school`: the whole school on this machine
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _program(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/sbin"]))
    if found is None:
        raise ValueError(f"{name} is not installed (Debian: apt-get install {name.split('-')[0]})")
    return found


def _wait_until(answers: object, process: subprocess.Popen[bytes], what: str, timeout: float = 60.0) -> None:
    """Poll `answers()` until it is true; the process dying or the time running out is one plain line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ValueError(f"{what} exited with code {process.returncode} before answering")
        try:
            if answers():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise ValueError(f"{what} did not answer within {timeout:.0f} s")


def _answers_http(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


def _answers_redis(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(16).startswith(b"+PONG")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # `kill` (SIGTERM) stops the school as tidily as Ctrl+C


def _run_school(args: argparse.Namespace) -> int:
    """`netlens school --servers N --listen PORT`: Redis, N servers and nginx on 127.0.0.1 until Ctrl+C (or until
    one of them stops), for trying the deployment on one machine; everything it started is stopped."""
    if not 1 <= args.servers <= 8:
        raise ValueError(f"--servers must be 1–8 on one machine, got {args.servers}")
    check_port(args.listen, "the listen port")
    signal.signal(signal.SIGTERM, _interrupt)
    folder = Path(tempfile.mkdtemp(prefix="netlens-school-"))
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        redis_port = _free_port()
        redis = subprocess.Popen([_program("redis-server"), "--port", str(redis_port), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--dir", str(folder)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        started.append(("redis-server", redis))
        _wait_until(lambda: _answers_redis(redis_port), redis, "redis-server")
        environment = {**os.environ, **SERVER_ENV, "NETLENS_CACHE": "redis", "NETLENS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                       "NETLENS_THREADS": os.environ.get("NETLENS_THREADS", "1")}
        backends = []
        for number in range(1, args.servers + 1):
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.address", "127.0.0.1",
                 "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            started.append((f"NetLens server {number}", server))
            _wait_until(lambda: _answers_http(f"http://127.0.0.1:{port}/_stcore/health"), server,
                        f"NetLens server {number}")
            backends.append(f"127.0.0.1:{port}")
        (folder / "nginx.conf").write_text(nginx_config(backends, args.listen, folder, "127.0.0.1"))
        nginx = subprocess.Popen([_program("nginx"), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e",
                                  str(folder / "error.log"), "-g", "daemon off;"])
        started.append(("nginx", nginx))
        _wait_until(lambda: _answers_http(f"http://127.0.0.1:{args.listen}/_stcore/health"), nginx, "nginx")
        print(f"NetLens school: http://127.0.0.1:{args.listen}/ -> {', '.join(backends)}; Redis on port "
              f"{redis_port}; nginx logs in {folder}. Ctrl+C stops everything.", flush=True)
        while all(process.poll() is None for _, process in started):
            time.sleep(0.5)
        stopped = next(name for name, process in started if process.poll() is not None)
        print(f"{stopped} stopped, so the school stops too", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for _, process in reversed(started):  # nginx first, Redis last
            if process.poll() is None:
                process.terminate()
        for _, process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def add_school_command(subparsers: argparse._SubParsersAction) -> None:
    """Register `netlens nginx-config --backend HOST:PORT [--backend ...] --listen PORT [--folder DIR]` and
    `netlens school --servers N --listen PORT`."""
    command = subparsers.add_parser(
        "nginx-config", help="print an nginx configuration that puts several NetLens servers behind one address "
                             "with sticky sessions (a school on several servers)")
    command.add_argument("--backend", action="append", metavar="HOST:PORT",
                         help="a NetLens server (repeat for each one)")
    command.add_argument("--listen", type=int, required=True, metavar="PORT", help="the port students connect to")
    command.add_argument("--address", default="0.0.0.0",
                         help="the address nginx listens on (default 0.0.0.0: every network card)")
    command.add_argument("--folder", type=Path, default=Path("netlens-nginx"),
                         help="where nginx keeps its pid, logs and temporary files (default ./netlens-nginx)")
    command.set_defaults(run=_print_config)

    school = subparsers.add_parser(
        "school", help="try a school on this machine: Redis, N NetLens servers and nginx, all on 127.0.0.1, "
                       "until Ctrl+C")
    school.add_argument("--servers", type=int, default=2, help="how many NetLens servers (default 2)")
    school.add_argument("--listen", type=int, required=True, metavar="PORT", help="nginx's port on 127.0.0.1")
    school.set_defaults(run=_run_school)

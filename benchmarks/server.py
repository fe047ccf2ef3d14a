"""The real HTTP stack for benchmarks: gunicorn serving ``directory.wsgi`` on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_workers() -> int:
    """gunicorn's recommended worker count: 2 × usable cores + 1."""
    return 2 * len(os.sched_getaffinity(0)) + 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningServer:
    """A started gunicorn: its base URL, its master's process id and its log file."""

    base_url: str
    pid: int
    log: Path


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int,
    log: Path,
    worker_class: str = "sync",
    threads: int = 1,
    config: Path | None = None,
    extra: list[str] | None = None,
    ready_path: str = "/",
    startup_timeout: float = 60.0,
) -> Iterator[RunningServer]:
    """Run gunicorn with ``directory.wsgi`` on 127.0.0.1 and a free port; stop it on exit.

    Inputs: the full process environment ``env`` (settings are read from it), the
    worker count, class and threads, a gunicorn ``config`` file (the flags given here
    override it), ``extra`` gunicorn flags, the error ``log`` path, and ``ready_path``, fetched
    until it answers without a 5xx to decide the server is up. Yields a
    :class:`RunningServer`. Raises ``RuntimeError`` with the log's tail when gunicorn
    exits or does not answer within ``startup_timeout`` seconds. On exit the master gets
    SIGTERM (graceful stop of the workers), then SIGKILL after 20 s.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "directory.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--chdir",
        str(REPO_ROOT),
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
        # gunicorn's control socket sits at one path per user account by default, shared
        # with any other gunicorn running; a benchmark has no use for it.
        "--no-control-socket",
    ]
    if config is not None:
        command[3:3] = ["--config", str(config)]
    command += extra or []
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process.pid, log)
    try:
        _wait_until_ready(process, server.base_url + ready_path, log, startup_timeout)
        yield server
    finally:
        stop_process(process)


def _wait_until_ready(process: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen) -> None:
    """Stop a server the benchmark started: SIGTERM, then SIGKILL after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def granian(
    env: dict[str, str],
    *,
    workers: int,
    log: Path,
    threads: int = 1,
    ready_path: str = "/",
    startup_timeout: float = 60.0,
) -> Iterator[RunningServer]:
    """Run the web process as deployed with ``WEB_SERVER=granian`` (``python -m
    directory.webserver``: Granian, its access log and request clean-up) on 127.0.0.1 and
    a free port; stop it on exit.

    Inputs: as :func:`gunicorn`; ``threads`` is Granian's blocking threads per worker (the
    threads that run the application). The access log goes to /dev/null, formatted as in
    production, as the gunicorn runs' does. Yields a :class:`RunningServer`. Raises
    ``RuntimeError`` with the log's tail when the server exits or does not answer within
    ``startup_timeout`` seconds.
    """
    port = free_port()
    server_env = {
        **env,
        "WEB_SERVER": "granian",
        "GRANIAN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GRANIAN_BLOCKING_THREADS": str(threads),
        "GRANIAN_ACCESS_LOG": "/dev/null",
    }
    command = [sys.executable, "-m", "directory.webserver"]
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, env=server_env, cwd=REPO_ROOT, stdout=sink, stderr=sink)
    server = RunningServer(f"http://127.0.0.1:{port}", process.pid, log)
    try:
        _wait_until_ready(process, server.base_url + ready_path, log, startup_timeout)
        yield server
    finally:
        stop_process(process)

"""gunicorn, run with the project's configuration, lets the over-long requests through to
Django, which answers them with problem documents instead of gunicorn's HTML pages."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    port = _free_port()
    env = {
        **os.environ,
        "WORLDBOOK_VAR_DIR": str(tmp_path_factory.mktemp("gunicorn")),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "DEBUG": "false",
        "SECRET_KEY": "gunicorn-limits-test-key-" + "x" * 40,
        "NUMBER_HASH_KEYS": "1:gunicorn-limits-test-number-key",
        "DJANGO_SETTINGS_MODULE": "directory.settings",
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _send(port, _get("/api/not-here"))  # answered once a worker has booted
            break
        except (OSError, IndexError, ValueError):
            if process.poll() is not None:
                pytest.fail("gunicorn stopped while starting")
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail("gunicorn did not start within 60 s")
    yield port
    process.terminate()
    process.wait(timeout=30)


def _send(port: int, request: bytes, source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    """One request on a connection of its own (``Connection: close``) from the loopback
    address ``source``: status, headers (lower-case names), body."""
    with socket.create_connection(
        ("127.0.0.1", port), timeout=30, source_address=(source, 0)
    ) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _get(target: str, extra: str = "") -> bytes:
    return (f"GET {target} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n").encode(
        "latin-1"
    )


def _assert_problem(answer, status: int, slug: str) -> None:
    code, headers, body = answer
    assert code == status, body[:300]
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"].endswith("/" + slug)


def test_a_long_request_line_gets_a_414_problem(gunicorn):
    _assert_problem(
        _send(gunicorn, _get("/api/v1/resolve?handle=" + "a" * 8050)), 414, "uri-too-long"
    )


def test_a_long_header_gets_a_431_problem(gunicorn):
    answer = _send(gunicorn, _get("/api/v1/resolve?handle=@x", "X-Long: " + "b" * 9000 + "\r\n"))
    _assert_problem(answer, 431, "header-fields-too-large")


def test_many_headers_get_a_431_problem(gunicorn):
    fields = "".join(f"X-Field-{n}: 1\r\n" for n in range(150))
    _assert_problem(
        _send(gunicorn, _get("/api/v1/resolve?handle=@x", fields)), 431, "header-fields-too-large"
    )


def test_a_host_not_served_gets_a_400_problem(gunicorn):
    request = (
        b"GET /api/v1/resolve?handle=@x HTTP/1.0\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    )
    _assert_problem(_send(gunicorn, request), 400, "host-not-served")

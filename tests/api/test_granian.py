"""Granian as the web server (``WEB_SERVER=granian``, directory.webserver), against gunicorn.

Both servers are started the way production starts them, ``python -m directory.webserver``,
on the test database and free loopback ports, and asked the same questions over raw
sockets: resolve answers (a fast-path hit and a 404) must be the same bytes, connections
are kept alive, a trusted proxy's ``X-Forwarded-Proto`` counts and an untrusted client's
does not, the access log holds no phone number, and over-long requests get problem
documents from Django's edge.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from directory import services
from tests.api.conftest import UserFactory, claim, reach
from tests.api.test_gunicorn_limits import _send
from tests.e2e.test_worker import database_url

ROOT = Path(__file__).resolve().parent.parent.parent
DOMAIN = "worldbook.example"
# Connections from this loopback address come from "the proxy"; from 127.0.0.1, a client.
PROXY = "127.0.0.2"

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(target: str, extra: str = "", host: str = DOMAIN) -> bytes:
    return f"GET {target} HTTP/1.0\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode(
        "latin-1"
    )


@contextmanager
def _server(kind: str, env: dict, log: Path) -> Iterator[int]:
    port = _free_port()
    with open(log, "ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "directory.webserver"],
            cwd=ROOT,
            env={**env, "WEB_SERVER": kind, "PORT": str(port)},
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _send(port, _get("/api/not-here"))  # answered once a worker has loaded Django
                break
            except (OSError, IndexError, ValueError):
                if process.poll() is not None:
                    pytest.fail(f"{kind} stopped while starting:\n{log.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"{kind} did not start within 60 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict]:
    """``{"granian": port, "gunicorn": port, "access_log": path}``: both servers on the test
    database, with ``SECURE_SSL_REDIRECT`` on and :data:`PROXY` trusted."""
    from django.db import connection

    folder = tmp_path_factory.mktemp("webservers")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "WORLDBOOK_VAR_DIR": str(folder),
        "HOST": "127.0.0.1",
        "SITE_URL": f"https://{DOMAIN}",
        "WORLDBOOK_DOMAIN": DOMAIN,
        "ALLOWED_HOSTS": f"127.0.0.1,{DOMAIN}",
        "FORWARDED_ALLOW_IPS": PROXY,
        "SECURE_SSL_REDIRECT": "true",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "GRANIAN_BLOCKING_THREADS": "2",
        "GRANIAN_ACCESS_LOG": str(folder / "access.log"),
        "DEBUG": "false",
        "SECRET_KEY": "webserver-test-key-" + "x" * 40,
        "NUMBER_HASH_KEYS": "1:webserver-test-number-key",
        "DJANGO_SETTINGS_MODULE": "directory.settings",
        "HTTP_X_PLANTED": "z" * 9000,
    }
    with (
        _server("granian", env, folder / "granian.log") as granian,
        _server("gunicorn", env, folder / "gunicorn.log") as gunicorn,
    ):
        yield {"granian": granian, "gunicorn": gunicorn, "access_log": folder / "access.log"}


@pytest.fixture
def handle(transactional_db) -> str:
    """A fresh entry's handle (new for each test: the servers' answer cache outlives it),
    letters only: a run of seven digits would be redacted from the access log as a number."""
    name = "h" + uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
    entry = services.entry_create(nickname="Alice", handle=name, owner=UserFactory())
    claim(entry, "fediverse", f"@{name}@social.example")
    reach(entry, "sip:alice@sip.example.org")
    return "@" + name


HTTPS = "X-Forwarded-Proto: https\r\n"
VARYING = {"date", "server", "connection", "keep-alive"}


def _comparable(answer):
    status, headers, body = answer
    headers = {k: v for k, v in headers.items() if k not in VARYING}
    if "content-security-policy" in headers:
        # Its directives come in an order that changes from one process to the next.
        headers["content-security-policy"] = sorted(headers["content-security-policy"].split("; "))
    return status, headers, body


def test_resolve_answers_are_the_same_bytes_as_gunicorns(servers, handle):
    for target in (f"/api/v1/resolve?handle={handle}", "/api/v1/resolve?handle=@nobody-here"):
        answers = {}
        for kind in ("granian", "gunicorn"):
            # The first teaches the fast path, the rest are its own answers.
            answers[kind] = [
                _comparable(_send(servers[kind], _get(target, HTTPS), source=PROXY))
                for _ in range(3)
            ]
        assert answers["granian"] == answers["gunicorn"]
        assert answers["granian"][0] == answers["granian"][2]
    assert answers["granian"][2][0] == 404
    hit = _send(servers["granian"], _get(f"/api/v1/resolve?handle={handle}", HTTPS), PROXY)
    assert hit[0] == 200 and json.loads(hit[2])["entry"]["handle"] == handle


def test_an_untrusted_clients_forwarded_proto_is_not_https(servers, handle):
    target = f"/api/v1/resolve?handle={handle}"
    for kind in ("granian", "gunicorn"):
        port = servers[kind]
        # The proxy's requests teach the fast path the HTTPS answer and are answered.
        assert [_send(port, _get(target, HTTPS), PROXY)[0] for _ in range(2)] == [200, 200]
        # A client saying the same is still on plain HTTP: redirected, like any other.
        status, headers, _ = _send(port, _get(target, HTTPS))
        assert status == 301, kind
        assert headers["location"].startswith(f"https://{DOMAIN}/api/v1/resolve")
        # And the proxy saying "http" is redirected too.
        assert _send(port, _get(target, "X-Forwarded-Proto: http\r\n"), PROXY)[0] == 301


def test_connections_are_kept_alive(servers, handle):
    request = (
        f"GET /api/v1/resolve?handle={handle} HTTP/1.1\r\nHost: {DOMAIN}\r\n{HTTPS}\r\n"
    ).encode()
    with socket.create_connection(
        ("127.0.0.1", servers["granian"]), timeout=30, source_address=(PROXY, 0)
    ) as connection:
        reader = connection.makefile("rb")
        for _ in range(3):
            connection.sendall(request)
            status = reader.readline()
            assert status.startswith(b"HTTP/1.1 200 "), status
            length = None
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert json.loads(reader.read(length))["entry"]["handle"] == handle


def test_the_access_log_holds_no_phone_number(servers, handle):
    number = "+15551234567"
    _send(servers["granian"], _get("/api/v1/numbers/%2B15551234567", HTTPS), PROXY)
    _send(servers["granian"], _get(f"/api/v1/numbers/{number}?x=15551234567", HTTPS), PROXY)
    target = f"/api/v1/resolve?handle={handle}"
    for _ in range(3):  # through Django, then the fast path's own answers
        _send(servers["granian"], _get(target, HTTPS + "User-Agent: probe/1\r\n"), PROXY)
    deadline = time.monotonic() + 30
    while True:
        lines = servers["access_log"].read_text().splitlines()
        numbers = [line for line in lines if "/api/v1/numbers/" in line]
        resolves = [line for line in lines if handle in line]
        if len(numbers) >= 2 and len(resolves) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(numbers) == 2 and len(resolves) == 3, lines[-10:]
    assert not any("5551234567" in line for line in numbers)
    assert all("[number]" in line for line in numbers)
    for line in resolves:
        # gunicorn's format: address "request line" status size "user agent" duration
        # (Granian names HTTP/1.0 "HTTP/1".)
        assert line.startswith(f'{PROXY} "GET {target} HTTP/1')
        assert line.split()[4] == "200"
        assert line.split()[6] == '"probe/1"' and line.endswith("us")
        assert int(line.split()[5]) > 0


def test_the_process_environment_is_not_in_the_request(servers):
    # Granian copies the server's environment into every environ; the server was started
    # with HTTP_X_PLANTED, 9000 bytes long, which Django's edge would count as an over-long
    # header field (431) if it reached the request.
    status, _, body = _send(servers["granian"], _get("/api/not-here", HTTPS), PROXY)
    assert status == 404, body[:300]


def _assert_problem(answer, status: int, slug: str) -> None:
    code, headers, body = answer
    assert code == status, body[:300]
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"].endswith("/" + slug)


@pytest.mark.parametrize("kind", ["granian", "gunicorn"])
def test_a_long_request_target_gets_a_414_problem(servers, kind):
    answer = _send(servers[kind], _get("/api/v1/resolve?handle=" + "a" * 8050, HTTPS), PROXY)
    _assert_problem(answer, 414, "uri-too-long")


def test_granian_reads_a_10_kb_request_target_and_a_70_kb_header(servers):
    port = servers["granian"]
    target = "/api/v1/resolve?handle=" + "a" * 10_000
    _assert_problem(_send(port, _get(target, HTTPS), PROXY), 414, "uri-too-long")
    long = "X-Long: " + "b" * 70_000 + "\r\n"
    answer = _send(port, _get("/api/v1/resolve?handle=@x", HTTPS + long), PROXY)
    _assert_problem(answer, 431, "header-fields-too-large")


def test_too_many_header_fields_are_refused_with_431(servers):
    fields = "".join(f"X-Field-{n}: 1\r\n" for n in range(200))
    # Granian's HTTP parser (hyper) reads at most 100 fields and refuses more itself:
    # the status is right, but there is no problem document (no Python runs).
    request = _get("/api/v1/resolve?handle=@x", HTTPS + fields)
    status, _, body = _send(servers["granian"], request, PROXY)
    assert status == 431 and body == b""
    # gunicorn lets them through to Django's edge.
    answer = _send(servers["gunicorn"], request, PROXY)
    _assert_problem(answer, 431, "header-fields-too-large")

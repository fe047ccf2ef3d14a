"""schemathesis over the whole OpenAPI schema, against the real server.

gunicorn serves Worldbook (the project's gunicorn configuration, DEBUG off) on a free
loopback port, on the test database (PostgreSQL) and Redis. schemathesis reads
``/api/schema/`` from it and runs every operation with ``--checks all``, twice and side by
side: with no credentials at all, and with an OAuth2 bearer token (authorization code with
PKCE) that acts for a person who owns an entry, with every scope. Together the two runs
send at least ``MIN_REQUESTS`` requests; every check must pass and no answer may be a 5xx.
The requests are counted in the server's own access log, and the 5xx among them too. The
one narrowing of a check, and why, is in ``schemathesis.toml`` beside this file.

Run it alone with ``python -m pytest tests/api/test_schemathesis.py``;
``SCHEMATHESIS_MAX_EXAMPLES`` changes the number of examples per operation and phase,
``SCHEMATHESIS_SEED`` the seed (fixed, so a failure can be replayed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from benchmarks.server import free_port, gunicorn
from conftest import redis_url
from tests.api.conftest import EntryFactory, UserFactory, claim, reach
from tests.e2e.test_worker import database_url
from tests.oauth.conftest import register, user_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MIN_REQUESTS = 5000
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261203")
# Every rate the server counts, raised far above what the runs send: a fuzzer that meets
# 429 on every request after the first few hundred tests nothing behind the throttle. The
# throttles themselves are tested in tests/api/test_throttle_concurrency.py and
# tests/oauth/test_quotas.py.
THROTTLES = (
    "ANON USER RESOLVE SEARCH RESOLVE_IP SEARCH_IP DISCOVER DISCOVER_IP HANDLE_CHECK "
    "NUMBERS NUMBERS_IP NUMBER_SEND NUMBER_SEND_IP PUBLIC REPORT VERIFY"
).split()
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


@pytest.fixture
def server(tmp_path, redis_url_for_server):
    """gunicorn with ``deploy/gunicorn.conf.py`` on the test database; yields its base URL
    and the path of its access log."""
    from django.db import connection

    var_dir = tmp_path / "var"
    var_dir.mkdir()
    access_log = tmp_path / "access.log"
    dead_port = str(free_port())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "directory.settings",
        "WORLDBOOK_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url_for_server,
        "DEBUG": "false",
        # The test process's key: the tokens it issued are checked by the server.
        "SECRET_KEY": settings.SECRET_KEY,
        "NUMBER_HASH_KEYS": "1:schemathesis-test-number-hash-key",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESS_LOG": str(access_log),
        # Tasks go to a queue no worker reads (dropped afterwards): a verification check
        # the fuzzer asks for is never carried out, so nothing leaves the machine. The
        # resolvers and APIs a check would use point at a closed loopback port besides.
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_BROKER_URL": redis_url_for_server,
        "CELERY_TASK_DEFAULT_QUEUE": f"worldbook-schemathesis-{uuid.uuid4().hex[:12]}",
        "VERIFICATION_DNS_NAMESERVERS": "127.0.0.1",
        "VERIFICATION_DNS_PORT": dead_port,
        "VERIFICATION_HTTPS_PORT": dead_port,
        "VERIFICATION_GITHUB_API_URL": f"http://127.0.0.1:{dead_port}",
        "VERIFICATION_PLC_DIRECTORY_URL": f"http://127.0.0.1:{dead_port}",
        "BASIC_AUTH_PER_IP": "1000000/min",
        "BASIC_AUTH_FAILURES_PER_IP": "1000000/min",
        **{f"THROTTLE_{name}": "1000000/min" for name in THROTTLES},
    }
    for name in ("FORWARDED_ALLOW_IPS", "SITE_URL", "ALLOWED_HOSTS"):
        env.pop(name, None)
    with gunicorn(
        env,
        workers=2,
        threads=4,
        worker_class="gthread",
        log=tmp_path / "error.log",
        config=ROOT / "deploy" / "gunicorn.conf.py",
        ready_path="/api/schema/",
    ) as running:
        try:
            yield running.base_url, access_log
        finally:
            _drop_queue(redis_url_for_server, env["CELERY_TASK_DEFAULT_QUEUE"])


@pytest.fixture
def redis_url_for_server() -> str:
    url = redis_url()
    assert url is not None  # the redis mark skips (or, under CI, fails) the test before
    return url


def _drop_queue(url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.delete(queue, *client.keys(f"*{queue}*"))
    finally:
        client.close()


@pytest.fixture
def bearer_token(db) -> str:
    """An access token for Alice's entry, with every scope, from the real authorization
    and token endpoints (authorization code with PKCE S256), issued in this process on
    the database the server reads."""
    alice = UserFactory(username="alice")
    entry = EntryFactory(handle="alice", nickname="Alice Liddell", owner=alice)
    reach(entry, "sip:alice@alice.example", audience="everyone")
    reach(entry, "xmpp:alice@alice.example", audience="contacts")
    claim(entry, "email", "alice@example.org", verified=False)
    bob = EntryFactory(handle="bob", nickname="Bob Okafor", owner=UserFactory(username="bob"))
    claim(bob, "github", "bob-builds")
    reach(bob, "mailto:bob@example.org", audience="everyone")
    app = register(UserFactory(username="dave"), "authorization-code", client_type="public")
    token = user_token(alice, app, scope="lookup contacts:read entry:write")
    return token["access_token"]


def _start(base_url: str, report_dir: Path, *extra: str) -> subprocess.Popen:
    """Start ``schemathesis run`` over the server's schema, its output in ``report_dir``."""
    report_dir.mkdir()
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "--no-color",
        "run", f"{base_url}/api/schema/",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", SEED,
        # One worker: with two threads, hypothesis's parsing of lambda sources trips
        # CPython 3.11.7's "AST constructor recursion depth mismatch" (fixed in 3.11.8).
        # The two runs go side by side instead, one process each.
        "--workers", "1",
        "--generation-database", "none",
        "--report", "json", "--report-dir", str(report_dir),
        "--request-timeout", "30",
        *extra,
    ]  # fmt: skip
    with (report_dir / "output.txt").open("w") as output:
        return subprocess.Popen(command, cwd=report_dir, stdout=output, stderr=subprocess.STDOUT)


def _report(run: subprocess.Popen, report_dir: Path) -> dict:
    """Wait for ``run``; its JSON report, once every check of it passed."""
    try:
        run.wait(timeout=1200)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    output = (report_dir / "output.txt").read_text(errors="replace")
    reports = sorted(report_dir.glob("*.json"))
    assert reports, f"schemathesis wrote no report:\n{output[-20000:]}"
    report = json.loads(reports[-1].read_text())
    assert report["failures"] == [] and report["errors"] == [], output[-20000:]
    assert run.returncode == 0, output[-20000:]
    return report


def _answers(access_log: Path) -> Counter:
    """Status codes of the API requests in the access log (the schema fetch left out)."""
    statuses: Counter = Counter()
    for line in access_log.read_text(errors="replace").splitlines():
        found = ACCESS_LINE.search(line)
        if found and found["target"].startswith("/api/v1/"):
            statuses[int(found["status"])] += 1
    return statuses


def test_schemathesis_finds_nothing_anonymous_or_with_a_token(server, bearer_token, tmp_path):
    base_url, access_log = server

    # No credentials at all: nor the Basic credentials schemathesis would otherwise make up
    # (each costs a deliberate password hash and can only be refused).
    anonymous_run = _start(
        base_url, tmp_path / "anonymous", "--generation-with-security-parameters", "false"
    )
    token_run = _start(
        base_url, tmp_path / "token", "--header", f"Authorization: Bearer {bearer_token}"
    )
    try:
        anonymous = _report(anonymous_run, tmp_path / "anonymous")
        with_token = _report(token_run, tmp_path / "token")
    finally:
        for run in (anonymous_run, token_run):
            if run.poll() is None:
                run.kill()
                run.wait()

    statuses = _answers(access_log)
    total = sum(statuses.values())
    print(
        f"schemathesis: {total} API requests "
        f"({anonymous['test_cases']['generated']} + {with_token['test_cases']['generated']} "
        f"test cases), statuses {dict(sorted(statuses.items()))}"
    )
    assert total >= MIN_REQUESTS, statuses
    assert not [code for code in statuses if code >= 500], statuses
    # The token was used: operations only its person may call answered 2xx.
    assert any(200 <= code < 300 for code in statuses), statuses

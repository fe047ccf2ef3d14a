"""Throttles count exactly under concurrency.

gunicorn (two worker processes of four threads) serves Worldbook with its throttle
counters in a Redis server of this test's own. Sixteen clients send 650 anonymous
requests at once from one address against a limit of 600: exactly 600 are answered and
exactly 50 refused with 429, whichever of the two paths counts them (DRF's throttle on
search, the fast path's pipelined script on resolve). Counting is one Lua script per
request in Redis (accounts/throttling.py), so no two requests can both take the last
place of a window.

The limit is 600 per hour rather than per minute: the same counting, with a window a
busy machine cannot outlast while it sends the 650 requests.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings

from benchmarks.server import gunicorn
from tests.e2e.test_worker import database_url
from tests.redis_server import REDIS_SERVER, RedisServer

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db,
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
]

LIMIT = 600
REQUESTS = 650
CLIENTS = 16
GENEROUS = "1000000/hour"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(tmp_path, redis_server):
    """gunicorn on the test database, its cache and counters in ``redis_server``; only
    the per-address limit of callers who are no one (``anon``) is low."""
    from django.db import connection

    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "directory.settings",
        "WORLDBOOK_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_server.url(),
        "CELERY_BROKER_URL": redis_server.url(1),
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "NUMBER_HASH_KEYS": "1:throttle-test-number-hash-key",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "THROTTLE_ANON": f"{LIMIT}/hour",
        **{
            f"THROTTLE_{name}": GENEROUS
            for name in ("RESOLVE", "RESOLVE_IP", "SEARCH", "SEARCH_IP", "PUBLIC")
        },
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    with gunicorn(
        env,
        workers=2,
        threads=4,
        worker_class="gthread",
        log=tmp_path / "error.log",
        # A page, not an API view: the readiness probes must not count against ``anon``.
        ready_path="/",
    ) as running:
        yield running.base_url


def _burst(url: str, params: dict[str, str]) -> Counter:
    """``REQUESTS`` GETs of ``url`` from ``CLIENTS`` threads at once; the statuses."""
    numbers = itertools.count()
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            start.wait()
            while next(numbers) < REQUESTS:
                status = http.get(url, params=params).status_code
                with lock:
                    statuses[status] += 1

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client) for _ in range(CLIENTS)]:
            future.result()
    return statuses


@pytest.mark.parametrize(
    ("path", "params", "answered"),
    [
        ("/api/v1/search", {"q": "nobody"}, 200),
        ("/api/v1/resolve", {"handle": "@nobody"}, 404),
    ],
    ids=["search", "resolve-fast-path"],
)
def test_exactly_the_limit_passes_under_16_concurrent_clients(server, path, params, answered):
    statuses = _burst(server + path, params)

    assert statuses == {answered: LIMIT, 429: REQUESTS - LIMIT}, statuses

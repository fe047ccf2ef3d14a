"""With Redis stopped, lookups, search, pages and writes still answer (never 500); the
throttles count per process, refuse past their rate, and use Redis again once it is back.

Each test starts its own redis-server on a spare port and kills it mid-test.
"""

from __future__ import annotations

import base64
import logging

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from rest_framework.test import APIClient

from directory import services
from directory.fastpath import ResolveFastPath
from directory.models import Entry
from tests.api.conftest import PASSWORD, UserFactory, claim, reach
from tests.api.test_fast_path import call
from tests.faults.conftest import wait_for
from tests.sites import DOMAIN, SITE_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

OUTAGE_LOGGER = "directory.cache.outage"


@pytest.fixture
def rates():
    """Every throttle generous, so that only the rate a test lowers refuses."""
    from rest_framework.throttling import SimpleRateThrottle

    saved = dict(SimpleRateThrottle.THROTTLE_RATES)
    SimpleRateThrottle.THROTTLE_RATES.update(
        {scope: "1000000/min" for scope in SimpleRateThrottle.THROTTLE_RATES}
    )
    yield SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES.clear()
    SimpleRateThrottle.THROTTLE_RATES.update(saved)


@pytest.fixture
def alice(settings, redis_cache, rates):
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = UserFactory(username="alice")
    entry = services.entry_create(nickname="Alice", handle="alice", owner=owner)
    claim(entry, "fediverse", "@alice@social.example")
    reach(entry, "sip:alice@sip.example.org")
    return entry


def _lookups(client) -> dict[str, int]:
    return {
        "resolve": client.get("/api/v1/resolve", {"handle": "@alice"}).status_code,
        "resolve missing": client.get("/api/v1/resolve", {"handle": "@nobody"}).status_code,
        "entry": client.get("/api/v1/entries/alice").status_code,
        "search": client.get("/api/v1/search", {"q": "alice"}).status_code,
        "search page": client.get("/search", {"q": "alice"}).status_code,
        "entry page": client.get("/@alice").status_code,
        "webfinger": client.get(
            "/.well-known/webfinger", {"resource": f"acct:alice@{DOMAIN}"}
        ).status_code,
        "home": client.get("/").status_code,
    }


EXPECTED = {
    "resolve": 200,
    "resolve missing": 404,
    "entry": 200,
    "search": 200,
    "search page": 200,
    "entry page": 200,
    "webfinger": 200,
    "home": 200,
}


def test_lookups_search_and_pages_answer_with_redis_stopped(alice, redis_cache, caplog):
    client = Client(raise_request_exception=False)
    assert _lookups(client) == EXPECTED  # fills the answer cache

    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger=OUTAGE_LOGGER):
        assert _lookups(client) == EXPECTED
        assert _lookups(client) == EXPECTED
    outage_lines = [r for r in caplog.records if r.name == OUTAGE_LOGGER]
    assert len(outage_lines) == 1, "the outage is logged once, not per request"
    assert "Redis unreachable" in outage_lines[0].getMessage()


def test_answers_with_redis_stopped_are_the_database_s_not_stale(alice, redis_cache):
    client = Client(raise_request_exception=False)
    assert client.get("/api/v1/resolve", {"handle": "@alice"}).json()["entry"]["nickname"] == (
        "Alice"
    )
    redis_cache.stop()
    services.entry_update(entry=Entry.objects.get(pk=alice.pk), nickname="Alicia")
    answer = client.get("/api/v1/resolve", {"handle": "@alice"})
    assert answer.status_code == 200
    assert answer.json()["entry"]["nickname"] == "Alicia"


def test_writes_succeed_with_redis_stopped(alice, redis_cache):
    redis_cache.stop()
    client = APIClient(raise_request_exception=False)
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    changed = client.patch("/api/v1/entries/alice", {"nickname": "Alicia"}, format="json")
    assert changed.status_code == 200, changed.content
    created = APIClient(raise_request_exception=False)
    UserFactory(username="bea")
    bea = base64.b64encode(f"bea:{PASSWORD}".encode()).decode()
    created.credentials(HTTP_AUTHORIZATION=f"Basic {bea}")
    made = created.post("/api/v1/entries", {"nickname": "Bea", "handle": "bea"}, format="json")
    assert made.status_code == 201, made.content
    assert Entry.objects.get(pk=alice.pk).nickname == "Alicia"
    found = client.get("/api/v1/search", {"q": "bea"})
    assert found.status_code == 200
    assert [hit["handle"] for hit in found.json()["results"]] == ["@bea"]


def test_a_write_redis_missed_is_seen_once_it_answers_again(settings, alice, closed_port):
    """Redis keeps the answers cached before this process lost it; the write made
    meanwhile could not replace their tokens, so the process starts a new epoch before it
    uses the cache again."""
    client = Client(raise_request_exception=False)
    fast = ResolveFastPath(WSGIHandler())
    for _ in range(2):
        assert b'"Alice"' in call(fast)[2]  # cached, then a hit
    reachable = settings.CACHES
    # The same cache, seen from a process that cannot reach Redis (a closed port).
    settings.CACHES = {
        "default": {**reachable["default"], "LOCATION": f"redis://127.0.0.1:{closed_port}/0"}
    }
    services.entry_update(entry=Entry.objects.get(pk=alice.pk), nickname="Alicia")
    settings.CACHES = reachable
    assert b'"Alicia"' in call(fast)[2]
    assert client.get("/api/v1/resolve", {"handle": "@alice"}).json()["entry"]["nickname"] == (
        "Alicia"
    )
    assert b'"Alicia"' in call(fast)[2]


def test_the_fast_path_answers_through_django_with_redis_stopped(alice, redis_cache):
    fast = ResolveFastPath(WSGIHandler())
    assert call(fast)[0] == "200 OK"
    assert call(fast)[0] == "200 OK"  # a hit, from Redis
    redis_cache.stop()
    assert call(fast)[0] == "200 OK"
    assert call(fast, "@nobody")[0] == "404 Not Found"
    assert b'"Alice"' in call(fast)[2]


def test_the_fast_path_reconnects_and_reloads_its_script_after_a_redis_restart(
    alice, redis_cache, caplog
):
    from django.core.signals import request_started

    fast = ResolveFastPath(WSGIHandler())
    call(fast)
    assert call(fast)[0] == "200 OK"  # the fast path's connection and script are in place
    redis_cache.stop()
    redis_cache.start()  # an empty Redis: the connection is gone, the script forgotten
    seen = []

    def through_django(**kwargs):
        seen.append(1)

    request_started.connect(through_django)
    try:
        with caplog.at_level(logging.WARNING, logger=OUTAGE_LOGGER):
            assert b'"Alice"' in call(fast)[2]  # a miss: Django fills the empty cache
            before = len(seen)
            assert b'"Alice"' in call(fast)[2]
            assert len(seen) == before, "the fast path did not answer after the restart"
    finally:
        request_started.disconnect(through_django)
    assert not [r for r in caplog.records if r.name == OUTAGE_LOGGER]


def test_throttles_refuse_per_process_while_redis_is_down_and_recover(
    alice, redis_cache, rates, caplog
):
    rates["resolve"] = "3/min"
    client = APIClient(raise_request_exception=False)

    def resolve() -> int:
        return client.get("/api/v1/resolve", {"handle": "@alice"}).status_code

    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger=OUTAGE_LOGGER):
        assert [resolve() for _ in range(4)] == [200, 200, 200, 429]
        refused = client.get("/api/v1/resolve", {"handle": "@alice"})
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) >= 1
        # The fast path counts against the same per-process limiter.
        fast = ResolveFastPath(WSGIHandler())
        assert call(fast)[0] == "429 Too Many Requests"

        redis_cache.start()  # an empty Redis: its counters start afresh
        wait_for(lambda: resolve() == 200, what="the throttles to count on Redis again")
    messages = [r.getMessage() for r in caplog.records if r.name == OUTAGE_LOGGER]
    assert len(messages) == 2, messages
    assert "Redis answers again" in messages[1]
    # Back on Redis: three more requests are allowed there (one was counted above).
    assert [resolve() for _ in range(3)] == [200, 200, 429]


def test_page_rate_limits_refuse_per_process_while_redis_is_down(settings, alice, redis_cache):
    settings.PUBLIC_RATE_LIMIT = "2/m"
    client = Client(raise_request_exception=False)
    redis_cache.stop()
    assert [client.get("/@alice").status_code for _ in range(3)] == [200, 200, 429]


def test_a_proof_is_answered_and_verifies_with_redis_stopped(alice, redis_cache, settings):
    from transparency import services as log_services
    from transparency.verifier import note
    from transparency.verifier.cli import verify_answer
    from transparency.verifier.note import Verifier

    signing_key, verifier_key = note.generate_key("worldbook.example/log")
    settings.TRANSPARENCY_SIGNING_KEY = signing_key
    reach(alice, "xmpp:alice@chat.example.org")  # a record under this log's key
    while log_services.log_integrate() is not None:
        pass
    client = APIClient()
    kept = client.get("/api/v1/resolve", {"handle": "@alice", "proof": "1"}).json()
    redis_cache.stop()
    answer = client.get("/api/v1/resolve", {"handle": "@alice", "proof": "1"})
    assert answer.status_code == 200
    assert answer.json()["proof"] == kept["proof"]  # the record and path from the database
    verify_answer(answer.json(), Verifier.from_key(verifier_key))

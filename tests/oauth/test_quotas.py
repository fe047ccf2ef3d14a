"""Quotas on resolve and search, counted in the real Redis: per calling app (or account,
or address for anonymous callers) and per address whoever calls from it."""

from __future__ import annotations

import uuid

import pytest
import redis
from rest_framework.throttling import SimpleRateThrottle

from conftest import redis_url
from tests.api.conftest import assert_problem
from tests.oauth.conftest import bearer, client_credentials_token, register

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

LOOKUPS = [("/api/v1/resolve", {"handle": "@alice"}), ("/api/v1/search", {"q": "alice"})]
GENEROUS = "1000/min"


@pytest.fixture
def redis_cache(settings):
    """The Django cache on the real Redis, under a key prefix no other test uses; the
    prefix's keys are removed afterwards."""
    url = redis_url()
    prefix = f"quota-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(url)
    yield server, prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


@pytest.fixture
def rates(monkeypatch):
    def set_rates(**chosen: str) -> None:
        for scope, rate in chosen.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


@pytest.mark.parametrize(("url", "params"), LOOKUPS)
def test_it_counts_each_app_on_its_own(redis_cache, rates, dave, alice, url, params):
    server, prefix = redis_cache
    scope = url.rsplit("/", 1)[1]
    rates(**{scope: "2/min", f"{scope}_ip": GENEROUS})
    first = register(dave, "client-credentials")
    second = register(dave, "client-credentials")
    as_first = bearer(client_credentials_token(first))
    as_second = bearer(client_credentials_token(second))

    assert as_first.get(url, params).status_code == 200
    assert as_first.get(url, params).status_code == 200
    limited = as_first.get(url, params)

    assert_problem(limited, 429, "rate-limited")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert as_second.get(url, params).status_code == 200
    keys = {key.decode() for key in server.scan_iter(f"{prefix}:*")}
    assert any(key.endswith(f"throttle_{scope}_app-{first.app.pk}") for key in keys), keys


@pytest.mark.parametrize(("url", "params"), LOOKUPS)
def test_it_counts_every_caller_from_one_address_together(
    redis_cache, rates, dave, alice, client, url, params
):
    scope = url.rsplit("/", 1)[1]
    rates(**{scope: GENEROUS, f"{scope}_ip": "3/min"})
    as_app = bearer(client_credentials_token(register(dave, "client-credentials")))

    assert as_app.get(url, params).status_code == 200
    assert as_app.get(url, params).status_code == 200
    assert client.get(url, params).status_code == 200

    assert_problem(client.get(url, params), 429, "rate-limited")
    assert_problem(as_app.get(url, params), 429, "rate-limited")
    assert as_app.get(url, params, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_it_counts_a_signed_in_person_apart_from_their_address(
    redis_cache, rates, bob, alice, client
):
    rates(resolve="1/min", resolve_ip=GENEROUS)
    client.force_login(bob)

    assert client.get(*LOOKUPS[0]).status_code == 200
    assert client.get(*LOOKUPS[0]).status_code == 429
    client.logout()
    assert client.get(*LOOKUPS[0]).status_code == 200


def test_it_counts_an_app_as_itself_not_as_an_anonymous_address(
    redis_cache, rates, dave, alice, client
):
    rates(anon="1/min", user="2/min")
    first = bearer(client_credentials_token(register(dave, "client-credentials")))
    second = bearer(client_credentials_token(register(dave, "client-credentials")))
    entry = "/api/v1/entries/alice"

    assert client.get(entry).status_code == 200
    assert_problem(client.get(entry), 429, "rate-limited")
    assert first.get(entry).status_code == 200
    assert first.get(entry).status_code == 200
    assert_problem(first.get(entry), 429, "rate-limited")
    assert second.get(entry).status_code == 200

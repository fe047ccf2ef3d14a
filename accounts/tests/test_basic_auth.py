"""The API's HTTP Basic sign-in cannot skip a second factor."""

import base64

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def basic(email: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def test_it_takes_a_password_alone_from_an_account_without_a_second_factor(client, alice):
    response = client.post(
        "/api/v1/entries",
        {"nickname": "Alice", "handle": "alice"},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(alice.email),
    )
    assert response.status_code == 201, response.content


def test_it_refuses_a_password_alone_once_the_account_has_a_second_factor(
    client, alice, alice_totp
):
    created = client.post(
        "/api/v1/entries",
        {"nickname": "Alice", "handle": "alice"},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(alice.email),
    )
    exported = client.get("/api/v1/me/export", HTTP_AUTHORIZATION=basic(alice.email))
    for response in (created, exported):
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/problem+json")
        assert "second factor" in response.json()["detail"]


class CountingHasher(MD5PasswordHasher):
    """Counts the passwords it hashes, to show which requests never reach a hash."""

    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


def test_it_answers_429_to_an_address_that_keeps_sending_wrong_credentials(client, alice, settings):
    settings.BASIC_AUTH_FAILURES_PER_IP = "5/10min"
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.hashed = 0
    attacker = {"REMOTE_ADDR": "203.0.113.9"}

    statuses = [
        client.get(
            "/api/v1/me/export", HTTP_AUTHORIZATION=basic(f"ghost{n}", "wrong"), **attacker
        ).status_code
        for n in range(8)
    ]
    hashed_by_failures = CountingHasher.hashed
    refused = client.get("/api/v1/me/export", HTTP_AUTHORIZATION=basic(alice.email), **attacker)
    other = client.get(
        "/api/v1/me/export", HTTP_AUTHORIZATION=basic(alice.email), REMOTE_ADDR="198.51.100.7"
    )

    assert statuses == [401] * 5 + [429] * 3
    assert hashed_by_failures == 5
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert CountingHasher.hashed == hashed_by_failures + 1
    assert other.status_code == 200, other.content


def test_it_limits_every_basic_request_per_address_before_hashing(client, alice, settings):
    settings.BASIC_AUTH_PER_IP = "3/min"
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.hashed = 0
    caller = {"REMOTE_ADDR": "203.0.113.20"}

    statuses = [
        client.get("/api/v1/me/export", HTTP_AUTHORIZATION=basic(alice.email), **caller).status_code
        for _ in range(5)
    ]
    hashed = CountingHasher.hashed
    elsewhere = client.get(
        "/api/v1/me/export", HTTP_AUTHORIZATION=basic(alice.email), REMOTE_ADDR="198.51.100.20"
    )

    assert statuses == [200, 200, 200, 429, 429]
    assert hashed == 3  # the refused requests never reached a password hash
    assert elsewhere.status_code == 200

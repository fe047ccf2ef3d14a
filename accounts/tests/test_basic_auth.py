"""The API's HTTP Basic sign-in cannot skip a second factor."""

import base64

import pytest

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

"""Client credentials (RFC 6749 §4.4): an app looks people up as itself, as anonymous."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from directory.models import Entry
from tests.api.conftest import assert_problem
from tests.oauth.conftest import (
    RESOLVE_URL,
    TOKEN_URL,
    bearer,
    client_credentials_token,
    register,
    shown_endpoints,
)

pytestmark = pytest.mark.django_db


def test_it_issues_a_short_lived_lookup_token_for_client_credentials(server_app):
    token = client_credentials_token(server_app)

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "lookup"
    assert 0 < token["expires_in"] <= 900
    assert "refresh_token" not in token


def test_it_shows_an_app_only_the_endpoints_everyone_may_use(server_app, alice):
    api = bearer(client_credentials_token(server_app))

    assert shown_endpoints(api.get(RESOLVE_URL, {"handle": "@alice"})) == [
        "sip:everyone@alice.example"
    ]
    entry = api.get("/api/v1/entries/alice")
    assert [e["uri"] for e in entry.json()["endpoints"]] == ["sip:everyone@alice.example"]


def test_it_lets_an_app_search_with_the_lookup_scope(server_app, alice):
    response = bearer(client_credentials_token(server_app)).get("/api/v1/search", {"q": "alice"})

    assert response.status_code == 200, response.content


def test_it_treats_an_app_token_as_no_account_for_owner_operations(server_app):
    token = client_credentials_token(server_app)

    response = bearer(token).post(
        "/api/v1/entries", {"nickname": "Bot", "handle": "bot"}, format="json"
    )

    assert_problem(response, 403, "forbidden")
    assert not Entry.objects.filter(handle_canonical="bot").exists()


@pytest.mark.parametrize("scope", ["entry:write", "contacts:read", "lookup entry:write"])
def test_it_refuses_person_scopes_to_client_credentials(server_app, client, scope):
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=server_app.basic,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_it_records_each_token_it_grants_with_the_app(server_app):
    client_credentials_token(server_app)

    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_GRANTED)
    assert event.user is None
    assert event.data["app"] == server_app.app.client_id
    assert event.data["scope"] == "lookup"


def test_it_refuses_a_wrong_client_secret(server_app, client):
    server_app.secret = "not-the-secret"

    response = client.post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=server_app.basic
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_GRANTED).exists()


def test_it_refuses_client_credentials_to_an_app_registered_without_them(dave, client):
    app = register(dave, "authorization-code")

    response = client.post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=app.basic
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_it_gives_client_credentials_to_an_app_registered_with_both_grants(dave, alice):
    app = register(dave, "authorization-code", "client-credentials")

    api = bearer(client_credentials_token(app))

    assert shown_endpoints(api.get(RESOLVE_URL, {"handle": "@alice"})) == [
        "sip:everyone@alice.example"
    ]

"""The developer pages under /account/apps: register an app, see its keys, delete it; the
apps a person allowed, and revoking them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password

from accounts.calling_apps.models import CallingApp
from accounts.models import AuditEvent
from tests.api.conftest import UserFactory
from tests.oauth.conftest import (
    AUTHORIZE_URL,
    REDIRECT_URI,
    RESOLVE_URL,
    Client,
    bearer,
    client_credentials_token,
    pkce_pair,
    user_token,
)

pytestmark = pytest.mark.django_db

APPS = "/account/apps/"


def register_page(client, **fields):
    form = {
        "name": "Dialer",
        "client_type": "confidential",
        "grant_types": ["client-credentials", "authorization-code"],
        "redirect_uris": REDIRECT_URI,
        **fields,
    }
    return client.post(APPS + "new", form)


def shown(response, value_id: str) -> str:
    """The value the page shows in its copy component ``value_id``."""
    match = re.search(
        rf'<code class="copy-value" id="{value_id}">([^<]+)</code>', response.content.decode()
    )
    assert match, response.content
    return match.group(1)


def test_it_sends_a_visitor_to_sign_in(client):
    response = client.get(APPS)

    assert response.status_code == 302
    assert "next=/account/apps/" in response["Location"]


def test_it_registers_an_app_and_shows_its_secret_once(client, dave, alice):
    client.force_login(dave)

    created = register_page(client)

    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    app = CallingApp.objects.get(user=dave)
    assert shown(created, "client-id") == app.client_id
    secret = shown(created, "client-secret")
    assert app.client_secret != secret and check_password(secret, app.client_secret)
    assert app.grant_types == ["authorization-code", "client-credentials"]
    assert app.redirect_uris == REDIRECT_URI
    event = AuditEvent.objects.get(action=AuditEvent.Action.APP_REGISTERED)
    assert event.user == dave and event.data["app"] == app.client_id

    detail = client.get(f"{APPS}{app.pk}")
    assert app.client_id in detail.content.decode()
    assert secret not in detail.content.decode()

    token = client_credentials_token(Client(app, secret))
    assert bearer(token).get(RESOLVE_URL, {"handle": "@alice"}).status_code == 200


def test_it_refuses_client_credentials_for_a_public_client(client, dave):
    client.force_login(dave)

    response = register_page(client, client_type="public")

    assert response.status_code == 400
    assert "Only a confidential client" in response.content.decode()
    assert not CallingApp.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.APP_REGISTERED).exists()


def test_it_needs_a_redirect_uri_for_the_authorization_code(client, dave):
    client.force_login(dave)

    response = register_page(client, grant_types=["authorization-code"], redirect_uris="")

    assert response.status_code == 400
    assert "needs a redirect URI" in response.content.decode()
    assert not CallingApp.objects.exists()


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("http://evil.example/cb", False),
        ("http://10.0.0.5/cb", False),
        ("http://127.0.0.1:8765/cb", True),
        ("http://[::1]/cb", True),
        ("http://localhost/cb", True),
        ("https://dialer.example/cb", True),
    ],
)
def test_it_allows_plain_http_redirects_only_to_this_device(client, dave, uri, allowed):
    client.force_login(dave)

    response = register_page(client, grant_types=["authorization-code"], redirect_uris=uri)

    assert CallingApp.objects.exists() is allowed
    if not allowed:
        assert response.status_code == 400
        assert "plain http is allowed only for this device" in response.content.decode()


def test_it_refuses_a_redirect_uri_that_is_not_a_url(client, dave):
    client.force_login(dave)

    response = register_page(client, redirect_uris="not a url")

    assert response.status_code == 400
    assert not CallingApp.objects.exists()


def test_it_lists_only_the_apps_a_developer_registered(client, dave, server_app):
    charlie = UserFactory(username="charlie")
    client.force_login(charlie)

    listing = client.get(APPS)

    assert server_app.app.client_id not in listing.content.decode()
    assert client.get(f"{APPS}{server_app.app.pk}").status_code == 404
    assert client.post(f"{APPS}{server_app.app.pk}/delete").status_code == 404
    assert CallingApp.objects.filter(pk=server_app.app.pk).exists()


def test_it_deletes_an_app_with_its_tokens(client, dave, server_app, alice):
    token = client_credentials_token(server_app)
    client.force_login(dave)
    assert client.get(f"{APPS}{server_app.app.pk}/delete").status_code == 405

    response = client.post(f"{APPS}{server_app.app.pk}/delete")

    assert response.status_code == 302
    assert not CallingApp.objects.filter(pk=server_app.app.pk).exists()
    assert bearer(token).get(RESOLVE_URL, {"handle": "@alice"}).status_code == 401


def test_it_lets_a_person_revoke_an_app_they_allowed(client, bob, phone_app, alice):
    token = user_token(bob, phone_app, scope="lookup")
    client.force_login(bob)
    assert phone_app.app.name in client.get(APPS).content.decode()

    response = client.post(f"{APPS}authorized/{phone_app.app.pk}/revoke")

    assert response.status_code == 302
    assert bearer(token).get(RESOLVE_URL, {"handle": "@alice"}).status_code == 401
    refreshed = client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": phone_app.app.client_id,
        },
    )
    assert refreshed.status_code == 400
    assert "You have not allowed any app" in client.get(APPS).content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert event.user == bob and event.data["app"] == phone_app.app.client_id


def test_it_revokes_only_the_tokens_of_the_person_who_asks(client, bob, phone_app, alice):
    charlie = UserFactory(username="charlie")
    token = user_token(bob, phone_app, scope="lookup")
    client.force_login(charlie)

    client.post(f"{APPS}authorized/{phone_app.app.pk}/revoke")

    assert bearer(token).get(RESOLVE_URL, {"handle": "@alice"}).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED).exists()


def test_the_client_secret_is_shown_with_a_copy_button(client, dave):
    client.force_login(dave)

    created = register_page(client).content.decode()

    assert 'data-copy="client-secret"' in created
    assert 'class="copy-value" id="client-secret"' in created
    assert "only time it is shown" in created


def consent_page(client, app):
    """The consent page of an authorization-code request (PKCE S256) for ``app``."""
    _, challenge = pkce_pair()
    return client.get(
        AUTHORIZE_URL,
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "lookup",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )


def test_the_consent_page_names_the_apps_developer_and_where_it_sends_the_person(
    client, bob, dave, phone_app
):
    client.force_login(bob)
    page = consent_page(client, phone_app.app)

    assert page.status_code == 200
    text = page.content.decode()
    owner = re.search(r'<dd class="consent-owner">([^<]+)</dd>', text)
    assert owner and dave.email in owner.group(1)
    host = re.search(r'<strong class="consent-host">([^<]+)</strong>', text)
    assert host and host.group(1) == "app.example"
    assert f"<code>{REDIRECT_URI}</code>" in text


def test_the_consent_page_names_a_developer_by_their_entry_not_their_email(
    client, bob, dave, phone_app
):
    from directory.services import entry_create

    entry_create(nickname="Dave Dialers", handle="dave-dialers", owner=dave)
    client.force_login(bob)
    page = consent_page(client, phone_app.app)

    owner = re.search(r'<dd class="consent-owner">([^<]+)</dd>', page.content.decode())
    assert owner and owner.group(1) == "Dave Dialers (@dave-dialers)"
    assert dave.email not in page.content.decode()


def test_a_registration_sent_twice_registers_one_app(client, dave):
    client.force_login(dave)
    once = re.search(r'name="once" value="([^"]+)"', client.get(APPS + "new").content.decode())

    first = register_page(client, once=once.group(1))
    again = register_page(client, once=once.group(1))

    assert first.status_code == 201
    app = CallingApp.objects.get()
    assert again.status_code == 302 and again["Location"] == f"{APPS}{app.pk}"
    assert "already registered" in client.get(again["Location"]).content.decode()

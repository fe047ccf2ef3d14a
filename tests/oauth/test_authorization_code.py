"""Authorization code with PKCE (RFC 6749 §4.1, RFC 7636): an app acts for a person."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from directory.models import Entry
from tests.api.conftest import assert_problem
from tests.oauth.conftest import (
    AUTHORIZE_URL,
    REDIRECT_URI,
    RESOLVE_URL,
    TOKEN_URL,
    authorization_code,
    bearer,
    exchange,
    pkce_pair,
    shown_endpoints,
    user_token,
)

pytestmark = pytest.mark.django_db


def test_it_lets_an_app_change_the_entry_of_the_person_who_approved_it(bob, bobs_entry, phone_app):
    token = user_token(bob, phone_app, scope="lookup entry:write")

    response = bearer(token).patch(
        "/api/v1/entries/bob", {"nickname": "Bob the Builder"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert Entry.objects.get(pk=bobs_entry.pk).nickname == "Bob the Builder"


def test_it_shows_an_app_acting_for_a_person_what_that_person_may_see(bob, alice, phone_app):
    token = user_token(bob, phone_app, scope="lookup")

    assert shown_endpoints(bearer(token).get(RESOLVE_URL, {"handle": "@alice"})) == [
        "sip:everyone@alice.example",
        "sip:signed_in@alice.example",
    ]


def test_it_refuses_a_code_exchanged_with_the_wrong_verifier(bob, phone_app):
    _, challenge = pkce_pair()
    code = authorization_code(bob, phone_app, scope="lookup", challenge=challenge)
    wrong_verifier, _ = pkce_pair()

    response = exchange(phone_app, code, wrong_verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_it_refuses_to_authorize_without_a_code_challenge(bob, phone_app, client):
    client.force_login(bob)

    response = client.get(
        AUTHORIZE_URL,
        {
            "response_type": "code",
            "client_id": phone_app.app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "lookup",
        },
    )

    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    assert "error=invalid_request" in response["Location"]
    assert "code=" not in response["Location"]


def test_it_refuses_a_write_to_a_token_granted_lookup_only(bob, bobs_entry, phone_app):
    token = user_token(bob, phone_app, scope="lookup")

    response = bearer(token).post(
        "/api/v1/entries", {"nickname": "Second", "handle": "bob2"}, format="json"
    )

    body = assert_problem(response, 403, "forbidden")
    assert "entry:write" in body["detail"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert not Entry.objects.filter(handle_canonical="bob2").exists()


def test_it_refuses_a_lookup_to_a_token_granted_entry_write_only(bob, alice, phone_app):
    token = user_token(bob, phone_app, scope="entry:write")

    response = bearer(token).get(RESOLVE_URL, {"handle": "@alice"})

    assert_problem(response, 403, "forbidden")


def test_it_does_not_limit_a_signed_in_person_by_scopes(bob, bobs_entry, client):
    client.force_login(bob)

    response = client.patch(
        "/api/v1/entries/bob", {"nickname": "Robert"}, content_type="application/json"
    )

    assert response.status_code == 200, response.content


def test_it_replaces_the_refresh_token_at_each_use(bob, phone_app, client):
    token = user_token(bob, phone_app, scope="lookup")
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": phone_app.app.client_id,
    }

    renewed = client.post(TOKEN_URL, refresh)
    assert renewed.status_code == 200, renewed.content
    assert renewed.json()["refresh_token"] != token["refresh_token"]

    replayed = client.post(TOKEN_URL, refresh)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"


def test_it_records_the_grant_but_not_each_refresh(bob, phone_app, client):
    token = user_token(bob, phone_app, scope="lookup")
    client.post(
        TOKEN_URL,
        {
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": phone_app.app.client_id,
        },
    )

    granted = AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_GRANTED)
    assert [(event.user, event.data["scope"]) for event in granted] == [(bob, "lookup")]


@pytest.mark.parametrize("method", ["plain", None])
def test_it_refuses_the_plain_code_challenge_method(bob, phone_app, method):
    # No method at all means plain (RFC 7636 §4.3), so it is refused too.
    # RFC 7636 §4.2 allows "plain"; RFC 9700 §2.1.1 and Worldbook take S256 only.
    browser = APIClient()
    browser.force_login(bob)
    verifier, _ = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": phone_app.app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "lookup",
        "state": "st4te",
        "code_challenge": verifier,
        "code_challenge_method": method,
    }
    if method is None:
        del query["code_challenge_method"]
    page = browser.get(AUTHORIZE_URL, query)
    approved = browser.post(AUTHORIZE_URL, {**query, "allow": "Authorize"})

    # Refused before the person is asked: no consent page, an error back to the app.
    assert page.status_code == 302
    assert "error=invalid_request" in page["Location"]
    assert approved.status_code == 302
    assert approved["Location"].startswith(REDIRECT_URI)
    assert "error=invalid_request" in approved["Location"]
    assert "code=" not in approved["Location"]


def test_it_refuses_a_plain_http_redirect_uri(dave):
    from django.core.exceptions import ValidationError

    from accounts.calling_apps.models import CallingApp
    from accounts.calling_apps.services import app_register

    with pytest.raises(ValidationError) as refused:
        app_register(
            developer=dave,
            name="Dialer",
            client_type="public",
            grant_types={"authorization-code"},
            redirect_uris=["http://app.example/callback"],
        )
    assert "redirect_uris" in refused.value.message_dict
    assert not CallingApp.objects.filter(name="Dialer").exists()

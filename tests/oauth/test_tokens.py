"""Tokens that stop working: expired, revoked by the app, revoked by the person."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from accounts.models import AuditEvent
from tests.api.conftest import assert_problem
from tests.oauth.conftest import RESOLVE_URL, bearer, client_credentials_token, user_token

pytestmark = pytest.mark.django_db


def test_it_answers_an_expired_token_with_a_401_problem(server_app, alice):
    token = client_credentials_token(server_app)
    lifetime = settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime + 1)

    with time_machine.travel(later, tick=False):
        response = bearer(token).get(RESOLVE_URL, {"handle": "@alice"})

    assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_it_answers_an_unknown_token_with_a_401_problem(alice, client):
    response = client.get(RESOLVE_URL, {"handle": "@alice"}, HTTP_AUTHORIZATION="Bearer made-up")

    assert_problem(response, 401, "unauthenticated")


def test_it_offers_basic_and_bearer_to_a_caller_without_credentials(client):
    response = client.post("/api/v1/entries", {"nickname": "A", "handle": "a"})

    assert_problem(response, 401, "unauthenticated")
    challenges = response["WWW-Authenticate"]
    assert challenges.startswith("Basic") and 'Bearer realm="api"' in challenges


def test_it_ends_a_token_the_app_revokes(bob, alice, phone_app, client):
    token = user_token(bob, phone_app, scope="lookup")

    revoked = client.post(
        "/o/revoke_token/", {"token": token["access_token"], "client_id": phone_app.app.client_id}
    )

    assert revoked.status_code == 200
    assert_problem(bearer(token).get(RESOLVE_URL, {"handle": "@alice"}), 401)
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert event.user == bob and event.data["app"] == phone_app.app.client_id


def test_it_lets_only_the_app_that_holds_a_token_revoke_it(bob, alice, phone_app, dave, client):
    from tests.oauth.conftest import register

    other = register(dave, "authorization-code", client_type="public")
    token = user_token(bob, phone_app, scope="lookup")

    client.post(
        "/o/revoke_token/", {"token": token["access_token"], "client_id": other.app.client_id}
    )

    assert bearer(token).get(RESOLVE_URL, {"handle": "@alice"}).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED).exists()


def test_it_tells_the_app_whether_a_token_is_active(server_app, client):
    token = client_credentials_token(server_app)

    answer = client.post(
        "/o/introspect/", {"token": token["access_token"]}, HTTP_AUTHORIZATION=server_app.basic
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["active"] is True
    assert answer.json()["scope"] == "lookup"
    assert answer.json()["client_id"] == server_app.app.client_id
    unknown = client.post(
        "/o/introspect/", {"token": "made-up"}, HTTP_AUTHORIZATION=server_app.basic
    )
    assert unknown.json() == {"active": False}

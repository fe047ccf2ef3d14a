"""The owner's policy page and the owner API change the contact policy, and each change
is recorded as a policy_changed audit event saying what changed."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from directory.models import Endpoint, Entry
from directory.services import endpoint_add

from .conftest import api_as, assert_problem, web_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def sip(alice) -> Endpoint:
    return endpoint_add(entry=alice, uri="sip:alice@example.org")


def _events():
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED))


def test_the_policy_page_shows_the_settings(users, alice, sip):
    page = web_as(users["alice"]).get("/account/entries/alice/policy")

    assert page.status_code == 200
    text = page.content.decode("utf-8")
    assert 'name="discoverable" checked' in text
    assert 'name="findable_by_number" checked' in text
    assert f'name="audience-{sip.pk}"' in text
    assert '<option value="everyone" selected>' in text


def test_the_policy_page_saves_and_audits_what_changed(users, alice, sip):
    response = web_as(users["alice"]).post(
        "/account/entries/alice/policy",
        {"discoverable": "on", f"audience-{sip.pk}": "contacts"},
        REMOTE_ADDR="192.0.2.7",
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    sip.refresh_from_db()
    assert (alice.discoverable, alice.findable_by_number, sip.audience) == (
        True,
        False,
        "contacts",
    )
    (event,) = _events()
    assert event.user == users["alice"]
    assert event.actor is None
    assert event.ip_address == "192.0.2.7"
    assert event.data == {
        "entry_id": alice.pk,
        "changes": {
            "findable_by_number": [True, False],
            "endpoints": {str(sip.pk): ["everyone", "contacts"]},
        },
    }


def test_saving_an_unchanged_policy_records_nothing(users, alice, sip):
    web_as(users["alice"]).post(
        "/account/entries/alice/policy",
        {"discoverable": "on", "findable_by_number": "on", f"audience-{sip.pk}": "everyone"},
    )

    assert _events() == []


def test_an_unknown_audience_changes_nothing(users, alice, sip):
    response = web_as(users["alice"]).post(
        "/account/entries/alice/policy", {f"audience-{sip.pk}": "friends"}
    )

    assert response.status_code == 400
    assert b"is not an audience" in response.content
    alice.refresh_from_db()
    assert (alice.discoverable, alice.findable_by_number) == (True, True)
    assert _events() == []


def test_only_the_owner_reaches_the_policy_page(users, alice, bob, hal):
    client = web_as(users["alice"])

    assert client.get("/account/entries/bob/policy").status_code == 403
    hidden = client.get("/account/entries/hal/policy")
    missing = client.get("/account/entries/nobody-here/policy")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_the_owner_api_changes_findable_by_number_and_audits_it(users, alice):
    response = api_as(users["alice"]).patch(
        "/api/v1/entries/alice",
        {"findable_by_number": False, "nickname": "Alice L."},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["findable_by_number"] is False
    assert Entry.objects.get(pk=alice.pk).findable_by_number is False
    (event,) = _events()
    assert event.data == {"entry_id": alice.pk, "changes": {"findable_by_number": [True, False]}}


def test_the_owner_api_audits_an_audience_change(users, alice, sip):
    client = api_as(users["alice"])

    response = client.patch(
        f"/api/v1/entries/alice/endpoints/{sip.pk}", {"audience": "verified"}, format="json"
    )
    client.patch(f"/api/v1/entries/alice/endpoints/{sip.pk}", {"label": "desk"}, format="json")

    assert response.status_code == 200
    (event,) = _events()
    assert event.data["changes"] == {"endpoints": {str(sip.pk): ["everyone", "verified"]}}


def test_the_owner_api_refuses_a_bad_findable_by_number(users, alice):
    response = api_as(users["alice"]).patch(
        "/api/v1/entries/alice", {"findable_by_number": "perhaps"}, format="json"
    )

    assert "findable_by_number" in assert_problem(response, 400, "invalid-request")["errors"]
    assert _events() == []

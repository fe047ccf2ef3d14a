"""The owner's numbers over the API: send a code, verify, list, retire, change the
forward's audience. Only the owner may; numbers are shown masked."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from tests.api.conftest import assert_problem
from tests.numbers.conftest import NUMBER, client_for, last_code

pytestmark = pytest.mark.django_db

BASE = "/api/v1/entries/alice/numbers"


def test_the_owner_links_and_retires_a_number(alice, alice_user):
    api = client_for(alice_user)
    sent = api.post(BASE, {"number": "(415) 555-0123", "region": "US"}, format="json")
    assert sent.status_code == 202, sent.content
    linked = api.post(f"{BASE}/verify", {"number": NUMBER, "code": last_code()}, format="json")
    assert linked.status_code == 201, linked.content
    body = linked.json()
    assert (body["state"], body["number"]) == ("active", "+1 ••••••23")
    assert "4155550123" not in linked.content.decode()

    number_id = body["id"]
    retired = api.post(
        f"{BASE}/{number_id}/retire", {"days": 30, "forward_audience": "verified"}, format="json"
    )
    assert retired.status_code == 200, retired.content
    assert (retired.json()["state"], retired.json()["forward_audience"]) == (
        "retiring",
        "verified",
    )
    changed = api.patch(f"{BASE}/{number_id}", {"forward_audience": "everyone"}, format="json")
    assert changed.json()["forward_audience"] == "everyone"
    listed = api.get(BASE).json()
    assert [(n["id"], n["state"]) for n in listed] == [(number_id, "retiring")]
    again = api.post(f"{BASE}/{number_id}/retire", {}, format="json")
    assert_problem(again, 409, "number-state")


def test_a_wrong_code_is_a_problem_and_links_nothing(alice, alice_user):
    api = client_for(alice_user)
    api.post(BASE, {"number": NUMBER}, format="json")
    wrong = f"{(int(last_code()) + 1) % 1_000_000:06d}"
    assert_problem(
        api.post(f"{BASE}/verify", {"number": NUMBER, "code": wrong}, format="json"),
        400,
        "number-code-invalid",
    )
    assert api.get(BASE).json() == []


def test_others_may_not_manage_the_numbers(alice, bob_user):
    api = client_for(bob_user)
    assert_problem(api.post(BASE, {"number": NUMBER}, format="json"), 403)
    assert_problem(api.get(BASE), 403)
    assert_problem(client_for(None).get(BASE), 401)


def test_bad_input_is_a_problem(alice, alice_user):
    api = client_for(alice_user)
    body = assert_problem(api.post(BASE, {"number": "1-800-MYFAX"}, format="json"), 400)
    assert "number" in body["errors"]
    assert_problem(api.post(f"{BASE}/99/retire", {}, format="json"), 404)


def _linked_id(api) -> int:
    api.post(BASE, {"number": NUMBER}, format="json")
    linked = api.post(f"{BASE}/verify", {"number": NUMBER, "code": last_code()}, format="json")
    assert linked.status_code == 201, linked.content
    return linked.json()["id"]


def test_a_too_long_window_is_an_invalid_request_on_days(alice, alice_user, settings):
    api = client_for(alice_user)
    number_id = _linked_id(api)
    for days in (0, settings.NUMBER_FORWARD_MAX_DAYS + 1):
        body = assert_problem(
            api.post(f"{BASE}/{number_id}/retire", {"days": days}, format="json"),
            400,
            "invalid-request",
        )
        assert "days" in body["errors"], body
    assert api.get(BASE).json()[0]["state"] == "active"


def test_changing_who_sees_the_forward_is_audited_without_the_number(alice, alice_user):
    api = client_for(alice_user)
    number_id = _linked_id(api)
    changed = api.patch(f"{BASE}/{number_id}", {"forward_audience": "contacts"}, format="json")
    assert changed.status_code == 200, changed.content
    events = list(AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED))
    assert len(events) == 1
    event = events[0]
    assert event.user == alice_user
    assert event.data["changes"] == {"number_forwards": {str(number_id): ["signed_in", "contacts"]}}
    assert "4155550123" not in str(event.data)
    # Setting the same audience again changes nothing and records nothing.
    api.patch(f"{BASE}/{number_id}", {"forward_audience": "contacts"}, format="json")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED).count() == 1

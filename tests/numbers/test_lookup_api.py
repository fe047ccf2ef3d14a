"""``GET /api/v1/numbers/{e164}`` and resolve's ``tel:`` form: authenticated, limited,
and the same bytes for a number nobody holds, a hidden forward and a refused one."""

from __future__ import annotations

import pytest

from accounts.contact_policy import policy_update
from directory.numbers import services
from tests.api.conftest import assert_problem, suspend
from tests.numbers.conftest import NUMBER, client_for, link
from tests.oauth.conftest import bearer, client_credentials_token, register

pytestmark = pytest.mark.django_db

URL = f"/api/v1/numbers/{NUMBER}"
OTHER = "+14155550199"


@pytest.fixture
def forwarding(alice):
    """Alice's number, retiring, its forward seen by signed-in people."""
    return services.number_retire_start(linked=link(alice), days=90, audience="signed_in")


def test_it_needs_a_caller(forwarding):
    assert_problem(client_for(None).get(URL), 401, "unauthenticated")


def test_it_answers_moved_with_the_handle(forwarding, charlie_user):
    response = client_for(charlie_user).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "moved"
    assert body["number"] == NUMBER
    assert body["moved_to"] == {"handle": "@alice", "url": "https://worldbook.example/@alice"}
    assert body["forward_until"] == forwarding.forward_until.isoformat().replace("+00:00", "Z")


def test_it_reads_any_spelling_of_the_number(forwarding, charlie_user):
    for spelling in ("tel:+1-415-555-0123", "+1 415 555 0123"):
        assert client_for(charlie_user).get(f"/api/v1/numbers/{spelling}").json()["status"] == (
            "moved"
        )


def test_unknown_hidden_and_refused_answers_are_identical(
    forwarding, alice, alice_user, bob_user, charlie_user, settings
):
    def answer(user, number=NUMBER):
        response = client_for(user).get(f"/api/v1/numbers/{number}", {"since": "2026-01-01"})
        assert response.status_code == 200
        return response.content.replace(number.encode(), b"<number>")

    unknown = answer(charlie_user, OTHER)
    assert b'"status":"unknown"' in unknown
    # Not allowed: the forward is for contacts, charlie is not one of alice's.
    services.number_set_forward_audience(linked=forwarding, audience="contacts")
    refused = answer(charlie_user)
    # Hidden: alice keeps herself unfindable by number.
    services.number_set_forward_audience(linked=forwarding, audience="everyone")
    policy_update(entry=alice, user=alice_user, findable_by_number=False)
    hidden = answer(charlie_user)
    policy_update(entry=alice, user=alice_user, findable_by_number=True)
    # Suspended entry.
    suspend(alice)
    suspended = answer(charlie_user)
    assert unknown == refused == hidden == suspended


def test_a_calling_app_with_the_lookup_scope_may_ask(forwarding, alice, bob_user):
    services.number_set_forward_audience(linked=forwarding, audience="everyone")
    app = register(bob_user, "client-credentials")
    api = bearer(client_credentials_token(app))
    assert api.get(URL).json()["status"] == "moved"
    # Signed-in audience: an app acting as itself is no signed-in person.
    services.number_set_forward_audience(linked=forwarding, audience="signed_in")
    assert api.get(URL).json()["status"] == "unknown"


def test_bad_input_is_a_problem_document(charlie_user):
    api = client_for(charlie_user)
    body = assert_problem(api.get("/api/v1/numbers/not-a-number"), 400)
    assert "e164" in body["errors"]
    assert_problem(api.get(URL, {"since": "2026-13-40"}), 400)


def test_a_number_with_a_plus_and_no_such_country_is_not_called_national(charlie_user):
    api = client_for(charlie_user)
    body = assert_problem(api.get("/api/v1/numbers/+99999999999999999"), 400)
    detail = body["errors"]["e164"][0]
    assert "not a valid international number" in detail
    assert "national number" not in detail.replace("international number", "")
    # Written without +, it still asks for a region.
    body = assert_problem(api.get("/api/v1/numbers/4155550123"), 400)
    assert "give a region" in body["errors"]["e164"][0]


def test_the_daily_limit_is_kept_in_the_database(forwarding, charlie_user, settings):
    settings.NUMBER_LOOKUPS_PER_DAY = 2
    api = client_for(charlie_user)
    assert api.get(URL).status_code == 200
    assert api.get(URL).status_code == 200
    assert_problem(api.get(URL), 429, "limit-reached")
    # The limit is per account: another account is not held back.
    from tests.api.conftest import UserFactory

    assert client_for(UserFactory(username="dora")).get(URL).status_code == 200


def test_resolve_forwards_a_retiring_number_for_signed_in_callers(forwarding, charlie_user):
    response = client_for(charlie_user).get("/api/v1/resolve", {"handle": f"tel:{NUMBER}"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched"] == f"moved:tel:{NUMBER}"
    assert body["entry"]["handle"] == "@alice"
    # Anonymous callers get the answer of a number nobody holds.
    anonymous = client_for(None).get("/api/v1/resolve", {"handle": f"tel:{NUMBER}"})
    unknown = client_for(None).get("/api/v1/resolve", {"handle": f"tel:{OTHER}"})
    assert anonymous.status_code == unknown.status_code == 404
    assert anonymous.content == unknown.content


def test_resolve_does_not_forward_an_active_number(alice, charlie_user):
    link(alice)
    response = client_for(charlie_user).get("/api/v1/resolve", {"handle": NUMBER})
    assert_problem(response, 404, "not-found")

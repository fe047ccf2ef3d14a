"""``POST /api/v1/discover``: up to 100 numbers or handles, limited per account per day,
answering only for numbers in their window and only where the policy allows."""

from __future__ import annotations

import pytest

from accounts.contact_policy import policy_update
from directory.numbers import services
from tests.api.conftest import assert_problem
from tests.numbers.conftest import NUMBER, client_for, link

pytestmark = pytest.mark.django_db

URL = "/api/v1/discover"


def discover(user, items, **extra):
    return client_for(user).post(URL, {"items": items, **extra}, format="json")


@pytest.fixture
def forwarding(alice, bob):
    """Alice's number forwards to her contacts only; bob is one (she saved him)."""
    from accounts.contacts import contact_save

    contact_save(owner=alice, saved=bob)
    return services.number_retire_start(linked=link(alice), days=30, audience="contacts")


def test_it_needs_a_caller():
    assert_problem(client_for(None).post(URL, {"items": [NUMBER]}, format="json"), 401)


def test_it_answers_for_numbers_in_their_window_where_policy_allows(
    forwarding, bob_user, charlie_user
):
    items = ["(415) 555-0123", "+14155550199", "@bob", "not a number 12"]
    response = discover(bob_user, items, region="US")
    assert response.status_code == 200, response.content
    assert [(r["query"], r["status"]) for r in response.json()] == [
        ("(415) 555-0123", "moved"),
        ("+14155550199", "unknown"),
        ("@bob", "found"),
        ("not a number 12", "unknown"),
    ]
    assert response.json()[0]["entry"]["handle"] == "@alice"
    # Charlie is not among alice's contacts: her number looks like any unknown one.
    seen = discover(charlie_user, [NUMBER, "+14155550199"]).json()
    assert seen[0]["status"] == seen[1]["status"] == "unknown"
    assert seen[0]["entry"] is seen[1]["entry"] is None


def test_hidden_and_unknown_numbers_answer_the_same(forwarding, alice, alice_user, bob_user):
    policy_update(entry=alice, user=alice_user, findable_by_number=False)
    hidden, unknown = discover(bob_user, [NUMBER, "+14155550199"]).json()
    assert {**hidden, "query": ""} == {**unknown, "query": ""}


def test_an_active_or_purged_number_is_not_discovered(alice, bob, bob_user):
    linked = link(alice)
    assert discover(bob_user, [NUMBER]).json()[0]["status"] == "unknown"
    services.number_end_forwarding(linked=linked)
    assert discover(bob_user, [NUMBER]).json()[0]["status"] == "unknown"


def test_at_most_100_items(charlie_user):
    body = assert_problem(discover(charlie_user, [f"+1415555{n:04d}" for n in range(101)]), 400)
    assert "items" in body["errors"]
    assert_problem(discover(charlie_user, []), 400)


def test_the_daily_limit_counts_items_per_account(charlie_user, bob_user, settings):
    settings.NUMBER_DISCOVER_PER_DAY = 150
    batch = [f"+1415555{n:04d}" for n in range(100)]
    assert discover(charlie_user, batch).status_code == 200
    body = assert_problem(discover(charlie_user, batch[:51]), 429, "limit-reached")
    assert "100 asked already" in body["detail"]
    assert discover(charlie_user, batch[:50]).status_code == 200
    assert discover(bob_user, batch).status_code == 200


def test_a_bad_region_is_a_problem(charlie_user):
    body = assert_problem(discover(charlie_user, ["0656851242"], region="ZZ"), 400)
    assert "region" in body["errors"]

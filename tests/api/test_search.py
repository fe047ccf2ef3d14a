"""GET /api/v1/search?q=…&page=N"""

from __future__ import annotations

import pytest

from .conftest import SITE_URL, EntryFactory, assert_problem, claim, suspend

pytestmark = pytest.mark.django_db

URL = "/api/v1/search"


@pytest.fixture
def indexed(django_capture_on_commit_callbacks):
    """``with indexed(): ...`` runs the index syncs the actions inside scheduled, as the
    commit of a real request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def handles_found(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["handle"] for item in response.json()["results"]]


def test_it_finds_an_entry_by_nickname_with_its_verified_handles_only(
    anonymous, alice_user, indexed
):
    with indexed():
        alice = EntryFactory(handle="alice", nickname="Alice Liddell", owner=alice_user)
        claim(alice, "github", "alice-l")
        claim(alice, "email", "alice@example.org", verified=False)
        EntryFactory(handle="bob", nickname="Bob Builder")

    response = anonymous.get(URL, {"q": "Liddell"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert (body["next"], body["previous"]) == (None, None)
    (item,) = body["results"]
    assert (item["handle"], item["nickname"], item["url"]) == (
        "@alice",
        "Alice Liddell",
        f"{SITE_URL}/@alice",
    )
    assert [(h["kind"], h["value"], h["status"]) for h in item["handles"]] == [
        ("github", "alice-l", "verified")
    ]


def test_it_tolerates_a_typo(anonymous, indexed):
    with indexed():
        EntryFactory(handle="wilhelmina", nickname="Wilhelmina Quaxleigh")

    assert handles_found(anonymous.get(URL, {"q": "Quaxliegh"})) == ["@wilhelmina"]


def test_it_leaves_out_unlisted_and_suspended_entries(anonymous, indexed):
    with indexed():
        EntryFactory(handle="listed", nickname="Marmaduke Listed")
        EntryFactory(handle="unlisted", nickname="Marmaduke Unlisted", discoverable=False)
        suspend(EntryFactory(handle="suspended", nickname="Marmaduke Suspended"))

    assert handles_found(anonymous.get(URL, {"q": "Marmaduke"})) == ["@listed"]


def test_it_pages_through_the_results(anonymous, indexed):
    with indexed():
        for n in range(23):
            EntryFactory(handle=f"zebedee{n:02d}", nickname=f"Zebedee Number {n}")

    first = anonymous.get(URL, {"q": "Zebedee"}).json()
    second = anonymous.get(first["next"]).json()

    assert first["count"] == second["count"] == 23
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/search?page=2&q=Zebedee"
    assert len(second["results"]) == 3
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/search?q=Zebedee"
    seen = [item["handle"] for item in first["results"] + second["results"]]
    assert sorted(seen) == [f"@zebedee{n:02d}" for n in range(23)]
    assert_problem(anonymous.get(URL, {"q": "Zebedee", "page": 3}), 404, "not-found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "one two three four five six seven eight nine"}, "q"),
        ({"q": "alice", "page": "0"}, "page"),
        ({"q": "alice", "page": "two"}, "page"),
        ({"q": "alice", "page": "51"}, "page"),
    ],
)
def test_it_answers_a_bad_query_with_a_400_problem(anonymous, params, field):
    body = assert_problem(anonymous.get(URL, params), 400)
    assert field in body["errors"]


def test_it_limits_each_client_in_the_search_scope(anonymous, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "search", "1/min")

    assert anonymous.get(URL, {"q": "alice"}).status_code == 200
    limited = anonymous.get(URL, {"q": "alice"})

    assert_problem(limited, 429, "rate-limited")
    assert int(limited["Retry-After"]) > 0

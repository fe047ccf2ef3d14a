"""GET /api/v1/resolve?handle=…"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from directory.models import Endpoint

from .conftest import DOMAIN, SITE_URL, EntryFactory, assert_problem, claim, reach, suspend

pytestmark = pytest.mark.django_db

URL = "/api/v1/resolve"


def resolve(client: APIClient, handle: str):
    return client.get(f"{URL}?handle={quote(handle, safe='')}")


@pytest.fixture
def alice_with_handles(alice):
    claim(alice, "email", "Alice.Liddell@Example.org")
    claim(alice, "fediverse", "@alice@mastodon.social")
    claim(alice, "matrix", "@alice:matrix.org")
    claim(alice, "domain", "bücher.example")
    claim(alice, "github", "alice-l")
    claim(alice, "whatsapp", "+1 415 555 0123")
    reach(alice, "sip:alice@sip.example.org")
    return alice


@pytest.mark.parametrize(
    ("query", "matched"),
    [
        ("@alice", "@alice"),
        ("alice", "@alice"),
        ("@ALICE", "@alice"),
        (f"acct:alice@{DOMAIN}", "@alice"),
        ("alice.liddell@example.org", "email:Alice.Liddell@example.org"),
        ("mailto:ALICE.LIDDELL@EXAMPLE.ORG", "email:Alice.Liddell@example.org"),
        ("@alice@mastodon.social", "fediverse:alice@mastodon.social"),
        ("acct:Alice@Mastodon.Social", "fediverse:alice@mastodon.social"),
        ("https://mastodon.social/@alice", "fediverse:alice@mastodon.social"),
        ("@alice:matrix.org", "matrix:@alice:matrix.org"),
        ("@alice:MATRIX.org", "matrix:@alice:matrix.org"),
        ("https://matrix.to/#/@alice:matrix.org", "matrix:@alice:matrix.org"),
        ("bücher.example", "domain:xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "domain:xn--bcher-kva.example"),
        ("BÜCHER.EXAMPLE.", "domain:xn--bcher-kva.example"),
        ("https://github.com/alice-l", "github:alice-l"),
        ("+1 415 555 0123", "whatsapp:+14155550123"),
        ("+14155550123", "whatsapp:+14155550123"),
        ("tel:+1-415-555-0123", "whatsapp:+14155550123"),
    ],
)
def test_it_resolves_every_handle_form(anonymous, alice_with_handles, query, matched):
    response = resolve(anonymous, query)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched"] == matched
    assert body["entry"] == {
        "handle": "@alice",
        "nickname": "Alice Liddell",
        "acct": f"acct:alice@{DOMAIN}",
        "url": f"{SITE_URL}/@alice",
    }
    assert [e["uri"] for e in body["endpoints"]] == ["sip:alice@sip.example.org"]


def test_it_keeps_the_matrix_local_part_case_sensitive(anonymous, alice_with_handles):
    assert resolve(anonymous, "@alice:matrix.org").status_code == 200
    assert_problem(resolve(anonymous, "@Alice:matrix.org"), 404, "not-found")


def test_it_lists_handles_with_their_evidence(anonymous, alice):
    claim(alice, "fediverse", "@alice@mastodon.social")
    claim(alice, "email", "alice@example.net", verified=False)

    handles = resolve(anonymous, "@alice").json()["handles"]

    by_value = {h["value"]: h for h in handles}
    fediverse = by_value["alice@mastodon.social"]
    assert fediverse["kind"] == "fediverse"
    assert fediverse["display"] == "@alice@mastodon.social"
    assert fediverse["status"] == "verified"
    assert fediverse["verified_at"] is not None
    assert by_value["alice@example.net"]["status"] == "unverified"
    assert by_value["alice@example.net"]["verified_at"] is None


def test_it_never_shows_a_phone_number_handle_to_anyone_but_the_owner(anonymous, as_alice, alice):
    claim(alice, "whatsapp", "+14155550123")

    seen_by_caller = resolve(anonymous, "+14155550123").json()["handles"]
    seen_by_owner = resolve(as_alice, "+14155550123").json()["handles"]

    assert [h for h in seen_by_caller if h["kind"] == "whatsapp"] == []
    assert [h["value"] for h in seen_by_owner if h["kind"] == "whatsapp"] == ["+14155550123"]


def test_an_unverified_claim_never_resolves(anonymous, bob):
    claim(bob, "email", "carol@example.org", verified=False)

    assert_problem(resolve(anonymous, "carol@example.org"), 404, "not-found")


def test_another_entrys_unverified_claim_does_not_answer_for_a_verified_handle(
    anonymous, alice, bob
):
    claim(bob, "email", "ALICE@example.org", verified=False)
    claim(alice, "email", "alice@example.org")
    claim(bob, "fediverse", "@alice@mastodon.social", verified=False)

    assert resolve(anonymous, "alice@example.org").json()["entry"]["handle"] == "@alice"
    assert_problem(resolve(anonymous, "@alice@mastodon.social"), 404, "not-found")


@pytest.fixture
def alice_reachable(alice):
    """One endpoint per audience, added in an order unlike their preference order."""
    for uri, audience, preference in (
        ("sip:public@example.org", Endpoint.Audience.EVERYONE, 50),
        ("sip:members@example.org", Endpoint.Audience.SIGNED_IN, 40),
        ("sip:trusted@example.org", Endpoint.Audience.VERIFIED, 30),
        ("sip:friends@example.org", Endpoint.Audience.CONTACTS, 20),
        ("sip:private@example.org", Endpoint.Audience.NOBODY, 10),
    ):
        reach(alice, uri, audience=audience, preference=preference)
    return alice


@pytest.mark.parametrize(
    ("caller", "visible"),
    [
        ("anonymous", ["public"]),
        ("as_charlie", ["members", "public"]),
        ("as_bob", ["trusted", "members", "public"]),
        ("as_alice", ["private", "friends", "trusted", "members", "public"]),
    ],
)
def test_it_shows_each_caller_only_the_endpoints_they_may_use(
    request, alice_reachable, bob, caller, visible
):
    client = request.getfixturevalue(caller)

    endpoints = resolve(client, "@alice").json()["endpoints"]

    assert [e["uri"].removeprefix("sip:").split("@")[0] for e in endpoints] == visible
    assert [e["preference"] for e in endpoints] == sorted(e["preference"] for e in endpoints)


def test_it_describes_each_endpoint(anonymous, alice):
    reach(alice, "matrix:u/alice:matrix.org", label="Chat", preference=5, capabilities=["text"])

    (endpoint,) = resolve(anonymous, "@alice").json()["endpoints"]

    assert endpoint == {
        "uri": "matrix:u/alice:matrix.org",
        "href": "https://matrix.to/#/@alice:matrix.org",
        "scheme": "matrix",
        "service": "matrix",
        "capabilities": ["text"],
        "preference": 5,
        "label": "Chat",
    }


@pytest.mark.parametrize("caller", ["anonymous", "as_charlie"])
def test_a_suspended_entry_and_a_missing_one_get_the_same_404(request, bob_user, caller):
    client = request.getfixturevalue(caller)
    hidden = EntryFactory(handle="ghost", owner=bob_user)
    claim(hidden, "fediverse", "@ghost@mastodon.social")
    reach(hidden, "sip:ghost@example.org")
    suspend(hidden)

    for present, absent in (
        ("@ghost", "@nobody"),
        ("@ghost@mastodon.social", "@nobody@mastodon.social"),
    ):
        shown, missing = resolve(client, present), resolve(client, absent)
        assert_problem(shown, 404, "not-found")
        assert shown.status_code == missing.status_code
        assert shown.content == missing.content
        assert dict(shown.items()) == dict(missing.items())


def test_the_owner_still_resolves_a_suspended_entry(as_alice, alice):
    suspend(alice)

    assert resolve(as_alice, "@alice").status_code == 200


def test_it_needs_a_handle(anonymous):
    for response in (anonymous.get(URL), anonymous.get(f"{URL}?handle=")):
        body = assert_problem(response, 400, "invalid-request")
        assert list(body["errors"]) == ["handle"]


@pytest.mark.parametrize("query", ["tel:abc", "@", "acct:", "@alice@", "+1 abc", "a" * 31])
def test_it_answers_unreadable_input_with_a_400_problem(anonymous, query):
    body = assert_problem(resolve(anonymous, query), 400)
    assert body["errors"]["handle"]


def test_it_resolves_in_a_fixed_number_of_queries(anonymous, alice, django_assert_max_num_queries):
    claim(alice, "fediverse", "@alice@mastodon.social")
    for n in range(10):
        reach(alice, f"sip:alice{n}@example.org", preference=n)

    # The verified handle, the entry, its handles, its endpoints.
    with django_assert_max_num_queries(4):
        response = resolve(anonymous, "@alice@mastodon.social")
    assert len(response.json()["endpoints"]) == 10


def test_it_limits_each_client_in_the_resolve_scope(anonymous, alice, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "resolve", "2/min")

    assert resolve(anonymous, "@alice").status_code == 200
    assert resolve(anonymous, "@alice").status_code == 200
    limited = resolve(anonymous, "@alice")

    assert_problem(limited, 429, "rate-limited")
    assert 0 < int(limited["Retry-After"]) <= 60

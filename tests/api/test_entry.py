"""/api/v1/entries and /api/v1/entries/{handle}: read, create, change, delete."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from directory.models import Entry

from .conftest import (
    DOMAIN,
    PASSWORD,
    SITE_URL,
    EntryFactory,
    assert_problem,
    claim,
    client_for,
    reach,
    suspend,
)

pytestmark = pytest.mark.django_db


def test_it_shows_an_entry_with_its_handles_and_endpoints(anonymous, alice):
    claim(alice, "github", "alice-l")
    reach(alice, "xmpp:alice@example.org", preference=2)
    reach(alice, "sip:alice@example.org", preference=1)
    reach(alice, "sip:hidden@example.org", audience="nobody")

    response = anonymous.get("/api/v1/entries/alice")

    assert response.status_code == 200
    body = response.json()
    assert body["entry"] == {
        "handle": "@alice",
        "nickname": "Alice Liddell",
        "acct": f"acct:alice@{DOMAIN}",
        "url": f"{SITE_URL}/@alice",
    }
    assert "matched" not in body
    assert [(h["kind"], h["display"]) for h in body["handles"]] == [("github", "@alice-l")]
    assert [e["uri"] for e in body["endpoints"]] == [
        "sip:alice@example.org",
        "xmpp:alice@example.org",
    ]


@pytest.mark.parametrize("path", ["@alice", "ALICE", "%40Alice"])
def test_it_reads_the_handle_with_or_without_its_at_sign_in_any_case(anonymous, alice, path):
    response = anonymous.get(f"/api/v1/entries/{path}")
    assert response.json()["entry"]["handle"] == "@alice"


@pytest.mark.parametrize("caller", ["anonymous", "as_charlie"])
def test_a_suspended_entry_reads_exactly_like_a_missing_one(request, bob_user, caller):
    client = request.getfixturevalue(caller)
    suspend(EntryFactory(handle="ghost", owner=bob_user))

    hidden, missing = client.get("/api/v1/entries/ghost"), client.get("/api/v1/entries/ghosts")

    assert_problem(hidden, 404, "not-found")
    assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
    assert dict(hidden.items()) == dict(missing.items())


# -- create ---------------------------------------------------------------------------


def test_it_creates_an_entry_owned_by_the_caller(as_charlie, charlie_user):
    response = as_charlie.post(
        "/api/v1/entries",
        {"nickname": "  Charlie\u200b Dodgson ", "handle": "@Charlie", "discoverable": False},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response["Location"] == "http://testserver/api/v1/entries/charlie"
    body = response.json()
    assert body["handle"] == "@Charlie"
    assert body["nickname"] == "Charlie Dodgson"
    assert body["discoverable"] is False
    assert body["status"] == "active"
    entry = Entry.objects.get(handle_canonical="charlie")
    assert entry.owner == charlie_user
    assert as_charlie.get(response["Location"]).status_code == 200


def test_it_signs_in_with_basic_authentication(charlie_user):
    client = APIClient()
    token = base64.b64encode(f"charlie:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    response = client.post("/api/v1/entries", {"nickname": "C", "handle": "cd"}, format="json")

    assert response.status_code == 201, response.content
    assert Entry.objects.get(handle_canonical="cd").owner == charlie_user


def test_it_asks_an_anonymous_caller_to_sign_in(anonymous):
    response = anonymous.post("/api/v1/entries", {"nickname": "X", "handle": "x1"}, format="json")

    assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not Entry.objects.exists()


def test_it_refuses_a_wrong_password(charlie_user):
    client = APIClient()
    token = base64.b64encode(b"charlie:wrong").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    response = client.post("/api/v1/entries", {"nickname": "C", "handle": "cd"}, format="json")

    assert_problem(response, 401, "unauthenticated")
    assert not Entry.objects.exists()


def test_session_sign_in_needs_the_csrf_token_to_write(charlie_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(charlie_user)

    response = client.post("/api/v1/entries", {"nickname": "C", "handle": "cd"}, format="json")

    assert_problem(response, 403, "forbidden")
    assert "CSRF" in response.json()["detail"]
    assert not Entry.objects.exists()


def test_it_refuses_a_handle_that_mixes_latin_and_cyrillic(as_charlie):
    """UTS #39 §5.2 (Moderately Restrictive): Latin may not mix with Cyrillic."""
    EntryFactory(handle="elonmusk")

    response = as_charlie.post(
        "/api/v1/entries", {"nickname": "Not Elon", "handle": "\u0435lonmusk"}, format="json"
    )

    body = assert_problem(response, 400, "invalid-request")
    assert "Cyrillic" in body["errors"]["handle"][0]
    assert Entry.objects.count() == 1


@pytest.mark.parametrize(
    "taken", ["elonmusk", "ElonMusk", "eIonmusk", "elon\u200bmusk"]
)
def test_it_refuses_a_handle_equal_to_or_looking_like_a_taken_one(as_charlie, taken):
    EntryFactory(handle="elonmusk")

    response = as_charlie.post(
        "/api/v1/entries", {"nickname": "Not Elon", "handle": taken}, format="json"
    )

    body = assert_problem(response, 409, "handle-taken")
    assert "elonmusk" in body["errors"]["handle"][0].lower()
    assert Entry.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"nickname": "Ok"}, "handle"),
        ({"handle": "okay"}, "nickname"),
        ({"nickname": "Ok", "handle": "a"}, "handle"),
        ({"nickname": "Ok", "handle": "no spaces"}, "handle"),
        ({"nickname": "Ok", "handle": "\u200b\u200c"}, "handle"),
        ({"nickname": "\u200b", "handle": "okay"}, "nickname"),
        ({"nickname": "\ufdfa" * 20, "handle": "okay"}, "nickname"),
        ({"nickname": "Ok", "handle": "okay", "discoverable": "perhaps"}, "discoverable"),
    ],
)
def test_it_names_the_field_that_is_wrong_and_writes_nothing(as_charlie, data, field):
    response = as_charlie.post("/api/v1/entries", data, format="json")

    body = assert_problem(response, 400, "invalid-request")
    assert field in body["errors"]
    assert not Entry.objects.exists()


# -- change ---------------------------------------------------------------------------


def test_the_owner_changes_nickname_handle_and_listing(as_alice, alice):
    response = as_alice.patch(
        "/api/v1/entries/alice",
        {"nickname": "Alice L.", "handle": "alice.l", "discoverable": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert (alice.nickname, alice.handle, alice.discoverable) == ("Alice L.", "alice.l", False)
    assert response.json()["handle"] == "@alice.l"


def test_a_partial_change_leaves_the_other_fields_alone(as_alice, alice):
    as_alice.patch("/api/v1/entries/alice", {"discoverable": False}, format="json")

    alice.refresh_from_db()
    assert (alice.nickname, alice.handle, alice.discoverable) == ("Alice Liddell", "alice", False)


def test_it_refuses_to_rename_onto_a_look_alike(as_alice, alice):
    EntryFactory(handle="elonmusk")

    response = as_alice.patch("/api/v1/entries/alice", {"handle": "eIonmusk"}, format="json")

    assert_problem(response, 409, "handle-taken")
    alice.refresh_from_db()
    assert alice.handle == "alice"


def test_another_signed_in_person_cannot_change_a_visible_entry(as_bob, alice):
    response = as_bob.patch("/api/v1/entries/alice", {"nickname": "Mallory"}, format="json")

    assert_problem(response, 403, "forbidden")
    alice.refresh_from_db()
    assert alice.nickname == "Alice Liddell"


def test_a_non_owner_changing_a_suspended_entry_gets_the_missing_entry_404(as_bob, alice):
    suspend(alice)

    hidden = as_bob.patch("/api/v1/entries/alice", {"nickname": "M"}, format="json")
    missing = as_bob.patch("/api/v1/entries/nobody", {"nickname": "M"}, format="json")

    assert_problem(hidden, 404, "not-found")
    assert (hidden.content, dict(hidden.items())) == (missing.content, dict(missing.items()))


def test_the_owner_of_a_suspended_entry_cannot_change_it(as_alice, alice):
    suspend(alice)

    response = as_alice.patch("/api/v1/entries/alice", {"handle": "alice2"}, format="json")

    assert_problem(response, 403, "forbidden")
    alice.refresh_from_db()
    assert alice.handle == "alice"


def test_an_anonymous_caller_cannot_change_an_entry(anonymous, alice):
    response = anonymous.patch("/api/v1/entries/alice", {"nickname": "M"}, format="json")
    assert_problem(response, 401, "unauthenticated")


# -- delete ---------------------------------------------------------------------------


def test_the_owner_deletes_the_entry(as_alice, alice):
    claim(alice, "github", "alice-l")

    response = as_alice.delete("/api/v1/entries/alice")

    assert response.status_code == 204
    assert not Entry.objects.filter(pk=alice.pk).exists()
    assert_problem(as_alice.get("/api/v1/entries/alice"), 404)


def test_the_owner_of_a_suspended_entry_cannot_delete_it(as_alice, alice):
    suspend(alice)

    assert_problem(as_alice.delete("/api/v1/entries/alice"), 409)
    assert Entry.objects.filter(pk=alice.pk).exists()


def test_nobody_else_deletes_an_entry(as_bob, anonymous, alice):
    assert_problem(as_bob.delete("/api/v1/entries/alice"), 403)
    assert_problem(anonymous.delete("/api/v1/entries/alice"), 401)
    assert Entry.objects.filter(pk=alice.pk).exists()


def test_operator_entries_have_no_owner_to_manage_them(bob_user):
    EntryFactory(handle="operator", owner=None)

    response = client_for(bob_user).delete("/api/v1/entries/operator")

    assert_problem(response, 403)
    assert Entry.objects.filter(handle_canonical="operator").exists()

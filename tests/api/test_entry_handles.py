"""/api/v1/entries/{handle}/handles and /handles/{id}: the owner's claims."""

from __future__ import annotations

import pytest

from directory import services
from directory.models import Handle

from .conftest import assert_problem, claim, suspend

pytestmark = pytest.mark.django_db

URL = "/api/v1/entries/alice/handles"


def test_the_owner_lists_every_claim_with_its_state(as_alice, alice):
    verified = claim(alice, "github", "alice-l")
    pending = claim(alice, "email", "alice@example.org", verified=False)
    phone = claim(alice, "whatsapp", "+14155550123")

    response = as_alice.get(URL)

    assert response.status_code == 200
    by_id = {h["id"]: h for h in response.json()}
    assert set(by_id) == {verified.pk, pending.pk, phone.pk}
    assert by_id[verified.pk]["status"] == "verified"
    assert by_id[pending.pk]["status"] == "unverified"
    assert by_id[phone.pk]["value"] == "+14155550123"


def test_the_owner_claims_a_handle_that_does_not_resolve_until_verified(as_alice, anonymous, alice):
    response = as_alice.post(
        URL, {"kind": "fediverse", "value": "@Alice@Mastodon.Social"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["value"], body["raw"]) == (
        "fediverse",
        "Alice@mastodon.social",  # the typed case, asked of WebFinger
        "@Alice@Mastodon.Social",
    )
    assert body["status"] == "unverified"
    assert_problem(anonymous.get("/api/v1/resolve?handle=@alice@mastodon.social"), 404)

    services.handle_mark_verified(handle=Handle.objects.get(pk=body["id"]))
    assert anonymous.get("/api/v1/resolve?handle=@alice@mastodon.social").status_code == 200


def test_claiming_the_same_handle_twice_returns_the_first_claim(as_alice, alice):
    first = as_alice.post(URL, {"kind": "email", "value": "a@example.org"}, format="json")
    again = as_alice.post(URL, {"kind": "email", "value": "A@EXAMPLE.org"}, format="json")

    assert first.json()["id"] == again.json()["id"]
    assert alice.handles.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "fediverse", "value": "not a handle"}, "value"),
        ({"kind": "matrix", "value": "alice:matrix.org"}, "value"),
        ({"kind": "email", "value": "a@b@"}, "value"),
        ({"kind": "carrier-pigeon", "value": "alice"}, "kind"),
        ({"kind": "email"}, "value"),
        ({"kind": "web", "value": "https://example.org/" + "a" * 600}, "value"),
        # Fits as given, but the host's A-label makes the canonical form too long.
        ({"kind": "web", "value": "https://bücher.example/" + "a" * 489}, "value"),
        ({"kind": "email", "value": "a\x00@example.org"}, "value"),
    ],
)
def test_it_refuses_an_unreadable_claim_and_names_the_field(as_alice, alice, data, field):
    response = as_alice.post(URL, data, format="json")

    body = assert_problem(response, 400)
    assert field in body["errors"]
    assert not alice.handles.exists()


def test_the_owner_drops_a_claim(as_alice, alice):
    dropped = claim(alice, "github", "alice-l")
    kept = claim(alice, "email", "alice@example.org", verified=False)

    response = as_alice.delete(f"{URL}/{dropped.pk}")

    assert response.status_code == 204
    assert list(alice.handles.values_list("pk", flat=True)) == [kept.pk]


def test_it_does_not_drop_another_entrys_claim_through_this_entry(as_alice, alice, bob):
    theirs = bob.handles.get()

    assert_problem(as_alice.delete(f"{URL}/{theirs.pk}"), 404, "not-found")
    assert_problem(as_alice.delete(f"{URL}/99999999999999999999999"), 404, "not-found")
    assert Handle.objects.filter(pk=theirs.pk).exists()


def test_nobody_but_the_owner_sees_or_changes_the_claims(as_bob, anonymous, alice):
    mine = claim(alice, "github", "alice-l")

    assert_problem(as_bob.get(URL), 403, "forbidden")
    assert_problem(as_bob.post(URL, {"kind": "x", "value": "bob"}, format="json"), 403)
    assert_problem(as_bob.delete(f"{URL}/{mine.pk}"), 403)
    assert_problem(anonymous.get(URL), 401)
    assert list(alice.handles.all()) == [mine]


def test_a_suspended_entrys_claims_stay_hidden_from_others_and_frozen_for_its_owner(
    as_alice, as_bob, alice
):
    suspend(alice)

    assert as_alice.get(URL).status_code == 200
    assert_problem(as_alice.post(URL, {"kind": "x", "value": "alice"}, format="json"), 403)
    hidden, missing = as_bob.get(URL), as_bob.get("/api/v1/entries/nobody/handles")
    assert_problem(hidden, 404)
    assert hidden.content == missing.content
    assert not alice.handles.exists()


def test_an_unknown_kind_is_refused_with_the_list_of_kinds(as_alice, alice):
    response = as_alice.post(URL, {"kind": "website", "value": "https://a.example/"}, format="json")

    body = assert_problem(response, 400)
    message = " ".join(body["errors"]["kind"])
    assert '"website" is not a handle kind' in message
    assert "web, " in message or message.endswith("web.")
    assert "email" in message and "fediverse" in message

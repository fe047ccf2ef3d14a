"""/api/v1/entries/{handle}/endpoints and /endpoints/{id}: where the owner can be reached."""

from __future__ import annotations

import pytest

from directory.models import Endpoint

from .conftest import assert_problem, reach, suspend

pytestmark = pytest.mark.django_db

URL = "/api/v1/entries/alice/endpoints"


def resolved_uris(client) -> list[str]:
    return [e["uri"] for e in client.get("/api/v1/resolve?handle=@alice").json()["endpoints"]]


def test_the_owner_lists_every_endpoint_with_its_audience(as_alice, alice):
    reach(alice, "sip:alice@example.org", preference=2)
    reach(alice, "xmpp:alice@example.org", audience="nobody", preference=1)

    response = as_alice.get(URL)

    assert response.status_code == 200
    assert [(e["uri"], e["audience"]) for e in response.json()] == [
        ("xmpp:alice@example.org", "nobody"),
        ("sip:alice@example.org", "everyone"),
    ]


def test_the_owner_adds_an_endpoint_in_normal_form(as_alice, anonymous, alice):
    response = as_alice.post(
        URL, {"uri": "https://matrix.to/#/@alice:Matrix.ORG", "label": "Chat"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["uri"] == "https://matrix.to/#/@alice:matrix.org"
    assert (body["service"], body["audience"], body["preference"]) == ("matrix", "everyone", 100)
    assert sorted(body["capabilities"]) == ["text", "video", "voice"]
    assert resolved_uris(anonymous) == ["https://matrix.to/#/@alice:matrix.org"]


def test_it_reads_a_national_tel_number_in_the_given_region(as_alice, alice):
    response = as_alice.post(
        URL,
        {"uri": "tel:06 6985 1242", "region": "it", "audience": "signed_in",
         "capabilities": ["voice"], "preference": 3},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["uri"], body["capabilities"], body["audience"]) == (
        "tel:+390669851242",
        ["voice"],
        "signed_in",
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"uri": "gopher://example.org"}, "uri"),
        ({"uri": "sip:"}, "uri"),
        ({"uri": "tel:06 6985 1242"}, "uri"),
        ({"uri": "http://meet.example.org/room"}, "uri"),
        ({"uri": "https://bücher.example/" + "a" * 2025}, "uri"),
        ({"uri": "tel:0669851242", "region": "QQ"}, "region"),
        ({"uri": "sip:a@example.org", "audience": "friends-of-friends"}, "audience"),
        ({"uri": "sip:a@example.org", "capabilities": ["telepathy"]}, "capabilities"),
        ({"uri": "sip:a@example.org", "capabilities": []}, "capabilities"),
        ({"uri": "sip:a@example.org", "preference": -1}, "preference"),
        ({"uri": "sip:a@example.org", "preference": 40000}, "preference"),
        ({"uri": "sip:a@example.org", "label": "x" * 65}, "label"),
    ],
)
def test_it_refuses_an_unusable_endpoint_and_names_the_field(as_alice, alice, data, field):
    response = as_alice.post(URL, data, format="json")

    body = assert_problem(response, 400)
    # Errors inside a list are keyed by position: "capabilities.0".
    assert field in {key.split(".")[0] for key in body["errors"]}, body
    assert not alice.endpoints.exists()


def test_the_owner_narrows_an_endpoints_audience(as_alice, anonymous, alice):
    endpoint = reach(alice, "sip:alice@example.org", label="Desk")
    assert resolved_uris(anonymous) == ["sip:alice@example.org"]

    response = as_alice.patch(
        f"{URL}/{endpoint.pk}", {"audience": "signed_in", "preference": 7}, format="json"
    )

    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    assert (endpoint.audience, endpoint.preference, endpoint.label) == ("signed_in", 7, "Desk")
    assert resolved_uris(anonymous) == []


def test_a_change_that_is_not_valid_changes_nothing(as_alice, alice):
    endpoint = reach(alice, "sip:alice@example.org")

    response = as_alice.patch(
        f"{URL}/{endpoint.pk}", {"audience": "nobody", "capabilities": ["smell"]}, format="json"
    )

    assert_problem(response, 400)
    endpoint.refresh_from_db()
    assert endpoint.audience == "everyone"


def test_the_owner_deletes_an_endpoint(as_alice, alice):
    endpoint = reach(alice, "sip:alice@example.org")

    assert as_alice.delete(f"{URL}/{endpoint.pk}").status_code == 204
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_it_only_reaches_endpoints_of_this_entry(as_alice, alice, bob):
    theirs = reach(bob, "sip:bob@example.org")

    assert_problem(as_alice.patch(f"{URL}/{theirs.pk}", {"label": "x"}, format="json"), 404)
    assert_problem(as_alice.delete(f"{URL}/{theirs.pk}"), 404)
    theirs.refresh_from_db()
    assert theirs.label == ""


def test_nobody_but_the_owner_manages_the_endpoints(as_bob, anonymous, alice):
    endpoint = reach(alice, "sip:alice@example.org")

    assert_problem(as_bob.get(URL), 403)
    assert_problem(as_bob.post(URL, {"uri": "sip:bob@example.org"}, format="json"), 403)
    assert_problem(as_bob.patch(f"{URL}/{endpoint.pk}", {"audience": "nobody"}, format="json"), 403)
    assert_problem(as_bob.delete(f"{URL}/{endpoint.pk}"), 403)
    assert_problem(anonymous.get(URL), 401)
    assert list(alice.endpoints.values_list("uri", "audience")) == [
        ("sip:alice@example.org", "everyone")
    ]


def test_the_owner_of_a_suspended_entry_reads_but_does_not_change_endpoints(as_alice, alice):
    endpoint = reach(alice, "sip:alice@example.org")
    suspend(alice)

    assert as_alice.get(URL).json()[0]["id"] == endpoint.pk
    assert_problem(as_alice.post(URL, {"uri": "sip:new@example.org"}, format="json"), 403)
    assert_problem(as_alice.delete(f"{URL}/{endpoint.pk}"), 403)
    assert alice.endpoints.count() == 1

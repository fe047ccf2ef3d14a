"""Endpoints and handles on the owner pages; the handle check as you type."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import AuditEvent
from directory.models import Endpoint, Handle
from directory.services import endpoint_add, endpoint_update, entry_create

from .test_entry_pages import field_error, manage_url

pytestmark = pytest.mark.django_db


def endpoint_url(name: str, endpoint: Endpoint) -> str:
    return reverse(f"owner:{name}", args=[endpoint.entry.handle_canonical, endpoint.pk])


def uris(entry) -> list[str]:
    return list(entry.endpoints.order_by("preference", "id").values_list("uri", flat=True))


# -- add ------------------------------------------------------------------------------


def test_it_adds_an_endpoint_after_the_others_with_the_schemes_capabilities(as_alice, alice):
    url = reverse("owner:endpoint-add", args=["alice"])
    form = as_alice.get(url)
    assertContains(form, 'value="30"')
    assert 'form="' not in form.content.decode()  # the page's form object is no form id

    response = as_alice.post(
        url,
        {"uri": "https://meet.jit.si/alice-room", "label": "Video room", "audience": "everyone",
         "preference": "30"},
    )  # fmt: skip

    assert response["Location"] == manage_url("alice")
    added = alice.endpoints.get(uri="https://meet.jit.si/alice-room")
    assert (added.label, added.audience, added.preference) == ("Video room", "everyone", 30)
    assert added.capabilities  # what the scheme offers
    assert uris(alice)[-1] == added.uri


def test_it_refuses_an_address_the_entry_already_lists_and_leaves_it_as_it_was(as_alice, alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")
    endpoint_update(endpoint=sip, audience="nobody")

    response = as_alice.post(
        reverse("owner:endpoint-add", args=["alice"]),
        {"uri": "SIP:alice@EXAMPLE.org", "label": "", "audience": "everyone", "preference": "90"},
    )  # fmt: skip

    assert response.status_code == 409
    assert "already list this address" in field_error(response, "uri")
    sip.refresh_from_db()
    assert (sip.audience, sip.label, sip.preference) == ("nobody", "work", 10)
    assert alice.endpoints.count() == 2


def test_it_refuses_an_invalid_address_beside_the_field(as_alice, alice):
    response = as_alice.post(
        reverse("owner:endpoint-add", args=["alice"]),
        {"uri": "gopher://alice.example", "audience": "everyone", "preference": "30"},
    )

    assert response.status_code == 400
    assert field_error(response, "uri")
    assertContains(response, "There is a problem", status_code=400)
    assert alice.endpoints.count() == 2


def test_it_reads_a_national_number_in_the_given_country(as_alice, alice):
    response = as_alice.post(
        reverse("owner:endpoint-add", args=["alice"]),
        {"uri": "tel:020 7946 0018", "region": "gb", "audience": "contacts", "preference": "5",
         "capabilities": ["voice"]},
    )  # fmt: skip

    assert response.status_code == 302
    added = alice.endpoints.get(uri__startswith="tel:")
    assert (added.uri, added.capabilities, uris(alice)[0]) == (
        "tel:+442079460018",
        ["voice"],
        "tel:+442079460018",
    )


# -- edit -----------------------------------------------------------------------------


def test_an_audience_change_takes_effect_for_an_anonymous_visitor(as_alice, alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")
    assertContains(Client().get("/@alice"), "sip:alice@example.org")
    form = as_alice.get(endpoint_url("endpoint-edit", sip))
    assertContains(form, 'value="sip:alice@example.org"')
    assertContains(form, 'value="voice" id="id_capabilities_0" checked', html=False)

    response = as_alice.post(
        endpoint_url("endpoint-edit", sip),
        {"uri": "sip:alice@example.org", "label": "desk", "audience": "signed_in",
         "capabilities": ["voice", "video"], "preference": "10"},
    )  # fmt: skip

    assert response.status_code == 302
    sip.refresh_from_db()
    assert (sip.audience, sip.label, sip.capabilities) == ("signed_in", "desk", ["voice", "video"])
    assertNotContains(Client().get("/@alice"), "sip:alice@example.org")
    event = AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED)
    assert event.data["changes"]["endpoints"] == {str(sip.pk): ["everyone", "signed_in"]}


def test_it_changes_an_endpoints_address(as_alice, alice):
    xmpp = alice.endpoints.get(uri="xmpp:alice@example.org")

    response = as_alice.post(
        endpoint_url("endpoint-edit", xmpp),
        {"uri": "xmpp:alice@chat.example.org", "audience": "everyone",
         "capabilities": ["text"], "preference": "20"},
    )  # fmt: skip

    assert response.status_code == 302
    xmpp.refresh_from_db()
    assert (xmpp.uri, xmpp.service) == ("xmpp:alice@chat.example.org", "xmpp")


def test_an_edit_that_fails_saves_nothing(as_alice, alice):
    xmpp = alice.endpoints.get(uri="xmpp:alice@example.org")

    clash = as_alice.post(
        endpoint_url("endpoint-edit", xmpp),
        {"uri": "sip:alice@example.org", "audience": "nobody", "label": "x",
         "capabilities": ["text"], "preference": "1"},
    )  # fmt: skip
    no_capability = as_alice.post(
        endpoint_url("endpoint-edit", xmpp),
        {"uri": "xmpp:alice@example.org", "audience": "nobody", "preference": "1"},
    )

    assert clash.status_code == 409
    assert "already one of this entry's endpoints" in field_error(clash, "uri")
    assert no_capability.status_code == 400
    assert "Tick at least one" in field_error(no_capability, "capabilities")
    xmpp.refresh_from_db()
    assert (xmpp.uri, xmpp.audience, xmpp.label, xmpp.preference) == (
        "xmpp:alice@example.org",
        "everyone",
        "",
        20,
    )
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED).exists()


def test_someone_elses_endpoint_is_not_found_on_ones_own_entry(as_alice, alice, bob):
    bobs = bob.endpoints.get()
    url = reverse("owner:endpoint-edit", args=["alice", bobs.pk])

    assert as_alice.get(url).status_code == 404
    assert (
        as_alice.post(reverse("owner:endpoint-delete", args=["alice", bobs.pk])).status_code == 404
    )
    assert as_alice.get(endpoint_url("endpoint-edit", bobs)).status_code == 403
    assert bob.endpoints.count() == 1


# -- reorder and delete ---------------------------------------------------------------


def test_it_moves_endpoints_up_and_down_without_javascript(as_alice, alice):
    xmpp = alice.endpoints.get(uri="xmpp:alice@example.org")
    page = as_alice.get(manage_url("alice")).content.decode()
    assert endpoint_url("endpoint-move", xmpp) in page

    response = as_alice.post(endpoint_url("endpoint-move", xmpp), {"direction": "up"})

    assert response["Location"] == f"{manage_url('alice')}#endpoint-{xmpp.pk}"
    assert uris(alice) == ["xmpp:alice@example.org", "sip:alice@example.org"]
    as_alice.post(endpoint_url("endpoint-move", xmpp), {"direction": "down"})
    assert uris(alice) == ["sip:alice@example.org", "xmpp:alice@example.org"]
    assert (
        as_alice.post(endpoint_url("endpoint-move", xmpp), {"direction": "sideways"}).status_code
        == 400
    )
    assert as_alice.get(endpoint_url("endpoint-move", xmpp)).status_code == 405


def test_it_moves_between_endpoints_of_equal_preference(as_alice, alice):
    third = endpoint_add(entry=alice, uri="mailto:alice@example.org", preference=20)

    as_alice.post(endpoint_url("endpoint-move", third), {"direction": "up"})

    assert uris(alice) == [
        "sip:alice@example.org",
        "mailto:alice@example.org",
        "xmpp:alice@example.org",
    ]
    assert list(alice.endpoints.values_list("preference", flat=True).order_by("preference")) == [
        10,
        20,
        30,
    ]


def test_it_deletes_an_endpoint_after_confirmation(as_alice, alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")
    assertContains(as_alice.get(endpoint_url("endpoint-delete", sip)), "Delete the endpoint")

    response = as_alice.post(endpoint_url("endpoint-delete", sip))

    assert response["Location"] == manage_url("alice")
    assert uris(alice) == ["xmpp:alice@example.org"]


# -- handles --------------------------------------------------------------------------


def test_it_claims_a_handle_then_leads_to_its_proof(as_alice, alice):
    url = reverse("owner:handle-add", args=["alice"])
    assertContains(as_alice.get(url), "@alice@mastodon.social")

    response = as_alice.post(url, {"kind": "fediverse", "value": "@Alice@Mastodon.Social"})

    claim = alice.handles.get(kind="fediverse")
    # The user part keeps the case typed (the remote WebFinger query asks for it); the host
    # is lower-cased.
    assert (claim.canonical, claim.status) == ("Alice@mastodon.social", Handle.Status.UNVERIFIED)
    assert response["Location"] == reverse("verification:proof", args=["alice", claim.pk])


def test_it_refuses_a_malformed_handle_beside_the_field(as_alice, alice):
    response = as_alice.post(
        reverse("owner:handle-add", args=["alice"]), {"kind": "fediverse", "value": "alice"}
    )

    assert response.status_code == 400
    assert field_error(response, "value")
    assertContains(response, "Your full address, for example", status_code=400)
    assert alice.handles.count() == 1


def test_it_removes_a_handle_after_confirmation(as_alice, alice, as_bob):
    claim = alice.handles.get()
    url = reverse("owner:handle-remove", args=["alice", claim.pk])
    assert as_bob.post(url).status_code == 403
    assertContains(as_alice.get(url), "Remove the handle")

    response = as_alice.post(url)

    assert response["Location"] == manage_url("alice")
    assert not alice.handles.exists()


# -- handle check ---------------------------------------------------------------------

CHECK = reverse("owner:handle-check")


def test_the_handle_check_says_whether_a_handle_is_free_and_why_not(as_charlie, alice):
    assert as_charlie.get(CHECK, {"handle": "charlie"}).json() == {
        "handle": "charlie",
        "available": True,
        "message": "@charlie is available.",
    }
    for typed, reason in (
        ("Alice", "@Alice is taken."),
        ("aIice", "looks too much like @alice, which is taken."),
        ("\u0430lice", "cannot mix Cyrillic and Latin letters"),
        ("adm1n", "@adm1n is reserved."),
        ("a", "2"),
    ):
        answer = as_charlie.get(CHECK, {"handle": typed}).json()
        assert answer["available"] is False, typed
        assert reason in answer["message"], (typed, answer)


def test_the_handle_check_does_not_count_ones_own_entry_as_taken(as_alice, as_bob, alice):
    assert as_alice.get(CHECK, {"handle": "ALICE", "entry": "alice"}).json()["available"]
    assert not as_bob.get(CHECK, {"handle": "ALICE", "entry": "alice"}).json()["available"]


def test_the_handle_check_is_throttled_and_needs_a_sign_in(settings, client, as_charlie):
    settings.HANDLE_CHECK_RATE_LIMIT = "2/min"

    answers = [as_charlie.get(CHECK, {"handle": f"free{n}"}) for n in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert client.get(CHECK, {"handle": "x1"}).status_code == 302


def test_the_create_page_uses_the_handle_check_script(as_charlie, charlie_user):
    page = as_charlie.get(reverse("owner:entry-create")).content.decode()
    assert "/static/owner.js" in page
    entry_create(nickname="C", handle="c-one", owner=charlie_user)
    edit = as_charlie.get(reverse("owner:entry-edit", args=["c-one"])).content.decode()
    assert f"{CHECK}?entry=c-one" in edit

"""Creating, managing, renaming and deleting an entry on the owner pages."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from directory.models import Entry
from directory.services import entry_create, handle_add

from .conftest import suspend

pytestmark = pytest.mark.django_db

CREATE = reverse("owner:entry-create")


def manage_url(handle: str) -> str:
    return reverse("owner:entry", kwargs={"handle": handle})


def field_error(response, field: str) -> str:
    """The error shown beside ``field`` (empty when there is none)."""
    html = response.content.decode()
    marker = f'id="id_{field}_error"'
    if marker not in html:
        return ""
    return unescape(html.split(marker, 1)[1].split("</p>", 1)[0])


# -- create ---------------------------------------------------------------------------


def test_it_sends_a_visitor_to_sign_in_first(client):
    response = client.get(CREATE)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={CREATE}"


def test_it_creates_an_entry_owned_by_the_person(as_charlie, charlie_user):
    form = as_charlie.get(CREATE)
    assertContains(form, 'id="id_handle_status"')
    assertContains(form, f'data-handle-check="{reverse("owner:handle-check")}"')

    response = as_charlie.post(
        CREATE, {"nickname": "Charlie Chaplin", "handle": "@Charlie", "discoverable": "on"}
    )

    entry = Entry.objects.get(owner=charlie_user)
    assert (entry.nickname, entry.handle, entry.discoverable) == (
        "Charlie Chaplin",
        "Charlie",
        True,
    )
    assert response.status_code == 302
    assert response["Location"] == manage_url("charlie")
    assertContains(as_charlie.get(response["Location"]), "is in the directory")


def test_it_refuses_a_taken_handle_beside_the_field(as_charlie, alice):
    response = as_charlie.post(CREATE, {"nickname": "Another Alice", "handle": "ALICE"})

    assert response.status_code == 409
    assert "@ALICE is taken." in field_error(response, "handle")
    assertContains(response, "There is a problem", status_code=409)
    assertContains(response, 'value="Another Alice"', status_code=409)
    assert Entry.objects.count() == 1


def test_it_refuses_a_look_alike_handle_with_its_reason(as_charlie, alice):
    response = as_charlie.post(CREATE, {"nickname": "Alice", "handle": "aIice"})

    assert response.status_code == 409
    assert "looks too much like @alice, which is taken" in field_error(response, "handle")
    assert not Entry.objects.filter(nickname="Alice").exists()


def test_it_refuses_an_invalid_handle_and_an_empty_nickname(as_charlie):
    response = as_charlie.post(CREATE, {"nickname": "\u200b", "handle": "a"})

    assert response.status_code == 400
    assert field_error(response, "handle")
    assert "visible character" in field_error(response, "nickname")
    assert not Entry.objects.exists()


def test_the_error_summary_names_the_field_of_each_error(as_charlie):
    response = as_charlie.post(CREATE, {"nickname": "", "handle": ""})

    summary = response.content.decode().split('class="error-summary"', 1)[1].split("</div>")[0]
    assert 'href="#id_nickname">Nickname: This field is required.</a>' in summary
    assert 'href="#id_handle">Handle: This field is required.</a>' in summary


def test_my_entry_leads_to_creating_one_then_to_it_then_to_the_list(as_charlie, charlie_user):
    mine = reverse("owner:mine")
    assert as_charlie.get(mine)["Location"] == CREATE

    entry_create(nickname="Charlie", handle="charlie", owner=charlie_user)
    assert as_charlie.get(mine)["Location"] == manage_url("charlie")

    entry_create(nickname="Charlie at work", handle="charlie-work", owner=charlie_user)
    assert as_charlie.get(mine)["Location"] == reverse("accounts:home")


# -- manage ---------------------------------------------------------------------------


def test_it_shows_the_entry_with_endpoints_handles_and_their_proofs(as_alice, alice):
    response = as_alice.get(manage_url("alice"))

    assert response.status_code == 200
    claim = alice.handles.get()
    for url in (
        reverse("owner:entry-edit", args=["alice"]),
        reverse("owner:entry-delete", args=["alice"]),
        reverse("owner:endpoint-add", args=["alice"]),
        reverse("owner:handle-add", args=["alice"]),
        reverse("contacts:policy", args=["alice"]),
        reverse("verification:page", args=["alice"]),
        reverse("verification:proof", args=["alice", claim.pk]),
        reverse("entry", args=["alice"]),
    ):
        assertContains(response, f'href="{url}"')
    assertContains(response, "sip:alice@example.org".removeprefix("sip:"))
    assertContains(response, "alice@example.org")
    assertContains(response, "Not verified")


def test_someone_elses_entry_is_refused_as_the_api_refuses_it(as_bob, alice):
    assert as_bob.get(manage_url("alice")).status_code == 403
    assert as_bob.get(reverse("owner:entry-edit", args=["alice"])).status_code == 403
    assert as_bob.post(reverse("owner:entry-delete", args=["alice"])).status_code == 403
    assert as_bob.get(manage_url("nobody-here")).status_code == 404
    assert Entry.objects.filter(handle="alice").exists()


def test_a_suspended_entry_is_shown_to_its_owner_and_hidden_from_others(as_alice, as_bob, alice):
    suspend(alice)

    own = as_alice.get(manage_url("alice"))
    hidden = as_bob.get(manage_url("alice"))

    assertContains(own, "Suspended")
    assert reverse("owner:entry-edit", args=["alice"]) not in own.content.decode()
    assert reverse("owner:endpoint-add", args=["alice"]) not in own.content.decode()
    # The owner cannot delete it either (409 from the service): no button leads there.
    assert reverse("owner:entry-delete", args=["alice"]) not in own.content.decode()
    assertContains(own, "neither change nor delete it")
    assert hidden.status_code == 404


def test_a_suspended_entry_refuses_every_change(as_alice, alice):
    suspend(alice)
    endpoint = alice.endpoints.first()
    claim = alice.handles.get()

    for method, url, data in (
        ("get", reverse("owner:entry-edit", args=["alice"]), None),
        ("post", reverse("owner:entry-edit", args=["alice"]), {"nickname": "M", "handle": "m0"}),
        ("post", reverse("owner:endpoint-add", args=["alice"]), {"uri": "sip:x@example.org"}),
        (
            "post",
            reverse("owner:endpoint-move", args=["alice", endpoint.pk]),
            {"direction": "down"},
        ),
        ("post", reverse("owner:endpoint-delete", args=["alice", endpoint.pk]), None),
        ("post", reverse("owner:handle-add", args=["alice"]), {"kind": "github", "value": "a"}),
        ("post", reverse("owner:handle-remove", args=["alice", claim.pk]), None),
    ):
        response = getattr(as_alice, method)(url, data or {})
        assert response.status_code == 403, url
        assertContains(response, "suspended", status_code=403)
    alice.refresh_from_db()
    assert (alice.nickname, alice.endpoints.count(), alice.handles.count()) == (
        "Alice Liddell",
        2,
        1,
    )


# -- edit -----------------------------------------------------------------------------


def test_it_renames_the_entry(as_alice, alice):
    url = reverse("owner:entry-edit", args=["alice"])
    assertContains(as_alice.get(url), 'value="alice"')

    response = as_alice.post(url, {"nickname": "Alice L.", "handle": "alice-l"})

    assert response["Location"] == manage_url("alice-l")
    alice.refresh_from_db()
    assert (alice.nickname, alice.handle) == ("Alice L.", "alice-l")


def test_it_keeps_the_handle_when_only_the_nickname_changes(as_alice, alice):
    response = as_alice.post(
        reverse("owner:entry-edit", args=["alice"]), {"nickname": "Alice", "handle": "@alice"}
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.nickname, alice.handle) == ("Alice", "alice")


def test_a_rename_to_a_taken_handle_saves_nothing(as_alice, alice, bob):
    response = as_alice.post(
        reverse("owner:entry-edit", args=["alice"]), {"nickname": "New name", "handle": "B0b"}
    )

    assert response.status_code == 409
    assert "looks too much like @bob" in field_error(response, "handle")
    alice.refresh_from_db()
    assert (alice.nickname, alice.handle) == ("Alice Liddell", "alice")


# -- delete ---------------------------------------------------------------------------


def test_it_deletes_the_entry_after_confirmation(as_alice, alice):
    url = reverse("owner:entry-delete", args=["alice"])
    assertContains(as_alice.get(url), "Delete the entry")
    assert Entry.objects.filter(pk=alice.pk).exists()

    response = as_alice.post(url)

    assert response["Location"] == reverse("accounts:home")
    assert not Entry.objects.filter(pk=alice.pk).exists()


def test_a_suspended_entry_cannot_be_deleted(as_alice, alice):
    suspend(alice)

    response = as_alice.post(reverse("owner:entry-delete", args=["alice"]))

    assert response.status_code == 409
    assertContains(response, "is suspended, so it cannot be deleted", status_code=409)
    assert Entry.objects.filter(pk=alice.pk).exists()


# -- account page ---------------------------------------------------------------------


def test_the_account_page_offers_to_create_an_entry_first(as_charlie):
    response = as_charlie.get(reverse("accounts:home"))

    assertContains(response, "You have no entry yet.")
    assertContains(response, f'href="{CREATE}"')


def test_the_account_page_leads_to_each_entry_and_says_when_one_is_suspended(
    as_alice, alice, alice_user
):
    other = entry_create(nickname="Alice at work", handle="alice-work", owner=alice_user)
    handle_add(entry=other, kind="github", raw="alice-w")
    suspend(other)

    response = as_alice.get(reverse("accounts:home"))

    for handle in ("alice", "alice-work"):
        for url in (
            manage_url(handle),
            reverse("verification:page", args=[handle]),
            reverse("entry", args=[handle]),
        ):
            assertContains(response, f'href="{url}"')
    assertContains(response, "a moderator suspended this entry")
    assertContains(response, f'href="{reverse("numbers:list")}"')
    assertContains(response, f'href="{reverse("moderation:notices")}"')

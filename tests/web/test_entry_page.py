"""The entry page at /@{handle}."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from directory.exceptions import NormalizationError
from directory.services import endpoint_add, entry_create

from .conftest import SITE_URL

pytestmark = pytest.mark.django_db


def _handle_item(response, text: str) -> str:
    """The list item of the Handles section that shows ``text``."""
    section = response.content.decode().split('id="handles"', 1)[1]
    items = [item for item in section.split("<li")[1:] if f">{text}</a>" in item]
    assert len(items) == 1, f"{text!r} in {len(items)} handle items"
    return items[0].split("</li>", 1)[0]


def test_it_shows_nickname_handle_and_verified_badges(client: Client, alice):
    response = client.get("/@alice")

    assert response.status_code == 200
    assertContains(response, '<h1 class="p-name">Alice Liddell</h1>', html=True)
    assertContains(
        response, f'<a class="u-url u-uid" href="{SITE_URL}/@alice">@Alice</a>', html=True
    )
    github = _handle_item(response, "@alice-l")
    assert "Verified" in github
    claim = _handle_item(response, "alice@example.org")
    assert "Claimed, not verified" in claim
    assert "Verified" not in claim


def test_it_links_endpoints_with_working_hrefs(client: Client, alice):
    response = client.get("/@alice")

    for href, text, microformat in (
        ("sip:alice@example.org", "alice@example.org", "u-impp"),
        ("https://matrix.to/#/@alice:example.org", "@alice:example.org", "u-impp"),
        ("xmpp:alice@example.org", "alice@example.org", "u-impp"),
        ("mailto:alice@example.org", "alice@example.org", "u-email"),
        ("tel:+15555550100;ext=12", "+1 555-555-0100 ext. 12", "p-tel"),
        ("https://meet.jit.si/alice-room", "https://meet.jit.si/alice-room", "u-url"),
    ):
        assertContains(
            response,
            f'<a class="{microformat}" href="{href}" rel="nofollow noopener">{text}</a>',
            html=True,
        )
    assertContains(response, '<span class="label">Chat room</span>', html=True)
    assertContains(response, '<span class="capability capability-video">video</span>', html=True)


def test_it_lists_endpoints_in_preference_order(client: Client, alice):
    body = client.get("/@alice").content.decode()

    hrefs = [
        "sip:alice@example.org",
        "https://matrix.to/#/@alice:example.org",
        "xmpp:alice@example.org",
        "mailto:alice@example.org",
        "tel:+15555550100;ext=12",
        "https://meet.jit.si/alice-room",
    ]
    positions = [body.index(f'href="{href}"') for href in hrefs]
    assert positions == sorted(positions)


def test_it_hides_signed_in_and_nobody_endpoints_from_anonymous_visitors(client, alice):
    body = client.get("/@alice").content.decode()

    assert "alice-private@example.org" not in body
    assert "alice-secret@example.org" not in body


def test_it_shows_signed_in_endpoints_to_a_signed_in_visitor(client, alice, bob_user):
    client.force_login(bob_user)
    body = client.get("/@alice").content.decode()

    assert 'href="sip:alice-private@example.org"' in body
    assert "alice-secret@example.org" not in body
    assert body.index("sip:alice-private@example.org") < body.index('href="sip:alice@example.org"')


def test_it_shows_every_endpoint_and_the_audience_to_the_owner(client, alice, alice_user):
    client.force_login(alice_user)
    response = client.get("/@alice")

    assertContains(response, 'href="xmpp:alice-secret@example.org"')
    assertContains(response, "Visible to: Nobody")


def test_it_never_shows_a_phone_number_handle_to_others(client, alice, bob_user, alice_user):
    assertNotContains(client.get("/@alice"), "5555550123")
    client.force_login(bob_user)
    assertNotContains(client.get("/@alice"), "5555550123")
    client.force_login(alice_user)
    assertContains(client.get("/@alice"), "+15555550123")


def test_it_redirects_other_spellings_to_the_canonical_url(client, alice):
    for spelling in ("/@ALICE", "/@Alice", "/@%EF%BC%A1lice"):  # the last: fullwidth Ａ
        response = client.get(spelling)
        assert response.status_code == 301, spelling
        assert response["Location"] == "/@alice"


def test_it_answers_a_suspended_entry_exactly_like_a_missing_one(client, suspended):
    hidden = client.get("/@mallory")
    missing = client.get("/@nobody-here")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert b"Mallory" not in hidden.content


def test_it_does_not_redirect_other_spellings_of_a_suspended_entry(client, suspended):
    response = client.get("/@MALLORY")

    assert response.status_code == 404
    assert response.content == client.get("/@nobody-here").content


def test_it_shows_a_suspended_entry_to_its_owner(client, suspended):
    client.force_login(suspended.owner)
    response = client.get("/@mallory")

    assertContains(response, "This entry is suspended")
    assertContains(response, 'href="sip:mallory@example.org"')


def test_it_adds_alternate_and_rel_me_links(client, alice):
    response = client.get("/@alice")

    assertContains(
        response,
        f'<link rel="alternate" type="text/vcard" href="{SITE_URL}/@alice.vcf" '
        'title="vCard of @Alice">',
        html=True,
    )
    assertContains(
        response,
        f'<link rel="alternate" type="application/json" href="{SITE_URL}/api/v1/entries/alice">',
        html=True,
    )
    assertContains(response, '<link rel="me" href="https://alice.example.org/">', html=True)
    assertContains(response, '<link rel="me" href="https://github.com/alice-l">', html=True)
    assertNotContains(response, '<link rel="me" href="mailto:alice@example.org">', html=True)
    assertContains(
        response, f'<a href="{SITE_URL}/@alice.vcf" download>Download vCard</a>', html=True
    )


def test_it_gives_unverified_handles_no_rel_me(client, alice):
    handle = alice.handles.get(kind="web")
    handle.status = "stale"
    handle.save()

    response = client.get("/@alice")

    assertNotContains(response, '<link rel="me" href="https://alice.example.org/">', html=True)
    assertContains(response, "Claimed, proof expired")


def test_it_escapes_what_the_owner_typed(client, alice_user):
    entry = entry_create(nickname="<script>alert(1)</script>", handle="xss", owner=alice_user)
    endpoint_add(entry=entry, uri="sip:x@example.org", label='"><img src=x onerror=alert(1)>')

    body = client.get("/@xss").content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body


def test_it_shows_unicode_handles_and_redirects_to_their_canonical_form(client, alice_user):
    entry_create(nickname="Алиса", handle="Алиса", owner=alice_user)

    redirect = client.get("/@Алиса")
    page = client.get(redirect["Location"])

    assert redirect.status_code == 301
    assert redirect["Location"] == "/@%D0%B0%D0%BB%D0%B8%D1%81%D0%B0"
    assertContains(page, "@Алиса")


def test_it_refuses_handles_that_would_shadow_a_vcard_address(alice_user):
    with pytest.raises(NormalizationError):
        entry_create(nickname="Bob", handle="bob.vcf", owner=alice_user)


def test_it_rate_limits_each_client_address(client, alice, settings):
    settings.PUBLIC_RATE_LIMIT = "2/min"

    statuses = [client.get("/@alice").status_code for _ in range(3)]
    other = client.get("/@alice", REMOTE_ADDR="192.0.2.7")
    limited = client.get("/@alice")

    assert statuses == [200, 200, 429]
    assert other.status_code == 200
    assert 1 <= int(limited["Retry-After"]) <= 60

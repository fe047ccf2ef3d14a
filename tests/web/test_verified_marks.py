"""Verified at a glance: the entry page, the search results, the search-as-you-type
fragment and the API show each verified handle with when it was proved and last checked,
and say plainly when a handle is demo data rather than a proof."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from directory.models import Entry
from directory.services import entry_create, handle_add, handle_mark_verified
from directory.verification.services import verification_record_demo

pytestmark = pytest.mark.django_db

PROVED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CHECKED = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)


@pytest.fixture
def ada(django_capture_on_commit_callbacks) -> Entry:
    """Ada: a domain proved on 1 March 2026 and re-checked on 8 March, and a claim."""
    with django_capture_on_commit_callbacks(execute=True):
        entry = entry_create(nickname="Ada Lovelace", handle="ada")
        domain = handle_add(entry=entry, kind="domain", raw="ada.example")
        handle_mark_verified(handle=domain, when=PROVED, method="domain")
        domain.checked_at = CHECKED
        domain.save(update_fields=["checked_at"])
        handle_add(entry=entry, kind="github", raw="ada-unproven")
    return entry


@pytest.fixture
def zoe(settings, django_capture_on_commit_callbacks) -> Entry:
    """Zoë of the demo directory: her email address is verified as demo data."""
    settings.DEMO_DATA = True
    with django_capture_on_commit_callbacks(execute=True):
        entry = entry_create(nickname="Zoë van der Berg", handle="zoe")
        verification_record_demo(
            handle=handle_add(entry=entry, kind="email", raw="zoe@example.com")
        )
    return entry


def _mark(html: str, value: str) -> str:
    """The text from ``value`` to the end of its verified mark."""
    start = html.index(value)
    end = html.index("</span></span>", start)
    return html[start:end]


def _assert_dated_mark(html: str, value: str) -> None:
    mark = _mark(html, value)
    assert '<span class="badge verified"><span aria-hidden="true">✓</span> Verified</span>' in mark
    # The dates are text a screen reader reads, not a title attribute.
    assert 'proved <time datetime="2026-03-01T09:30:00+00:00">March 1, 2026</time>' in mark
    assert 'last checked <time datetime="2026-03-08T10:00:00+00:00">March 8, 2026</time>' in mark
    assert "title=" not in mark
    assert "Demo" not in mark


def _assert_demo_mark(html: str, value: str) -> None:
    mark = _mark(html, value)
    assert "✓</span> Verified</span>" in mark
    assert '<span class="badge demo">Demo</span>' in mark
    assert "demo data, not a proof" in mark
    assert "proved" not in mark


def test_the_entry_page_dates_each_verified_handle(client: Client, ada):
    html = client.get("/@ada").content.decode()

    _assert_dated_mark(html, ">ada.example</a>")
    claim = html[html.index(">@ada-unproven</a>") :].split("</li>", 1)[0]
    assert "Claimed, not verified" in claim and "Verified" not in claim
    assert "Demo data" not in html


def test_the_entry_page_says_demo_data_is_not_a_proof(client: Client, zoe):
    response = client.get("/@zoe")
    html = response.content.decode()

    _assert_demo_mark(html, ">zoe@example.com</a>")
    assertContains(response, "Their handles marked Demo were not proved")


def test_search_results_date_each_verified_handle(client: Client, ada, zoe):
    html = client.get("/search", {"q": "ada"}).content.decode()
    _assert_dated_mark(html, '<span class="value"><mark>ada</mark>.example</span>')
    assert "ada-unproven" not in html

    html = client.get("/search", {"q": "zoe"}).content.decode()
    _assert_demo_mark(html, '<span class="value"><mark>zoe</mark>@example.com</span>')


def test_the_live_search_fragment_dates_each_verified_handle(client: Client, ada, zoe):
    html = client.get("/search", {"q": "ada", "partial": "1"}).content.decode()
    assert 'role="option"' in html
    _assert_dated_mark(html, '<span class="value"><mark>ada</mark>.example</span>')

    html = client.get("/search", {"q": "zoe", "partial": "1"}).content.decode()
    _assert_demo_mark(html, '<span class="value"><mark>zoe</mark>@example.com</span>')


def test_the_api_says_how_each_verified_handle_was_verified(client: Client, ada, zoe):
    demo = client.get("/api/v1/resolve", {"handle": "zoe@example.com"}).json()
    assert demo["handles"] == [
        {
            "kind": "email",
            "value": "zoe@example.com",
            "display": "zoe@example.com",
            "uri": "mailto:zoe@example.com",
            "status": "verified",
            "verified_at": demo["handles"][0]["verified_at"],
            "verification": {"method": "demo", "note": "demo data, not a proof"},
        }
    ]
    proved = {h["value"]: h for h in client.get("/api/v1/entries/ada").json()["handles"]}
    assert proved["ada.example"]["verification"] == {"method": "domain", "note": None}
    assert proved["ada-unproven"]["verification"] is None
    found = client.get("/api/v1/search", {"q": "zoe"}).json()["results"][0]
    assert found["handles"][0]["verification"]["note"] == "demo data, not a proof"


def test_an_anonymous_visitor_is_asked_to_sign_in_to_save_or_report(client: Client, ada):
    response = client.get("/@ada")

    assertNotContains(response, "Save contact</button>")
    assertNotContains(response, "/moderation/report/")
    html = response.content.decode()
    links = re.findall(r'href="(/account/sign-in/\?next=[^"]+)"[^>]*>([^<]+)</a>', html)
    assert ("/account/sign-in/?next=%2F%40ada", "Sign in to save this contact") in links
    assert ("/account/sign-in/?next=%2F%40ada", "Sign in to report this entry") in links
    # The prompt leads back: signing in there returns to the entry page.
    assert client.get(links[0][0]).status_code == 200


def test_a_signed_in_visitor_gets_the_buttons_not_the_prompt(client: Client, ada, bob_user):
    entry_create(nickname="Bob", handle="bob", owner=bob_user)
    client.force_login(bob_user)

    response = client.get("/@ada")

    assertContains(response, "Save contact</button>")
    assertContains(response, "/moderation/report/@ada")
    assertNotContains(response, "Sign in to")

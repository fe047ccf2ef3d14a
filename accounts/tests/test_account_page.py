"""The person's own page: email address, entries, second factors, security activity."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.services import audit_record
from accounts.tests.conftest import password_step
from directory.services import entry_create

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")


def test_it_asks_a_visitor_to_sign_in(client):
    response = client.get(HOME)

    assert response["Location"] == f"{reverse('accounts:login')}?next={HOME}"


def test_it_lists_the_persons_entries_factors_and_own_security_activity(
    client, alice, alice_totp, django_user_model
):
    entry_create(nickname="Alice Liddell", handle="alice", owner=alice)
    bob = django_user_model.objects.create_user("bob@example.org", "bob@example.org", "pw")
    entry_create(nickname="Bob", handle="bob", owner=bob)
    audit_record(action=AuditEvent.Action.PASSWORD_CHANGED, user=bob)
    password_step(client, alice.email, password="wrong")

    client.force_login(alice)
    response = client.get(HOME)

    html = response.content.decode()
    assert "alice@example.org" in html
    assert 'href="/@alice"' in html
    assert "@bob" not in html
    assert "Authenticator app" in html
    assert [e.action for e in response.context["events"]] == [
        AuditEvent.Action.SIGN_IN,
        AuditEvent.Action.SIGN_IN_FAILED,
    ]
    assert "Security activity" in html and "Sign-in failed" in html
    assert "Password changed" not in html


def test_the_nav_offers_sign_in_and_sign_up_then_the_account(client, alice):
    page = client.get(reverse("accounts:login")).content.decode()
    assert f'href="{reverse("accounts:signup")}"' in page

    client.force_login(alice)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{HOME}"' in page


def test_it_links_every_page_a_person_manages(client, alice):
    entry_create(nickname="Alice Liddell", handle="alice", owner=alice)
    client.force_login(alice)

    html = client.get(HOME).content.decode()

    for url in (
        reverse("contacts:policy", args=["alice"]),
        reverse("contacts:list"),
        reverse("calling_apps:list"),
        reverse("data_rights:page"),
    ):
        assert f'href="{url}"' in html


def test_an_event_without_an_address_says_so_instead_of_an_empty_from(client, alice):
    audit_record(action=AuditEvent.Action.PASSWORD_CHANGED, user=alice)
    client.force_login(alice)

    html = client.get(HOME).content.decode()

    row = html.split("Password changed", 1)[1].split("</tr>", 1)[0]
    assert "not recorded" in row

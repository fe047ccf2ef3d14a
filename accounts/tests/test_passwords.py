"""Changing a password, and resetting a forgotten one by email; both audited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.tests.conftest import PASSWORD, password_step

pytestmark = pytest.mark.django_db

NEW = "another long passphrase entirely"


def test_it_changes_the_password_when_the_old_one_is_given(client, alice):
    client.force_login(alice)

    refused = client.post(
        reverse("accounts:password-change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )

    assert refused.status_code == 200 and refused.context["form"].errors
    assert response["Location"] == reverse("accounts:home")
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert alice.audit_events.filter(action=AuditEvent.Action.PASSWORD_CHANGED).count() == 1


def test_a_reset_link_by_email_sets_a_new_password(client, alice, mailoutbox):
    client.post(reverse("accounts:password-reset"), {"email": "ALICE@example.org"})

    assert [m.to for m in mailoutbox] == [["alice@example.org"]]
    path = re.search(
        r"https://worldbook\.example(/account/password-reset/\S+/)", mailoutbox[0].body
    )[1]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}
    )

    assert response["Location"] == reverse("accounts:password-reset-complete")
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert alice.audit_events.filter(action=AuditEvent.Action.PASSWORD_RESET).count() == 1
    assert password_step(client, alice.email, password=NEW)["Location"] == reverse("accounts:home")


def test_a_reset_request_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, mailoutbox
):
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.org"})

    assert response["Location"] == reverse("accounts:password-reset-done")
    assert mailoutbox == []


def test_a_used_reset_link_does_not_work_again(client, alice, mailoutbox):
    client.post(reverse("accounts:password-reset"), {"email": alice.email})
    path = re.search(
        r"https://worldbook\.example(/account/password-reset/\S+/)", mailoutbox[0].body
    )[1]
    form_page = client.get(path, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})

    again = client.get(path, follow=True)

    assert not again.context["validlink"]

"""Owners are told of a change to their handle that they did not make and that nothing
accounts for: an alert on their log page and an email."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from accounts.services import audit_record
from tests.api.conftest import UserFactory, client_for, reach
from transparency.models import LogAlert, LogLeaf
from transparency.verifier import note

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def log(settings):
    settings.SITE_URL = "https://worldbook.example"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"alerts-{uuid.uuid4().hex}",
        }
    }
    settings.TRANSPARENCY_SIGNING_KEY, _ = note.generate_key("worldbook.example/log")


@pytest.fixture
def kim():
    owner = UserFactory(username="kim", email="kim@example.org")
    client = client_for(owner)
    response = client.post("/api/v1/entries", {"handle": "kim", "nickname": "Kim"}, format="json")
    assert response.status_code == 201, response.content
    return owner, client


def test_changes_made_from_the_owners_account_raise_no_alert(kim):
    owner, client = kim
    response = client.post(
        "/api/v1/entries/kim/endpoints", {"uri": "sip:kim@sip.example.org"}, format="json"
    )
    assert response.status_code == 201, response.content
    leaves = LogLeaf.objects.filter(handle="kim")
    assert leaves.count() == 2 and {leaf.actor_id for leaf in leaves} == {owner.pk}
    assert not LogAlert.objects.exists() and mail.outbox == []


def test_a_change_nothing_accounts_for_is_flagged_by_email_and_on_the_log_page(kim):
    from directory.models import Entry

    owner, _ = kim
    entry = Entry.objects.get(handle_canonical="kim")
    # Made outside any request of the owner's (a script, the server itself), no audit event.
    reach(entry, "sip:mallory@evil.example")
    alert = LogAlert.objects.get()
    assert (alert.recipient, alert.leaf.seq) == (owner, 1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kim@example.org"]
    assert "@kim" in message.subject and "/account/entries/kim/log#record-1" in message.body
    assert LogAlert.objects.get().emailed_at is not None

    page = Client()
    page.force_login(owner)
    html = page.get("/account/entries/kim/log").content.decode()
    assert "Not made by you" in html and 'role="alert"' in html

    # Another signed-in account's change is flagged too.
    stranger = UserFactory(username="mallory")
    from transparency.actors import _request

    class _Req:
        user = stranger

    token = _request.set(_Req())
    try:
        reach(entry, "xmpp:mallory@evil.example")
    finally:
        _request.reset(token)
    assert LogAlert.objects.count() == 2


def test_a_change_with_a_matching_audit_event_is_accounted_for(kim):
    from directory.models import Entry

    entry = Entry.objects.get(handle_canonical="kim")
    moderator = UserFactory(username="moderator")
    with transaction.atomic():
        reach(entry, "sip:kim@sip.example.org")
        audit_record(
            action="endpoint_hidden", actor=moderator, reason="spam", target=("entry", entry.pk)
        )
    assert LogLeaf.objects.filter(handle="kim").count() == 2
    assert not LogAlert.objects.exists() and mail.outbox == []

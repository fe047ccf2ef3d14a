"""People for the contacts tests, built through the real actions.

Alice owns ``@alice`` and keeps an address book. Bob (``@bob``) has verified an email
address, a Matrix ID and a WhatsApp number; Dora (``@dora``) has verified a GitHub
account and keeps her number unfindable; Hal is suspended. Charlie is signed in and
owns no entry.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from directory.models import Entry
from directory.services import (
    entry_create,
    entry_set_status,
    entry_update,
    handle_add,
    handle_mark_verified,
)
from tests.sites import DOMAIN, SITE_URL, use_test_site  # noqa: F401 (the tests import them from here)

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(autouse=True)
def _site(settings):
    use_test_site(settings, "contacts-tests")


def verified(entry: Entry, kind: str, raw: str) -> None:
    handle_mark_verified(handle=handle_add(entry=entry, kind=kind, raw=raw))


@pytest.fixture
def users(django_user_model) -> dict:
    return {
        name: django_user_model.objects.create_user(name, f"{name}@example.org", "pw")
        for name in ("alice", "bob", "dora", "hal", "charlie")
    }


@pytest.fixture
def alice(users) -> Entry:
    return entry_create(nickname="Alice Liddell", handle="alice", owner=users["alice"])


@pytest.fixture
def bob(users) -> Entry:
    entry = entry_create(nickname="Bob Builder", handle="bob", owner=users["bob"])
    verified(entry, "email", "Bob@Example.net")
    verified(entry, "matrix", "@bob:matrix.org")
    verified(entry, "whatsapp", "+1 415 555 0111")
    return entry


@pytest.fixture
def dora(users) -> Entry:
    entry = entry_create(nickname="Dora", handle="dora", owner=users["dora"])
    verified(entry, "github", "dora-d")
    verified(entry, "whatsapp", "+1 415 555 0122")
    return entry_update(entry=entry, findable_by_number=False)


@pytest.fixture
def hal(users) -> Entry:
    entry = entry_create(nickname="Hal", handle="hal", owner=users["hal"])
    verified(entry, "email", "hal@example.net")
    return entry_set_status(entry=entry, status=Entry.Status.SUSPENDED)


def api_as(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def web_as(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + slug), body
    assert body["detail"]
    return body


def vcard(*cards: str) -> bytes:
    """A vCard 3.0 file holding ``cards`` (each the lines between BEGIN and END)."""
    out = []
    for card in cards:
        out += ["BEGIN:VCARD", "VERSION:3.0", *card.strip().splitlines(), "END:VCARD"]
    return ("\r\n".join(out) + "\r\n").encode("utf-8")

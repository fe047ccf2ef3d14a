"""Shared data for the web tests, built through directory.services.

Personas: alice owns an entry; bob is signed in with no entry of his own; an anonymous
visitor is the plain test client.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from directory.models import Entry
from directory.services import (
    endpoint_add,
    entry_create,
    entry_set_status,
    handle_add,
    handle_mark_verified,
)

SITE_URL = "https://worldbook.example"
DOMAIN = "worldbook.example"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    # Fast hashing: the tests sign people in, they do not test password storage.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice_user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "alice-pw-1")


@pytest.fixture
def bob_user(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.net", "bob-pw-1")


@pytest.fixture
def alice(alice_user) -> Entry:
    """Alice's entry: verified GitHub and web handles, an unverified email claim, a
    verified WhatsApp number, and endpoints for every audience."""
    entry = entry_create(nickname="Alice Liddell", handle="Alice", owner=alice_user)
    for kind, raw in (
        ("github", "alice-l"),
        ("web", "https://alice.example.org/"),
        ("whatsapp", "+15555550123"),
    ):
        handle_mark_verified(handle=handle_add(entry=entry, kind=kind, raw=raw))
    handle_add(entry=entry, kind="email", raw="alice@example.org")
    endpoint_add(entry=entry, uri="sip:alice@example.org", preference=10, label="work")
    endpoint_add(entry=entry, uri="matrix:u/alice:example.org", preference=20)
    endpoint_add(entry=entry, uri="xmpp:alice@example.org", preference=30, label="Chat room")
    endpoint_add(entry=entry, uri="mailto:alice@example.org", preference=40, label="home")
    endpoint_add(entry=entry, uri="tel:+1-555-555-0100;ext=12", preference=50, label="mobile")
    endpoint_add(entry=entry, uri="https://meet.jit.si/alice-room", preference=60)
    endpoint_add(
        entry=entry, uri="sip:alice-private@example.org", preference=5, audience="signed_in"
    )
    endpoint_add(entry=entry, uri="xmpp:alice-secret@example.org", preference=1, audience="nobody")
    return entry


@pytest.fixture
def suspended(django_user_model) -> Entry:
    owner = django_user_model.objects.create_user("mallory", "", "mallory-pw-1")
    entry = entry_create(nickname="Mallory", handle="mallory", owner=owner)
    endpoint_add(entry=entry, uri="sip:mallory@example.org")
    return entry_set_status(entry=entry, status=Entry.Status.SUSPENDED)

"""Personas of the owner-page tests, built through directory.services.

alice owns the entry @alice (two endpoints, an email claim); bob owns @bob; charlie is
signed in with no entry; an anonymous visitor is the plain test client.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from directory.models import Entry
from directory.services import endpoint_add, entry_create, entry_set_status, handle_add

SITE_URL = "https://worldbook.example"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = "worldbook.example"
    settings.ALLOWED_HOSTS = ["testserver", "worldbook.example"]
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
def charlie_user(django_user_model):
    return django_user_model.objects.create_user("charlie", "charlie@example.com", "c-pw-1")


@pytest.fixture
def alice(alice_user) -> Entry:
    entry = entry_create(nickname="Alice Liddell", handle="alice", owner=alice_user)
    endpoint_add(entry=entry, uri="sip:alice@example.org", preference=10, label="work")
    endpoint_add(entry=entry, uri="xmpp:alice@example.org", preference=20)
    handle_add(entry=entry, kind="email", raw="alice@example.org")
    return entry


@pytest.fixture
def bob(bob_user) -> Entry:
    entry = entry_create(nickname="Bob", handle="bob", owner=bob_user)
    endpoint_add(entry=entry, uri="sip:bob@example.net")
    return entry


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_alice(alice_user) -> Client:
    return _client(alice_user)


@pytest.fixture
def as_bob(bob_user) -> Client:
    return _client(bob_user)


@pytest.fixture
def as_charlie(charlie_user) -> Client:
    return _client(charlie_user)


def suspend(entry: Entry) -> Entry:
    return entry_set_status(entry=entry, status=Entry.Status.SUSPENDED)

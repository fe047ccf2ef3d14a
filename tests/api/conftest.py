"""Factories and personas for the API tests; every entry is built through directory.services.

Personas (healthchecks style): alice owns an entry; bob is signed in and owns an entry
with a verified handle (a "verified caller"); charlie is signed in with no entry; an
anonymous caller is a plain client.
"""

from __future__ import annotations

import uuid

import factory
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from directory import services
from directory.models import Endpoint, Entry, Handle

DOMAIN = "worldbook.example"
SITE_URL = f"https://{DOMAIN}"
PASSWORD = "correct horse battery staple"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(autouse=True)
def _site(settings):
    """Our own acct: domain and site URL, cheap password hashing, and a cache (the
    throttle counters) that no other test shares."""
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"api-tests-{uuid.uuid4().hex}",
        }
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class EntryFactory(factory.Factory):
    """An entry made by :func:`directory.services.entry_create`."""

    class Meta:
        model = Entry

    handle = factory.Sequence(lambda n: f"entry{n}")
    nickname = factory.LazyAttribute(lambda entry: entry.handle.capitalize())
    owner = None
    discoverable = True

    @classmethod
    def _create(cls, model_class, **kwargs) -> Entry:
        return services.entry_create(**kwargs)


def claim(entry: Entry, kind: str, raw: str, *, verified: bool = True) -> Handle:
    """Claim a handle for ``entry`` and, unless told otherwise, mark it verified."""
    handle = services.handle_add(entry=entry, kind=kind, raw=raw)
    return services.handle_mark_verified(handle=handle) if verified else handle


def reach(entry: Entry, uri: str, **settings) -> Endpoint:
    """Add an endpoint to ``entry`` (keyword arguments as for ``endpoint_add``)."""
    return services.endpoint_add(entry=entry, uri=uri, **settings)


def suspend(entry: Entry) -> Entry:
    return services.entry_set_status(entry=entry, status=Entry.Status.SUSPENDED)


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    """Check that ``response`` is an RFC 9457 problem document; return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    return body


@pytest.fixture
def alice_user(db) -> User:
    return UserFactory(username="alice")


@pytest.fixture
def bob_user(db) -> User:
    return UserFactory(username="bob")


@pytest.fixture
def charlie_user(db) -> User:
    return UserFactory(username="charlie")


@pytest.fixture
def alice(alice_user) -> Entry:
    return EntryFactory(handle="alice", nickname="Alice Liddell", owner=alice_user)


@pytest.fixture
def bob(bob_user) -> Entry:
    """Bob's entry, with a verified handle: Bob is a verified caller."""
    entry = EntryFactory(handle="bob", nickname="Bob", owner=bob_user)
    claim(entry, "github", "bob-builds")
    return entry


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def as_alice(alice_user) -> APIClient:
    return client_for(alice_user)


@pytest.fixture
def as_bob(bob_user) -> APIClient:
    return client_for(bob_user)


@pytest.fixture
def as_charlie(charlie_user) -> APIClient:
    return client_for(charlie_user)

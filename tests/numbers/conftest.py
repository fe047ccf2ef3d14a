"""Fixtures for the phone-number tests: a test site, the locmem SMS gateway, fixed hash
keys, and personas built through the real services.

alice owns an entry and links numbers; bob owns an entry with a verified handle and saved
alice as a contact; charlie is signed in with no entry.
"""

from __future__ import annotations

import re

import pytest

from accounts.contacts import contact_save
from directory.numbers import services
from directory.numbers.hashing import HashKey
from directory.numbers.models import LinkedNumber
from directory.numbers.sms import locmem
from tests.api.conftest import EntryFactory, UserFactory, claim, client_for  # noqa: F401
from tests.sites import use_test_site

NUMBER = "+14155550123"
# The number as people write it: E.164, international with spaces and dashes, national,
# digits only.
SPELLINGS = [
    "+14155550123",
    "14155550123",
    "4155550123",
    "+1 415 555 0123",
    "+1-415-555-0123",
    "+1 (415) 555-0123",
    "(415) 555-0123",
    "415-555-0123",
    "415 555 0123",
    "415.555.0123",
]
KEY_V1 = HashKey(1, b"first-secret-for-numbers")
KEY_V2 = HashKey(2, b"second-secret-for-numbers")


@pytest.fixture(autouse=True)
def _numbers_site(settings):
    use_test_site(settings, "numbers-tests")
    settings.NUMBER_SMS_BACKEND = "directory.numbers.sms.locmem.LocmemSmsBackend"
    settings.NUMBER_HASH_KEYS = (KEY_V1,)
    locmem.outbox.clear()
    yield
    locmem.outbox.clear()


def last_code(to: str = NUMBER) -> str:
    """The code of the last message texted to ``to``."""
    sent = [m for m in locmem.outbox if m.to == to]
    assert sent, f"no message was sent to {to}"
    return re.search(r"\b(\d{6})\b", sent[-1].body).group(1)


def link(entry, number: str = NUMBER) -> LinkedNumber:
    """Link ``number`` to ``entry`` the way its owner does: ask for a code, enter it."""
    services.number_send_code(entry=entry, raw=number)
    return services.number_verify(entry=entry, raw=number, code=last_code(number))


@pytest.fixture
def alice_user(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob_user(db):
    return UserFactory(username="bob")


@pytest.fixture
def charlie_user(db):
    return UserFactory(username="charlie")


@pytest.fixture
def alice(alice_user):
    return EntryFactory(handle="alice", nickname="Alice Liddell", owner=alice_user)


@pytest.fixture
def bob(bob_user, alice):
    """Bob's entry, with a verified handle; bob saved alice in his contacts."""
    entry = EntryFactory(handle="bob", nickname="Bob", owner=bob_user)
    claim(entry, "github", "bob-builds")
    contact_save(owner=entry, saved=alice)
    return entry

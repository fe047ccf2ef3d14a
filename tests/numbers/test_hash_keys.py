"""The keyed hash: HMAC-SHA256 under versioned secrets, and secret rotation."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.core.exceptions import ImproperlyConfigured

from directory.numbers import services
from directory.numbers.hashing import HashKey, number_digest, parse_hash_keys
from directory.numbers.models import RetiredNumber
from directory.numbers.selectors import number_lookup
from tests.numbers.conftest import KEY_V1, KEY_V2, NUMBER, link


def test_the_digest_is_hmac_sha256_of_the_e164_number():
    expected = hmac.new(b"first-secret-for-numbers", NUMBER.encode(), hashlib.sha256).hexdigest()
    assert number_digest(NUMBER, KEY_V1) == expected
    assert number_digest(NUMBER, KEY_V2) != expected


def test_it_reads_versioned_keys_newest_first():
    keys = parse_hash_keys(
        "2:second-secret-value,1:first-secret-value", secret_key="x", allow_derived=False
    )
    assert keys == (HashKey(2, b"second-secret-value"), HashKey(1, b"first-secret-value"))


@pytest.mark.parametrize(
    "raw",
    [
        "",  # production needs keys
        "secret-without-version",
        "0:a-secret-of-enough-length",
        "x:a-secret-of-enough-length",
        "2:short",
        "1:a-secret-of-enough-length,2:another-secret-long-enough",  # oldest first
        "1:a-secret-of-enough-length,1:another-secret-long-enough",
    ],
)
def test_it_refuses_bad_keys_loudly(raw):
    with pytest.raises(ImproperlyConfigured):
        parse_hash_keys(raw, secret_key="x", allow_derived=False)


def test_development_derives_a_key_from_the_secret_key():
    first = parse_hash_keys("", secret_key="one", allow_derived=True)
    assert first == parse_hash_keys("", secret_key="one", allow_derived=True)
    assert first != parse_hash_keys("", secret_key="two", allow_derived=True)


@pytest.mark.django_db
def test_numbers_hashed_under_an_old_key_still_answer(alice, bob_user, settings):
    settings.NUMBER_HASH_KEYS = (KEY_V1,)
    services.number_end_forwarding(linked=link(alice))
    assert RetiredNumber.objects.get().key_version == 1

    # Rotation: a new key comes first, the old one stays to read old records.
    settings.NUMBER_HASH_KEYS = (KEY_V2, KEY_V1)
    answer = number_lookup(NUMBER, caller=bob_user)
    assert answer.status == "retired"
    # New records are made under the newest key.
    services.number_end_forwarding(linked=link(alice, "+14155550177"))
    assert RetiredNumber.objects.order_by("-id").first().key_version == 2
    assert number_lookup("+14155550177", caller=bob_user).status == "retired"

    # Once the old key is dropped, its records no longer match anything.
    settings.NUMBER_HASH_KEYS = (KEY_V2,)
    assert number_lookup(NUMBER, caller=bob_user).status == "unknown"
    assert number_lookup("+14155550177", caller=bob_user).status == "retired"

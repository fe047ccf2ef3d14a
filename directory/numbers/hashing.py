"""The keyed hash kept of a retired number: HMAC-SHA256 of its E.164 form.

A bare hash of a phone number is no secret (there are few enough numbers to hash them all),
so only a keyed hash is kept, under a server secret with a version, newest first. A digest
made under an older version still answers lookups until that version is dropped from
``NUMBER_HASH_KEYS``. The HMAC is RFC 2104 with SHA-256 (FIPS 180-4).

This module has no model imports: the settings read their keys through it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

# Version given to the development key derived from SECRET_KEY.
DERIVED_KEY_VERSION = 1


@dataclass(frozen=True)
class HashKey:
    """One versioned secret: ``version`` (a positive integer) and ``secret`` (bytes)."""

    version: int
    secret: bytes


def parse_hash_keys(raw: str, *, secret_key: str, allow_derived: bool) -> tuple[HashKey, ...]:
    """Read ``NUMBER_HASH_KEYS``: ``"<version>:<secret>,<version>:<secret>"``, newest first.

    Inputs: the variable's text; the ``SECRET_KEY`` and whether a key derived from it may
    stand in when the variable is empty (development only). Output: the keys, newest first.
    Raises ``ImproperlyConfigured`` for an empty value in production, a malformed item, a
    version that is not a positive integer, a repeated version, a secret shorter than 16
    characters, or versions not in decreasing order.
    """
    if not raw.strip():
        if not allow_derived:
            raise ImproperlyConfigured(
                "NUMBER_HASH_KEYS must be set when DEBUG is off and the database is not the "
                "embedded SQLite one (./deploy/run generates one into the var directory)"
            )
        derived = hmac.new(
            secret_key.encode(), b"worldbook.numbers.hash-key", hashlib.sha256
        ).digest()
        return (HashKey(DERIVED_KEY_VERSION, derived),)
    keys: list[HashKey] = []
    for position, item in enumerate(raw.split(","), start=1):
        version_text, sep, secret = item.strip().partition(":")
        if not sep or not version_text.strip().isdigit() or int(version_text) < 1:
            raise ImproperlyConfigured(
                f"NUMBER_HASH_KEYS item {position} must look like '<version>:<secret>' "
                "with a positive integer version"
            )
        if len(secret) < 16:
            raise ImproperlyConfigured(
                f"NUMBER_HASH_KEYS item {position}: the secret needs at least 16 characters"
            )
        keys.append(HashKey(int(version_text), secret.encode()))
    versions = [key.version for key in keys]
    if len(set(versions)) != len(versions):
        raise ImproperlyConfigured("NUMBER_HASH_KEYS names a version twice")
    if versions != sorted(versions, reverse=True):
        raise ImproperlyConfigured("NUMBER_HASH_KEYS must list the newest version first")
    return tuple(keys)


def number_digest(e164: str, key: HashKey) -> str:
    """HMAC-SHA256 of ``e164`` (``"+15551234567"``) under ``key``, as 64 hex digits."""
    return hmac.new(key.secret, e164.encode("ascii"), hashlib.sha256).hexdigest()


def current_key() -> HashKey:
    """The newest key of ``settings.NUMBER_HASH_KEYS``, under which new digests are made."""
    from django.conf import settings

    return settings.NUMBER_HASH_KEYS[0]


def number_digests(e164: str) -> list[tuple[int, str]]:
    """``(version, digest)`` of ``e164`` under every configured key, newest first: what a
    lookup compares stored digests against."""
    from django.conf import settings

    return [(key.version, number_digest(e164, key)) for key in settings.NUMBER_HASH_KEYS]


def mask_number(e164: str) -> str:
    """A display form that names no number: the calling code's ``+``, bullets, and the
    last two digits (``+•••••••••67``). Used wherever a person must recognise their own
    number (pages, logs of the console SMS backend) without it being written in clear."""
    return "+" + "•" * max(len(e164) - 3, 0) + e164[-2:]

"""The log's signing key, read from settings (TRANSPARENCY_SIGNING_KEY)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from transparency.verifier.note import Signer


@lru_cache(maxsize=4)
def _signer(key: str) -> Signer:
    return Signer.from_key(key)


def log_signer() -> Signer | None:
    """The log's Signer, or None when no TRANSPARENCY_SIGNING_KEY is set.

    The signer's name is the log's origin (c2sp.org/tlog-checkpoint). Raises
    ImproperlyConfigured when the key cannot be read.
    """
    key = settings.TRANSPARENCY_SIGNING_KEY
    if not key:
        return None
    try:
        return _signer(key)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRANSPARENCY_SIGNING_KEY: {exc}") from None

"""A site for tests that render URLs and count rate limits: fixed domain, fresh cache."""

from __future__ import annotations

import uuid

DOMAIN = "worldbook.example"
SITE_URL = f"https://{DOMAIN}"


def use_test_site(settings, cache_name: str) -> None:
    """Point ``settings`` (pytest-django's fixture) at :data:`SITE_URL`, hash passwords
    fast, and give the test a cache of its own, so rate-limit counters start at zero."""
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"{cache_name}-{uuid.uuid4().hex}",
        }
    }

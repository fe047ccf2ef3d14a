"""Counters the search backends keep for operators, shared by every process.

They live in Django's cache (Redis in production, files in the embedded default), so the
web processes, the workers and ``manage.py`` all add to and read the same numbers. They
are operational figures, not records: a cache flush resets them, and while Redis is down
each process counts on its own (:func:`directory.cache.with_local_fallback`).
"""

from __future__ import annotations

from django.core.cache import cache

from directory.cache import with_local_fallback

FALLBACKS = "search:meilisearch:fallbacks"
# Counters are kept for a month after their last change.
TIMEOUT_SECONDS = 30 * 24 * 3600


@with_local_fallback
def increment(name: str) -> int:
    """Add one to the counter ``name`` and return its new value (1 for a new counter)."""
    if cache.add(name, 1, timeout=TIMEOUT_SECONDS):
        return 1
    try:
        return cache.incr(name)
    except ValueError:  # expired between add() and incr()
        cache.add(name, 1, timeout=TIMEOUT_SECONDS)
        return 1


@with_local_fallback
def read(name: str) -> int:
    """The counter ``name``; 0 when it was never incremented."""
    return int(cache.get(name, 0))

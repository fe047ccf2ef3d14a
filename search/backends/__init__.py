"""Search backends behind one interface, chosen by ``settings.SEARCH_BACKEND``.

``SEARCH_BACKEND`` names a backend (``database``, ``meilisearch``) or gives the dotted path
of a :class:`~search.backends.base.SearchBackend` subclass; the class is imported only when
first asked for, so a deployment never imports a client library it does not use.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from search.backends.base import SearchBackend

BACKENDS = {
    "database": "search.backends.database.DatabaseBackend",
    "meilisearch": "search.backends.meilisearch.MeilisearchBackend",
}

__all__ = ["BACKENDS", "SearchBackend", "get_backend"]


def get_backend() -> SearchBackend:
    """Return the configured search backend (one shared instance per setting value).

    Raises ``ImproperlyConfigured`` when ``SEARCH_BACKEND`` names no importable
    :class:`SearchBackend` subclass.
    """
    return _backend(settings.SEARCH_BACKEND)


@functools.cache
def _backend(name: str) -> SearchBackend:
    path = BACKENDS.get(name, name)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"SEARCH_BACKEND={name!r}: cannot import {path} ({exc})"
        ) from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, SearchBackend)):
        raise ImproperlyConfigured(f"SEARCH_BACKEND={name!r}: {path} is not a SearchBackend")
    return backend_class()


@receiver(setting_changed)
def _forget_backend(*, setting: str, **kwargs) -> None:
    # Backends read their settings when built; tests that change them get a fresh one.
    if setting == "SEARCH_BACKEND" or setting.startswith("MEILISEARCH_"):
        _backend.cache_clear()

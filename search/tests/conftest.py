"""Fixtures for the search tests.

Entries are built through :mod:`directory.services`, and the sync tasks those actions
schedule on commit run when the ``built`` block ends (Celery runs them in-process: see the
project conftest). The index is therefore written by the same path as in production:
action → ``schedule_entry_sync`` → ``search.sync_entry`` task → backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from directory import services
from directory.models import Entry


@pytest.fixture
def built(django_capture_on_commit_callbacks) -> Callable:
    """``with built(): ...`` runs the on-commit callbacks (index syncs) the block scheduled."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def make_entry(built) -> Callable[..., Entry]:
    """Create an entry through the directory's actions and let its sync tasks run.

    ``verified`` and ``claimed`` are ``(kind, raw)`` pairs of external handles, proved and
    merely claimed.
    """

    def make(
        nickname: str,
        handle: str,
        *,
        verified: Iterable[tuple[str, str]] = (),
        claimed: Iterable[tuple[str, str]] = (),
        discoverable: bool = True,
    ) -> Entry:
        with built():
            entry = services.entry_create(
                nickname=nickname, handle=handle, discoverable=discoverable
            )
            for kind, raw in verified:
                handle_row = services.handle_add(entry=entry, kind=kind, raw=raw)
                services.handle_mark_verified(handle=handle_row)
            for kind, raw in claimed:
                services.handle_add(entry=entry, kind=kind, raw=raw)
        return entry

    return make

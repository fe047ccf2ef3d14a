"""Keeping the search index in step with the directory."""

from __future__ import annotations


def schedule_entry_sync(entry_id: int) -> None:
    """Enqueue the index update for ``entry_id`` once the current transaction commits.

    The task re-reads the entry, so it indexes what was committed, or removes the entry
    from the index when it is gone, suspended or unlisted.
    """
    from search.tasks import sync_entry

    sync_entry.delay_on_commit(entry_id)

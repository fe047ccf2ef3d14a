"""Keeping the search index in step with the directory."""

from __future__ import annotations

from django.db import transaction


class _SyncAfterCommit:
    """The on-commit callback that enqueues one entry's index update.

    A class rather than a closure so :func:`schedule_entry_sync` can see that the current
    transaction already holds one for the same entry.
    """

    def __init__(self, entry_id: int) -> None:
        self.entry_id = entry_id
        self.ran = False

    def __call__(self) -> None:
        from search.tasks import sync_entry

        self.ran = True
        sync_entry.delay(self.entry_id)


def schedule_entry_sync(entry_id: int) -> None:
    """Enqueue the index update for ``entry_id`` once the current transaction commits.

    The task re-reads the entry, so it indexes what was committed, or removes the entry
    from the index when it is gone, suspended or unlisted. Several changes to one entry in
    one transaction (an import adds a dozen handles and endpoints) enqueue one task: a
    callback that is still pending (not yet run) for the entry is reused. Django drops the
    callbacks of a rolled-back savepoint from ``run_on_commit``, so a dropped one is never
    relied on.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        isinstance(callback, _SyncAfterCommit)
        and callback.entry_id == entry_id
        and not callback.ran
        for _sids, callback, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_SyncAfterCommit(entry_id))

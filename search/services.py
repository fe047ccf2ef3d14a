"""Keeping the search index in step with the directory."""

from __future__ import annotations

from directory.outbox import outbox_enqueue


def schedule_entry_sync(entry_id: int) -> None:
    """Enqueue the index update for ``entry_id`` once the current transaction commits.

    The update is an outbox row written in the current transaction
    (:func:`directory.outbox.outbox_enqueue`), so it is kept even when the broker is down
    and sent by the relay once it is back. The task re-reads the entry, so it indexes what
    was committed, or removes the entry from the index when it is gone, suspended or
    unlisted. Several changes to one entry in one transaction (an import adds a dozen
    handles and endpoints) enqueue one task, and an update still waiting in the outbox
    absorbs later ones (one dedupe key per entry).
    """
    outbox_enqueue("search.sync_entry", args=[entry_id], dedupe_key=f"search.sync_entry:{entry_id}")

"""Celery tasks that keep the search index in step with the database.

Tasks take ids, re-read the database and call one backend method, so they are idempotent
and safe to deliver twice (``acks_late``): a lost worker's message runs again.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from search.models import PendingSync

logger = logging.getLogger(__name__)

RETRY_MAX = 8
RETRY_FACTOR_SECONDS = 2
RETRY_CEILING_SECONDS = 600
DRAIN_BATCH = 500


def mark_pending(entry_ids: list[int], error: BaseException) -> None:
    """Record durably that ``entry_ids`` still need an index update (see
    :class:`search.models.PendingSync`). A database that cannot take the marker (it may be
    the very error) is logged; the task's own retries still run."""
    reason = f"{type(error).__name__}: {error}"[:500]
    try:
        for entry_id in entry_ids:
            _, created = PendingSync.objects.get_or_create(
                entry_id=entry_id, defaults={"attempts": 1, "last_error": reason}
            )
            if not created:
                PendingSync.objects.filter(pk=entry_id).update(
                    attempts=F("attempts") + 1, last_error=reason, last_failed_at=timezone.now()
                )
    except DatabaseError:
        logger.exception("Could not mark %d entries as pending a search sync", len(entry_ids))


def _clear_pending(entry_ids: list[int]) -> None:
    PendingSync.objects.filter(entry_id__in=entry_ids).delete()


def _countdown(retries: int) -> float:
    return get_exponential_backoff_interval(
        factor=RETRY_FACTOR_SECONDS,
        retries=retries,
        maximum=RETRY_CEILING_SECONDS,
        full_jitter=True,
    )


@shared_task(bind=True, name="search.sync_entry", acks_late=True, max_retries=RETRY_MAX)
def sync_entry(self, entry_id: int) -> None:
    """Index ``entry_id`` if it is listed, remove it from the index otherwise.

    Errors the backend calls transient (an unreachable server, a locked database) are
    retried up to ``RETRY_MAX`` times after 2, 4, 8 … seconds (at most
    ``RETRY_CEILING_SECONDS``), each delay drawn at random below that bound ("full
    jitter") so that retries from many workers do not arrive together. A failed attempt
    marks the entry pending (:func:`mark_pending`) and a successful one clears the mark,
    so an update whose retries all failed is still made by :func:`drain_pending`.
    """
    from search.backends import get_backend

    backend = get_backend()
    try:
        backend.sync_entry(entry_id)
    except backend.transient_errors as exc:
        mark_pending([entry_id], exc)
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc
    _clear_pending([entry_id])


@shared_task(bind=True, name="search.remove_entries", acks_late=True, max_retries=RETRY_MAX)
def remove_entries(self, entry_ids: list[int]) -> None:
    """Remove the entries ``entry_ids`` (deleted ones, typically) from the search index.

    Calls the backend's ``remove_entry`` for each id; removing an id the index does not
    hold does nothing, so a retry or a second delivery is harmless. Transient errors are
    retried as :func:`sync_entry` retries them.
    """
    from search.backends import get_backend

    backend = get_backend()
    try:
        for entry_id in entry_ids:
            backend.remove_entry(entry_id)
    except backend.transient_errors as exc:
        # A sync of a deleted entry removes it, so the drain can finish the job.
        mark_pending(entry_ids, exc)
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc
    _clear_pending(entry_ids)


@shared_task(name="search.drain_pending")
def drain_pending() -> int:
    """Sync the entries marked pending (:class:`search.models.PendingSync`), oldest first,
    at most ``DRAIN_BATCH`` per run (Celery beat runs it every ``SEARCH_DRAIN_INTERVAL``
    seconds).

    Each entry is synced afresh (indexed if listed, removed otherwise) and its mark
    deleted; the first transient error stops the run (the backend is still down) and
    counts one more attempt on that entry. Output: the number of entries synced.
    """
    from search.backends import get_backend

    backend = get_backend()
    synced = 0
    for entry_id in PendingSync.objects.order_by("last_failed_at").values_list(
        "entry_id", flat=True
    )[:DRAIN_BATCH]:
        try:
            backend.sync_entry(entry_id)
        except backend.transient_errors as exc:
            mark_pending([entry_id], exc)
            logger.warning("Search index still unreachable; %d pending syncs done", synced)
            break
        _clear_pending([entry_id])
        synced += 1
    return synced

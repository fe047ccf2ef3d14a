"""Celery tasks that keep the search index in step with the database.

Tasks take ids, re-read the database and call one backend method, so they are idempotent
and safe to deliver twice (``acks_late``): a lost worker's message runs again.
"""

from __future__ import annotations

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

RETRY_MAX = 8
RETRY_FACTOR_SECONDS = 2
RETRY_CEILING_SECONDS = 600


@shared_task(bind=True, name="search.sync_entry", acks_late=True, max_retries=RETRY_MAX)
def sync_entry(self, entry_id: int) -> None:
    """Index ``entry_id`` if it is listed, remove it from the index otherwise.

    Errors the backend calls transient (an unreachable server, a locked database) are
    retried up to ``RETRY_MAX`` times after 2, 4, 8 … seconds (at most
    ``RETRY_CEILING_SECONDS``), each delay drawn at random below that bound ("full
    jitter") so that retries from many workers do not arrive together.
    """
    from search.backends import get_backend

    backend = get_backend()
    try:
        backend.sync_entry(entry_id)
    except backend.transient_errors as exc:
        countdown = get_exponential_backoff_interval(
            factor=RETRY_FACTOR_SECONDS,
            retries=self.request.retries,
            maximum=RETRY_CEILING_SECONDS,
            full_jitter=True,
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


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
        countdown = get_exponential_backoff_interval(
            factor=RETRY_FACTOR_SECONDS,
            retries=self.request.retries,
            maximum=RETRY_CEILING_SECONDS,
            full_jitter=True,
        )
        raise self.retry(exc=exc, countdown=countdown) from exc

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

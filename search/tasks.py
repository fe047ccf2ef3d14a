"""Celery tasks that keep the search index in step with the database."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="search.sync_entry",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def sync_entry(entry_id: int) -> None:
    """Index ``entry_id`` if it is listed, remove it from the index otherwise."""
    from search.backends import get_backend

    get_backend().sync_entry(entry_id)

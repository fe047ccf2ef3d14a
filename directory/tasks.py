"""Celery tasks of the core directory."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="directory.outbox_relay")
def outbox_relay() -> int:
    """Publish the side effects the broker could not take when they were written
    (:func:`directory.outbox.outbox_relay`); output: how many were published."""
    from directory.outbox import outbox_relay as relay

    return relay()

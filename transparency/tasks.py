"""Celery tasks of the transparency log: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from transparency import services


@shared_task(name="transparency.integrate", acks_late=True)
def integrate() -> int:
    """Integrate every pending leaf, batch by batch; return the tree size reached (0: none).

    Idempotent, so safe to run late or twice: each batch is one transaction under the
    tree's lock, and leaves already integrated are never taken again.
    """
    size = 0
    while (checkpoint := services.log_integrate()) is not None:
        size = checkpoint.size
    return size

"""The transactional outbox: side effects of a write survive a broker outage.

A service that schedules a Celery task calls :func:`outbox_enqueue` inside its transaction.
That writes a :class:`directory.models.OutboxMessage` row beside the change, so the effect
is committed exactly when the change is, and registers an on-commit callback that hands
the row to the broker and deletes it once the broker has accepted it. When the broker is
down the write still succeeds: the row stays, and ``directory.outbox_relay`` (Celery beat,
every ``OUTBOX_RELAY_INTERVAL`` seconds) publishes what is left once the broker is back.

Delivery is at least once: a row published whose deletion then failed is published again.
Every task sent this way takes ids and re-reads the database, so a second run is harmless.

When Celery runs tasks in-process (``task_always_eager``, the tests), "published" means
the task ran: the row is deleted and the task run when the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from directory.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_BATCH = 500


class _PublishAfterCommit:
    """The on-commit callback that publishes one outbox row.

    A class rather than a closure so :func:`outbox_enqueue` can see that the current
    transaction already holds one for the same ``dedupe_key``.
    """

    def __init__(self, row_id: int, dedupe_key: str | None) -> None:
        self.row_id = row_id
        self.dedupe_key = dedupe_key
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        outbox_publish(self.row_id)


def outbox_enqueue(
    task_name: str,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Record that ``task_name`` must run with ``args``/``kwargs`` once the current
    transaction commits, and publish it to the broker after commit.

    Inputs: the task's registered name (``"search.sync_entry"``); JSON-serialisable
    ``args`` and ``kwargs`` (ids, not objects); ``dedupe_key``, naming an effect whose
    repeats are one: while a row with that key is pending, enqueueing it again replaces its
    arguments instead of adding a row, and a second enqueue in the same transaction does
    nothing. Outside a transaction the row is committed and published at once.
    Output: none. Errors: database errors of the insert propagate (the write fails with
    its side effect, never without it); a broker that refuses the message does not raise
    (see :func:`outbox_publish`). Pattern: the transactional outbox.
    """
    connection = transaction.get_connection()
    if (
        dedupe_key is not None
        and connection.in_atomic_block
        and any(
            isinstance(callback, _PublishAfterCommit)
            and callback.dedupe_key == dedupe_key
            and not callback.ran
            for _sids, callback, _robust in connection.run_on_commit
        )
    ):
        return
    row = OutboxMessage(
        task=task_name, args=list(args), kwargs=dict(kwargs or {}), dedupe_key=dedupe_key
    )
    with transaction.atomic():
        if dedupe_key is None:
            row.save()
        else:
            # One pending row per key: a repeat updates the row a relay has not yet sent.
            # A row being published is locked, so the upsert waits and then inserts anew.
            (row,) = OutboxMessage.objects.bulk_create(
                [row],
                update_conflicts=True,
                unique_fields=["dedupe_key"],
                update_fields=["task", "args", "kwargs"],
            )
    from directory.celery import app

    # Robust: the change is committed, so nothing after it may fail the request; a row
    # whose publishing failed stays for the relay. Tasks run in-process keep their errors.
    transaction.on_commit(
        _PublishAfterCommit(row.pk, dedupe_key), robust=not app.conf.task_always_eager
    )


def _send(message: OutboxMessage) -> None:
    from directory.celery import app

    if app.conf.task_always_eager:
        if message.task not in app.tasks:
            # Task modules are discovered lazily (a worker discovers them when it starts).
            app.loader.import_default_modules()
        app.tasks[message.task].apply_async(args=message.args, kwargs=message.kwargs)
        return
    # One connection attempt and no publish retries: a request must not wait for a broker
    # that is down (kombu would retry for seconds), and the row keeps the message for the
    # relay.
    with app.pool.acquire(block=True) as connection:
        connection.ensure_connection(max_retries=0)
        app.send_task(
            message.task,
            args=message.args,
            kwargs=message.kwargs,
            retry=False,
            connection=connection,
        )


def outbox_publish(row_id: int) -> bool:
    """Hand outbox row ``row_id`` to the broker and delete it once the broker accepted it.

    Input: the row's id. Output: ``True`` when the row is gone (published now, or already
    published by someone else, or being published by a concurrent relay), ``False`` when
    the broker refused it; the row then stays with one more attempt and the error, for
    :func:`outbox_relay` to try again. Errors: none from the broker (they are logged);
    database errors propagate. In eager mode the row is deleted first and the task's own
    exceptions propagate, as a task run in-process always did.
    """
    from directory.celery import app

    if app.conf.task_always_eager:
        message = OutboxMessage.objects.filter(pk=row_id).first()
        if message is None:
            return True
        message.delete()
        _send(message)
        return True
    with transaction.atomic():
        # Locked while published, so a relay and the on-commit callback never both send it.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=row_id).first()
        )
        if message is None:
            return True
        try:
            _send(message)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning(
                "Broker refused %s (outbox row %s); the relay will send it: %s",
                message.task,
                row_id,
                reason,
            )
            OutboxMessage.objects.filter(pk=row_id).update(
                attempts=message.attempts + 1, last_error=reason
            )
            return False
        message.delete()
    return True


def outbox_relay(limit: int = RELAY_BATCH) -> int:
    """Publish pending outbox rows, oldest first, at most ``limit`` per run.

    Stops at the first row the broker refuses (it is still down). Output: the number of
    rows published. Run by the ``directory.outbox_relay`` task (Celery beat).
    """
    pending = OutboxMessage.objects.order_by("created_at", "pk").values_list("pk", flat=True)
    published = 0
    for row_id in pending[:limit]:
        if not outbox_publish(row_id):
            break
        published += 1
    return published

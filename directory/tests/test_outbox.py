"""The outbox: side effects recorded with the write, coalesced, and deleted only once the
broker has them.

The broker is a real Redis server on a spare port that the tests stop and start; tasks are
sent to it for real (not run in-process), and what it holds is read back from it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest
import redis

from directory import services
from directory.models import OutboxMessage
from directory.outbox import outbox_enqueue, outbox_publish, outbox_relay
from tests.e2e.test_worker import _configure_sender
from tests.redis_server import REDIS_SERVER, RedisServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
]


@pytest.fixture
def broker(tmp_path) -> Iterator[RedisServer]:
    """A real Redis broker this process sends to (tasks are not run in-process); running.

    Celery prefers the environment's ``CELERY_BROKER_URL`` to its configuration, so the
    sender is pointed at this server through ``broker_write_url``.
    """
    from directory.celery import app

    server = RedisServer(tmp_path)
    server.start()
    saved = {
        "broker_write_url": app.conf.get("broker_write_url"),
        "task_always_eager": app.conf.task_always_eager,
        "task_default_queue": app.conf.task_default_queue,
        "broker_transport_options": app.conf.broker_transport_options,
    }
    _configure_sender(
        app,
        broker_write_url=server.url(),
        task_always_eager=False,
        task_default_queue=f"outbox-test-{uuid.uuid4().hex[:8]}",
        broker_transport_options={},
    )
    try:
        yield server
    finally:
        _configure_sender(app, **saved)
        server.stop()


def _queued(server: RedisServer) -> list[tuple[str, list]]:
    """(task name, args) of every message waiting in the test's queue, oldest first."""
    from directory.celery import app

    client = redis.Redis.from_url(server.url())
    messages = [json.loads(raw) for raw in client.lrange(app.conf.task_default_queue, 0, -1)]
    client.close()
    # kombu pushes on the left and pops on the right.
    return [
        (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[0])
        for message in reversed(messages)
    ]


def test_it_publishes_after_commit_and_deletes_the_row(broker):
    entry = services.entry_create(nickname="Ada Lovelace", handle="ada")
    assert ("search.sync_entry", [entry.pk]) in _queued(broker)
    assert not OutboxMessage.objects.exists()


def test_it_keeps_one_pending_row_per_entry_while_the_broker_is_down(broker):
    broker.stop()
    entry = services.entry_create(nickname="Ada Lovelace", handle="ada")
    services.endpoint_add(entry=entry, uri="sip:ada@example.com")
    services.endpoint_add(entry=entry, uri="mailto:ada@example.com")

    syncs = OutboxMessage.objects.filter(task="search.sync_entry")
    assert [row.args for row in syncs] == [[entry.pk]]
    (row,) = syncs
    assert row.dedupe_key == f"search.sync_entry:{entry.pk}"
    assert row.attempts >= 1 and row.last_error
    assert OutboxMessage.objects.filter(task="moderation.impersonation_check").count() == 1


def test_it_keeps_every_row_without_a_dedupe_key(broker):
    broker.stop()
    outbox_enqueue("search.remove_entries", args=[[1, 2]])
    outbox_enqueue("search.remove_entries", args=[[1, 2]])
    assert OutboxMessage.objects.filter(task="search.remove_entries").count() == 2


def test_it_deletes_a_row_only_once_the_broker_accepted_it(broker):
    broker.stop()
    outbox_enqueue("search.remove_entries", args=[[7]])
    (row,) = OutboxMessage.objects.all()

    assert outbox_publish(row.pk) is False
    row.refresh_from_db()
    assert row.attempts == 2  # once after commit, once now
    assert "Error" in row.last_error
    assert outbox_relay() == 0
    assert OutboxMessage.objects.filter(pk=row.pk).exists()

    broker.start()  # empty: nothing was accepted while it was down
    assert _queued(broker) == []
    assert outbox_relay() == 1
    assert not OutboxMessage.objects.exists()
    assert _queued(broker) == [("search.remove_entries", [[7]])]


def test_a_relay_sends_pending_rows_oldest_first(broker):
    broker.stop()
    first = services.entry_create(nickname="Ada Lovelace", handle="ada")
    second = services.entry_create(nickname="Grace Hopper", handle="grace")
    pending = OutboxMessage.objects.count()
    broker.start()
    assert outbox_relay() == pending
    syncs = [args for task, args in _queued(broker) if task == "search.sync_entry"]
    assert syncs == [[first.pk], [second.pk]]
    assert not OutboxMessage.objects.exists()


def test_in_process_tasks_run_on_commit_and_leave_no_row():
    """Without a broker fixture the tests run tasks in-process: the outbox runs them."""
    from search.backends import get_backend

    entry = services.entry_create(nickname="Ada Lovelace", handle="ada")
    assert not OutboxMessage.objects.exists()
    assert get_backend().search("Lovelace", limit=20, offset=0)[0] == [entry.pk]


def test_operators_see_pending_rows_in_the_admin(broker, admin_user):
    from directory.moderation.tests.fixtures import admin_client_for

    broker.stop()
    outbox_enqueue("search.remove_entries", args=[[41]])
    page = admin_client_for(admin_user).get("/admin/directory/outboxmessage/")
    assert page.status_code == 200
    assert b"search.remove_entries" in page.content and b"Connection refused" in page.content


@pytest.mark.postgres
def test_two_relays_at_once_publish_each_row_once(broker):
    """Two beats started by mistake run the relay at the same moment: each row is taken by
    one of them (row locks, skip_locked), so the broker gets every message once."""
    import threading

    from django.db import connection

    broker.stop()
    for n in range(30):
        outbox_enqueue("search.remove_entries", args=[[n]])
    broker.start()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def relay() -> None:
        try:
            start.wait(timeout=10)
            outbox_relay()
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(args[0][0] for _task, args in _queued(broker)) == list(range(30))
    assert not OutboxMessage.objects.exists()

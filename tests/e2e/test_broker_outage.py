"""A broker outage delays side effects and loses none.

People write through the API while the broker is down: every write answers 2xx and its
side effects wait in the outbox. Then the broker is back and a real Celery worker with an
embedded beat starts: the relay publishes the outbox, the worker runs the tasks, and the
search index holds exactly the directory (``search_check`` finds no drift).

It runs on two brokers. Redis: a real server on a spare port, stopped during the outage and
started again. RabbitMQ: the shared server cannot be stopped, so during the outage this
process sends to a port where nothing listens (connections refused at once, as from a
stopped server), and the worker and its relay then use the real server.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.brokers import Broker, with_vhost
from tests.e2e.test_worker import _configure_sender, eventually, run_celery_worker
from tests.redis_server import REDIS_SERVER, RedisServer, spare_port

pytestmark = [pytest.mark.worker]


@dataclass
class OutageBroker:
    """A broker that is down until :meth:`start`: ``down_url`` is where this process sends
    during the outage, ``broker`` what the worker reads once it is back."""

    down_url: str
    broker: Broker
    server: RedisServer | None = None

    def start(self) -> None:
        if self.server is not None:
            self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture(params=["redis", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request, tmp_path: Path) -> Iterator[OutageBroker]:
    """A broker that is down, for the test to bring back; this process sends to it."""
    from directory.celery import app

    if request.param == "redis":
        if REDIS_SERVER is None:
            pytest.skip("needs redis-server")
        server = RedisServer(tmp_path)
        outage = OutageBroker(server.url(), Broker("redis", server.url()), server)
    else:
        vhost = request.getfixturevalue("rabbitmq_vhost")
        down = with_vhost(f"amqp://guest:guest@127.0.0.1:{spare_port()}/", vhost.name)
        outage = OutageBroker(down, Broker("rabbitmq", vhost.url))
    saved = {
        "broker_write_url": app.conf.get("broker_write_url"),
        "broker_transport_options": app.conf.broker_transport_options,
    }
    _configure_sender(app, broker_write_url=outage.down_url, broker_transport_options={})
    try:
        yield outage
    finally:
        _configure_sender(app, **saved)
        outage.stop()


@pytest.mark.django_db(transaction=True)
def test_writes_during_a_broker_outage_succeed_and_reach_search_after_it(broker, tmp_path):
    from rest_framework.test import APIClient

    from accounts.models import User
    from directory.models import Entry, OutboxMessage
    from search.backends import get_backend

    suffix = uuid.uuid4().hex[:6]
    owner = User.objects.create_user("ottilie", email="ottilie@example.org", password="x")
    client = APIClient()
    client.force_authenticate(owner)

    handles = [f"ottilie{suffix}", f"ottilie{suffix}b"]
    for handle in handles:
        created = client.post(
            "/api/v1/entries",
            {"nickname": "Ottilie Fernsworth", "handle": handle, "discoverable": True},
            format="json",
        )
        assert created.status_code == 201, created.content
    renamed = client.patch(
        f"/api/v1/entries/{handles[0]}", {"nickname": "Ottilie Grimsby"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    unlisted = client.patch(f"/api/v1/entries/{handles[1]}", {"discoverable": False}, format="json")
    assert unlisted.status_code == 200, unlisted.content

    entries = list(Entry.objects.filter(handle_canonical__in=handles).order_by("pk"))
    assert len(entries) == 2
    # Nothing reached the index; every effect waits in the outbox, one sync per entry.
    backend = get_backend()
    assert backend.search("Grimsby", limit=20, offset=0)[0] == []
    syncs = sorted(row.args[0] for row in OutboxMessage.objects.filter(task="search.sync_entry"))
    assert syncs == [entry.pk for entry in entries]
    assert OutboxMessage.objects.filter(task="moderation.impersonation_check").count() == 2

    broker.start()
    (tmp_path / "worker").mkdir()
    worker_gen = run_celery_worker(
        tmp_path / "worker",
        broker.broker,
        extra_env={"OUTBOX_RELAY_INTERVAL": "1"},
        extra_args=("-B",),
    )
    worker = next(worker_gen)
    try:
        eventually(
            lambda: not OutboxMessage.objects.exists(),
            "the outbox emptied by the relay",
            worker.log_path,
        )
        eventually(
            lambda: backend.search("Grimsby", limit=20, offset=0)[0] == [entries[0].pk],
            "the entry renamed during the outage in the search index",
            worker.log_path,
        )
        out = io.StringIO()
        eventually(
            lambda: _no_drift(out),
            "search_check without drift",
            worker.log_path,
        )
        assert "No drift" in out.getvalue()
        assert "directory.outbox_relay" in worker.log()
    finally:
        worker_gen.close()


def _no_drift(out: io.StringIO) -> bool:
    out.seek(0)
    out.truncate()
    try:
        call_command("search_check", stdout=out)
    except CommandError:
        return False
    return True

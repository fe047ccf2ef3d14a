"""End to end through a real Celery worker: an entry created through the API reaches search.

A ``celery -A directory worker`` subprocess reads the same test database and the same broker
as the test, once per broker (``celery_broker``, tests/brokers.py): the settings' broker
(Redis in CI, otherwise the file-system broker in a temporary folder), then RabbitMQ with
quorum queues. Its queue has a name of its own, so runs that share a broker never take each
other's messages.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from directory.brokers import celery_broker_options
from tests.brokers import Broker, delete_queue, rabbitmq_queue_type

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
FOLLOW_TIMEOUT = 30.0
POLL_INTERVAL = 0.2

pytestmark = [pytest.mark.worker]


def database_url(settings_dict: dict[str, Any]) -> str:
    """The ``DATABASE_URL`` of the database described by ``settings_dict``.

    Input: a Django connection's ``settings_dict`` (during a test it names the test
    database). Output: a ``postgres://`` or ``sqlite:///`` URL that settings.py reads back
    to the same database.
    """
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        name = str(settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("a worker process cannot share an in-memory SQLite database")
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def _configure_sender(app, **conf: Any) -> None:
    """Point this process's Celery app at ``conf``.

    Celery keeps the queues, routes and broker connection pool it built from the
    configuration it first saw; they are forgotten here so the next message uses the new
    values. The pool itself is left open: kombu shares it with anything else connected to
    the same broker.
    """
    app.conf.update(conf)
    del app.amqp
    app._pool = None


def _log_tail(path: Path, lines: int = 60) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Worker:
    process: subprocess.Popen
    queue: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory, celery_broker) -> Iterator[Worker]:
    """Start ``celery -A directory worker`` on the test database and ``celery_broker``;
    stop it afterwards."""
    yield from run_celery_worker(tmp_path_factory.mktemp("worker-var"), celery_broker)


SENDER_SETTINGS = (
    "broker_write_url",
    "task_default_queue",
    "broker_transport_options",
    "task_default_queue_type",
    "task_default_exchange_type",
    "worker_detect_quorum_queues",
)


def celery_environment(
    var_dir: Path, broker: Broker, queue: str, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a ``celery -A directory`` process on the test database,
    ``broker`` and ``queue``, with ``var_dir`` as its WORLDBOOK_VAR_DIR."""
    from django.db import connection

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "directory.settings",
        "WORLDBOOK_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }


@contextmanager
def sending_to(broker: Broker, queue: str, var_dir: Path) -> Iterator[None]:
    """Within the block, this process sends tasks to ``queue`` on ``broker`` with the
    settings a worker given the same URL and WORLDBOOK_VAR_DIR derives (the file-system
    broker's folders too)."""
    from directory.celery import app

    saved = {name: app.conf.get(name) for name in SENDER_SETTINGS}
    _configure_sender(
        app,
        broker_write_url=broker.url,
        task_default_queue=queue,
        **celery_broker_options(broker.url, var_dir=var_dir),
    )
    try:
        yield
    finally:
        _configure_sender(app, **saved)


def new_queue() -> str:
    """A queue name no other test run uses."""
    return f"worldbook-e2e-{uuid.uuid4().hex[:12]}"


def run_celery_worker(
    var_dir: Path,
    broker: Broker,
    *,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    queue: str | None = None,
) -> Iterator[Worker]:
    """Run ``celery -A directory worker`` on the test database, for a fixture to yield from.

    Inputs: ``var_dir`` (its WORLDBOOK_VAR_DIR), ``broker`` (the broker it reads and this
    process sends to), ``extra_env`` (more environment, such as settings), ``extra_args``
    (more command-line arguments, such as ``-B`` for an embedded beat), ``queue`` (default:
    a new one). Yields the running process once its log says it is ready and stops it
    afterwards (deleting its queue on RabbitMQ, where queues outlive their consumers).
    Fails with the worker's log when it exits early or is not ready within
    ``READY_TIMEOUT`` seconds.
    """
    queue = queue or new_queue()
    log_path = var_dir / "worker.log"
    env = celery_environment(var_dir, broker, queue, extra_env)
    # On RabbitMQ the worker's heartbeat timer (every 2 s) is what wakes its idle event loop
    # to notice a SIGTERM; without it a stop waits about ten seconds.
    heartbeat = () if broker.kind == "rabbitmq" else ("--without-heartbeat",)
    command = [
        sys.executable, "-m", "celery", "-A", "directory", "worker",
        "--pool", "solo", "--loglevel", "INFO", "--hostname", f"{queue}@%h",
        "--without-gossip", "--without-mingle", *heartbeat, *extra_args,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in (log_path.read_text(errors="replace")):
            if worker.poll() is not None:
                pytest.fail(
                    f"the Celery worker exited with status {worker.returncode} before it was "
                    f"ready; its log:\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker was not ready after {READY_TIMEOUT:.0f} s; its log:\n"
                    f"{_log_tail(log_path)}"
                )
            time.sleep(0.1)
        with sending_to(broker, queue, var_dir):
            yield Worker(process=worker, queue=queue, log_path=log_path)
    finally:
        stop_process(worker)
        if broker.kind == "rabbitmq":
            delete_queue(broker.url, queue)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM (Celery's warm shutdown), then SIGKILL after 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def eventually(check: Callable[[], Any], what: str, log_path: Path) -> Any:
    """Call ``check`` until it returns something truthy (at most ``FOLLOW_TIMEOUT`` s)."""
    deadline = time.monotonic() + FOLLOW_TIMEOUT
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(
                f"{what}: not seen after {FOLLOW_TIMEOUT:.0f} s; the worker's log:\n"
                f"{_log_tail(log_path)}"
            )
        time.sleep(POLL_INTERVAL)


def _search_handles(client, query: str) -> list[str]:
    response = client.get("/api/v1/search", {"q": query})
    assert response.status_code == 200, response.content
    return [str(item["handle"]).lstrip("@").lower() for item in response.json()["results"]]


@pytest.mark.django_db(transaction=True)
def test_it_follows_an_entry_from_the_api_through_the_worker_into_search(
    celery_worker, celery_broker
):
    from rest_framework.test import APIClient

    from accounts.models import User
    from directory.models import Entry
    from search.backends import get_backend

    log_path = celery_worker.log_path
    suffix = uuid.uuid4().hex[:6]
    handle = f"wilhelmina{suffix}"
    owner = User.objects.create_user("wilhelmina", email="wilhelmina@example.org", password="x")
    client = APIClient()
    client.force_authenticate(owner)

    created = client.post(
        "/api/v1/entries",
        {"nickname": "Wilhelmina Quaxleigh", "handle": handle, "discoverable": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    entry = Entry.objects.get(handle_canonical=handle)
    assert entry.owner_id == owner.pk

    eventually(
        lambda: handle in _search_handles(client, "Quaxleigh"),
        "the new entry in search results",
        log_path,
    )
    # The index was written by the worker process, not by a task run in this one (which
    # logs the task's success just after its write is seen).
    eventually(
        lambda: re.search(r"Task search\.sync_entry\[[^\]]+\] succeeded", celery_worker.log()),
        "the worker's log of the index update",
        log_path,
    )
    if celery_broker.kind == "rabbitmq":
        # The worker found its queue a quorum queue and so set no global prefetch, which
        # quorum queues refuse.
        assert "Global QoS is disabled" in celery_worker.log()
        assert rabbitmq_queue_type(celery_broker.url, celery_worker.queue) in ("quorum", None)

    renamed = client.patch(
        f"/api/v1/entries/{handle}", {"nickname": "Wilhelmina Brackwater"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    eventually(
        lambda: (
            handle in _search_handles(client, "Brackwater")
            and handle not in _search_handles(client, "Quaxleigh")
        ),
        "the new nickname replacing the old one in search results",
        log_path,
    )

    unlisted = client.patch(f"/api/v1/entries/{handle}", {"discoverable": False}, format="json")
    assert unlisted.status_code == 200, unlisted.content
    assert handle not in _search_handles(client, "Brackwater")
    # Results are re-checked against the database, so the index itself shows the worker's work.
    eventually(
        lambda: entry.pk not in get_backend().search("Brackwater", limit=20, offset=0)[0],
        "the unlisted entry leaving the search index",
        log_path,
    )

"""A worker killed with SIGKILL in the middle of a batch of index updates loses none of them.

A batch of new entries queues their search-index updates on the Redis broker. A real
Celery worker takes them one by one until it meets an entry whose row another connection
holds locked, and waits there with that update taken (``acks_late``: not yet
acknowledged). It is then killed with SIGKILL, as an out-of-memory killer or a lost
machine would. A new worker takes what was still queued; the update the dead worker held
returns to the queue once the broker's visibility timeout has passed (here the
``CELERY_VISIBILITY_TIMEOUT`` minimum of 30 s instead of the 300 s of production, so the
test waits less). ``search_check`` must then find no drift, well within five minutes.
"""

from __future__ import annotations

import io
import signal
import time
import uuid

import pytest
from django.core.management import CommandError, call_command

from tests.api.conftest import EntryFactory, UserFactory
from tests.brokers import settings_broker
from tests.e2e.test_worker import _configure_sender, _log_tail, new_queue, run_celery_worker

# The settings' broker: the visibility timeout this test is about is the Redis broker's.
BROKER = settings_broker()
USES_REDIS = BROKER.kind == "redis"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.skipif(not USES_REDIS, reason="needs a Redis broker: set CELERY_BROKER_URL"),
]

BATCH = 12
# The update the first worker is killed in: the entries before it are indexed by then.
HELD = 4
VISIBILITY_TIMEOUT = 30
# The bound: no drift within five minutes of the kill.
NO_DRIFT_DEADLINE = 300.0
STEP_DEADLINE = 60.0


def _wait_for(check, what: str, deadline: float, log_path) -> None:
    limit = time.monotonic() + deadline
    while not check():
        if time.monotonic() > limit:
            pytest.fail(f"{what}: not seen after {deadline:.0f} s; the worker's log:\n"
                        f"{_log_tail(log_path)}")  # fmt: skip
        time.sleep(0.2)


def _drift() -> str | None:
    """``search_check``'s report when it finds drift, ``None`` when it finds none."""
    out = io.StringIO()
    try:
        call_command("search_check", stdout=out)
    except CommandError:
        return out.getvalue()
    return None


def _waiting_for_a_lock(connection) -> bool:
    """Whether another session of the test database waits for a row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_no_drift(tmp_path):
    import psycopg
    from django.db import connection

    from directory.celery import app
    from directory.models import Entry
    from search.models import SearchDocument
    from tests.e2e.test_worker import database_url

    queue = new_queue()
    saved = {"task_default_queue": app.conf.task_default_queue}
    # Updates go to a queue no worker reads yet, so the whole batch waits there.
    _configure_sender(app, task_default_queue=queue)
    try:
        owner = UserFactory(username="kasimir")
        suffix = uuid.uuid4().hex[:6]
        entries = [
            EntryFactory(handle=f"kasimir{suffix}{n:02d}", nickname=f"Kasimir Vellacott {n}",
                         owner=owner)
            for n in range(BATCH)
        ]  # fmt: skip
    finally:
        _configure_sender(app, **saved)
    assert SearchDocument.objects.count() == 0
    held = entries[HELD]

    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    lock = psycopg.connect(database_url(connection.settings_dict))
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    try:
        # Another connection holds the row of one entry, so the worker's update of it
        # (SELECT … FOR UPDATE) waits: the worker is caught with that update taken.
        lock.execute(f"SELECT 1 FROM {Entry._meta.db_table} WHERE id = %s FOR UPDATE",
                     [held.pk])  # fmt: skip
        first_gen = run_celery_worker(first_dir, BROKER, extra_env=env, queue=queue)
        first = next(first_gen)
        try:
            _wait_for(
                lambda: (
                    SearchDocument.objects.filter(pk__in=[e.pk for e in entries[:HELD]]).count()
                    == HELD
                    and _waiting_for_a_lock(connection)
                ),
                "the entries before the locked one indexed, the worker waiting on it",
                STEP_DEADLINE,
                first.log_path,
            )
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=30)
        finally:
            first_gen.close()
    finally:
        lock.rollback()
        lock.close()
    killed_at = time.monotonic()
    drift = _drift()
    assert drift is not None and "missing" in drift, drift

    second_gen = run_celery_worker(second_dir, BROKER, extra_env=env, queue=queue)
    second = next(second_gen)
    try:
        limit = killed_at + NO_DRIFT_DEADLINE
        while (drift := _drift()) is not None:
            if time.monotonic() > limit:
                pytest.fail(
                    f"search_check still finds drift {NO_DRIFT_DEADLINE:.0f} s after the "
                    f"kill:\n{drift}\nthe new worker's log:\n{_log_tail(second.log_path)}"
                )
            time.sleep(1)
        print(f"no drift {time.monotonic() - killed_at:.0f} s after the kill")
    finally:
        second_gen.close()
    # Every entry of the batch is indexed, the one the dead worker held among them.
    assert SearchDocument.objects.filter(pk__in=[e.pk for e in entries]).count() == BATCH

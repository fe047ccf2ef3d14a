"""Test-wide fixtures and the rules for tests that need real services.

Tests marked ``postgres``, ``redis`` or ``rabbitmq`` need those servers. Without them they
are skipped with the reason, except under ``CI=true``, where a missing service fails the run.
Tests that start a real Celery worker run once per broker (``celery_broker``, see
tests/brokers.py).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests import brokers

IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def redis_url() -> str | None:
    """The Redis server tests may use: REDIS_URL, or a broker URL that is Redis."""
    for url in (os.environ.get("REDIS_URL", ""), os.environ.get("CELERY_BROKER_URL", "")):
        if url.startswith("redis://") and _reachable(url, 6379):
            return url
    return None


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    have_redis = redis_url() is not None
    have_rabbitmq = brokers.rabbitmq_url() is not None
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            reason = "needs PostgreSQL: set DATABASE_URL=postgres://… to run it"
            if IN_CI:
                pytest.fail(
                    f"CI=true but the test database is not PostgreSQL ({item.nodeid})",
                    pytrace=False,
                )
            item.add_marker(pytest.mark.skip(reason=reason))
        if "redis" in item.keywords and not have_redis:
            reason = "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 to run it"
            if IN_CI:
                pytest.fail(f"CI=true but no Redis is reachable ({item.nodeid})", pytrace=False)
            item.add_marker(pytest.mark.skip(reason=reason))
        if "rabbitmq" in item.keywords and not have_rabbitmq:
            reason = "needs RabbitMQ: set RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/ to run it"
            if IN_CI:
                pytest.fail(f"CI=true but no RabbitMQ is reachable ({item.nodeid})", pytrace=False)
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def rabbitmq_vhost():
    """A RabbitMQ virtual host for this test session (see tests/brokers.py)."""
    url = brokers.rabbitmq_url()
    if url is None:
        pytest.skip("needs RabbitMQ")
    vhost = brokers.RabbitVhost.open(url)
    yield vhost
    vhost.close()


_SETTINGS_BROKER = brokers.settings_broker()


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(
            "settings",
            id=_SETTINGS_BROKER.kind,
            marks=[pytest.mark.redis] if _SETTINGS_BROKER.kind == "redis" else [],
        ),
        pytest.param("rabbitmq", id="rabbitmq", marks=[pytest.mark.rabbitmq]),
    ],
)
def celery_broker(request) -> brokers.Broker:
    """The broker a worker test runs on: the settings' one, then RabbitMQ (quorum queues)
    in a virtual host of this session's."""
    if request.param == "settings":
        return _SETTINGS_BROKER
    vhost = request.getfixturevalue("rabbitmq_vhost")
    return brokers.Broker(kind="rabbitmq", url=vhost.url)


@pytest.fixture(autouse=True)
def _celery_tasks_run_eagerly(request):
    """Outside tests marked ``worker``, tasks run in-process instead of reaching a broker,
    so no test leaves messages behind for another test's worker."""
    from directory.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the audit trail refuses TRUNCATE unless the session variable
    ``worldbook.allow_audit_truncate`` is ``on`` (accounts migration 0006). Transactional
    tests empty the test database with TRUNCATE, so the test database turns it on for
    every session; a test that checks the refusal turns it off again."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {name} SET worldbook.allow_audit_truncate = 'on'")
            connection.close()

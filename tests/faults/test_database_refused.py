"""When the database refuses connections the answer is 503 with Retry-After, never 500:
a problem document under /api/, the styled page elsewhere."""

from __future__ import annotations

import contextlib
import socket
import uuid

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client

from tests.api.test_fast_path import call
from tests.sites import DOMAIN

pytestmark = [pytest.mark.postgres]

PATHS = [
    ("/api/v1/resolve?handle=%40alice", "application/problem+json"),
    ("/api/v1/search?q=alice", "application/problem+json"),
    ("/@alice", "text/html; charset=utf-8"),
    ("/search?q=alice", "text/html; charset=utf-8"),
]


@contextlib.contextmanager
def connecting_with(**changes):
    """The default database connection reopened with ``changes`` to its settings, then
    restored."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(changes)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def refused_port():
    """A loopback port bound by no listener: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield {"HOST": "127.0.0.1", "PORT": str(sock.getsockname()[1])}


@pytest.fixture
def refused_role(django_db_blocker):
    """A role PostgreSQL lets no connection in for (CONNECTION LIMIT 0): it answers
    "too many connections for role", as a full server answers "too many clients"."""
    name = f"refused_{uuid.uuid4().hex[:12]}"
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {name} LOGIN CONNECTION LIMIT 0")
        try:
            yield {"USER": name, "PASSWORD": ""}
        finally:
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP ROLE {name}")


@pytest.fixture(params=["refused_port", "refused_role"])
def refusal(request, settings, django_db_blocker):
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    settings.DATABASE_RETRY_AFTER = 7
    changes = request.getfixturevalue(request.param)
    with django_db_blocker.unblock(), connecting_with(**changes):
        yield


def test_a_refusing_database_answers_503_with_retry_after(refusal):
    client = Client(raise_request_exception=False)
    for path, content_type in PATHS:
        response = client.get(path)
        assert response.status_code == 503, (path, response.content[:300])
        assert response["Retry-After"] == "7"
        assert response["Content-Type"] == content_type
        if content_type == "application/problem+json":
            body = response.json()
            assert body["status"] == 503
            assert body["type"].endswith("/service-unavailable")
        else:
            assert b"try again in 7 seconds" in response.content


def test_the_wsgi_application_answers_503_too(refusal):
    status, headers, body = call(WSGIHandler())
    assert status == "503 Service Unavailable"
    assert ("Retry-After", "7") in headers

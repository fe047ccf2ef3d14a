"""The brokers the worker tests run on: the one the settings name, and RabbitMQ.

Every test that starts a real Celery worker asks for the ``celery_broker`` fixture
(conftest.py), which runs it once per broker: first on the settings' broker (Redis when
``CELERY_BROKER_URL`` names one, as in CI, otherwise the file-system broker), then on
RabbitMQ. RabbitMQ is found at ``RABBITMQ_URL`` (``amqp://guest:guest@127.0.0.1:5672/``
by default); tests on it are marked ``rabbitmq``: skipped with the reason when it does not
answer, failed under ``CI=true``.

Each test session gets a virtual host of its own on RabbitMQ when ``rabbitmqctl`` may be
run (as root on the broker's machine), removed at the end with every queue in it.
Elsewhere the tests use the URL's own virtual host; the workers' queues have names of their
own there, and each worker deletes its queue when it stops.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from django.conf import settings

from directory.brokers import broker_kind

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
RABBITMQCTL = shutil.which("rabbitmqctl")


def rabbitmq_url() -> str | None:
    """The RabbitMQ server tests may use: ``RABBITMQ_URL``, or a broker URL that is
    RabbitMQ, or the default on loopback; ``None`` when it does not accept connections."""
    for url in (
        os.environ.get("RABBITMQ_URL", ""),
        os.environ.get("CELERY_BROKER_URL", ""),
        DEFAULT_RABBITMQ_URL,
    ):
        if url and broker_kind_or_none(url) == "rabbitmq":
            parts = urlsplit(url)
            try:
                with socket.create_connection(
                    (parts.hostname or "127.0.0.1", parts.port or 5672), 1
                ):
                    return url
            except OSError:
                return None
    return None


def broker_kind_or_none(url: str) -> str | None:
    try:
        return broker_kind(url)
    except ValueError:
        return None


def with_vhost(url: str, vhost: str) -> str:
    """``url`` naming the virtual host ``vhost`` instead of its own."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))


def _rabbitmqctl(*args: str) -> bool:
    if RABBITMQCTL is None or os.geteuid() != 0:
        return False
    result = subprocess.run([RABBITMQCTL, "-q", *args], capture_output=True, text=True, timeout=60)
    return result.returncode == 0


@dataclass
class RabbitVhost:
    """A virtual host made for one test session (``created``), or the URL's own."""

    url: str
    name: str
    created: bool

    @classmethod
    def open(cls, base_url: str) -> RabbitVhost:
        """Make a virtual host ``worldbook-test-<random>`` that ``base_url``'s user may use
        fully; when ``rabbitmqctl`` cannot, keep ``base_url``'s virtual host."""
        name = f"worldbook-test-{uuid.uuid4().hex[:10]}"
        user = unquote(urlsplit(base_url).username or "guest")
        if _rabbitmqctl("add_vhost", name):
            if _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*"):
                return cls(url=with_vhost(base_url, name), name=name, created=True)
            _rabbitmqctl("delete_vhost", name)
        own = unquote(urlsplit(base_url).path[1:]) or "/"
        return cls(url=base_url, name=own, created=False)

    def close(self) -> None:
        """Delete the virtual host if this session made it (with its queues)."""
        if self.created:
            _rabbitmqctl("delete_vhost", self.name)


@dataclass(frozen=True)
class Broker:
    """The broker one run of the worker tests uses: ``kind`` and ``url``."""

    kind: str
    url: str


def settings_broker() -> Broker:
    """The broker the settings name (Redis in CI; the file-system broker by default)."""
    return Broker(kind=broker_kind(settings.CELERY_BROKER_URL), url=settings.CELERY_BROKER_URL)


def delete_queue(url: str, queue: str) -> None:
    """Delete ``queue`` on the RabbitMQ at ``url`` (quorum queues outlive their
    consumers); a broker that is gone is left alone."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=5) as connection:
            connection.default_channel.queue_delete(queue)
    except Exception:  # noqa: BLE001 — a cleanup; the test's own result stands
        pass


def rabbitmq_queue_type(url: str, queue: str) -> str | None:
    """The type RabbitMQ gives ``queue`` (``"quorum"``, ``"classic"``) in ``url``'s virtual
    host, read with ``rabbitmqctl``; ``None`` where it cannot be run (not root)."""
    if RABBITMQCTL is None or os.geteuid() != 0:
        return None
    vhost = unquote(urlsplit(url).path[1:]) or "/"
    result = subprocess.run(
        [RABBITMQCTL, "-q", "list_queues", "-p", vhost, "--no-table-headers", "name", "type"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    for line in result.stdout.splitlines():
        name, _, kind = line.partition("\t")
        if name == queue:
            return kind.strip()
    return ""

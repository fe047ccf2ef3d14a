"""The Celery settings that follow from the broker a deployment names.

Worldbook runs on three brokers, chosen by ``CELERY_BROKER_URL``: a folder on disk
(``filesystem://``, the embedded default, no server), Redis (``redis://``) and RabbitMQ
(``amqp://``). Settings read them from here, and so do the tests, which point a worker and
the sending process at another broker than the one the settings name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://")
REDIS_SCHEMES = ("redis://", "rediss://")


def broker_kind(url: str) -> str:
    """``"rabbitmq"``, ``"redis"`` or ``"filesystem"``: the broker ``url`` names.

    Raises :class:`ValueError` for any other scheme."""
    if url.startswith(AMQP_SCHEMES):
        return "rabbitmq"
    if url.startswith(REDIS_SCHEMES):
        return "redis"
    if url.startswith("filesystem://"):
        return "filesystem"
    raise ValueError(f"{url.split('://')[0]!r} is not a broker Worldbook runs on")


def celery_broker_options(
    url: str, *, var_dir: Path, visibility_timeout: int = 300
) -> dict[str, Any]:
    """The Celery settings (lower-case names, as ``app.conf`` takes them) for ``url``.

    Inputs: the broker URL; ``var_dir``, under which the file-system broker keeps its
    folders (created here); ``visibility_timeout``, seconds before Redis hands a taken,
    unacknowledged message out again. Output: ``broker_transport_options``,
    ``task_default_queue_type``, ``task_default_exchange_type`` and
    ``worker_detect_quorum_queues``.

    RabbitMQ gets quorum queues (replicated over the cluster's nodes with Raft, so a node
    lost loses no task). Quorum queues refuse a channel-wide prefetch ("global QoS"): the
    worker detects them (``worker_detect_quorum_queues``) and sets a per-consumer prefetch
    instead. They cannot hold a message back until its ETA either, so a countdown (a
    retry's backoff) goes through Celery's native delayed delivery, which routes through
    topic exchanges: the task exchange is a topic exchange, not the default direct one.
    Publisher confirms make a publish return only once the broker has stored the message.
    """
    kind = broker_kind(url)
    options: dict[str, Any] = {
        "task_default_queue_type": "classic",
        "task_default_exchange_type": "direct",
        "worker_detect_quorum_queues": True,
    }
    if kind == "filesystem":
        queue_dir = var_dir / "broker"
        options["broker_transport_options"] = {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "control_folder": str(var_dir / "broker-control"),
            "store_processed": False,
            # Seconds between looks at the folder when nothing can be taken: kombu's
            # default of 1 s holds a worker to about one message per process per second.
            "polling_interval": 0.1,
        }
        for folder in ("broker", "broker-control"):
            (var_dir / folder).mkdir(parents=True, exist_ok=True)
    elif kind == "redis":
        # A worker killed with `kill -9` loses no task: its taken messages return after
        # this long instead of kombu's default hour. A task still waiting for its
        # countdown when the time is up is delivered twice, which every task tolerates.
        options["broker_transport_options"] = {"visibility_timeout": visibility_timeout}
    else:
        options.update(
            broker_transport_options={"confirm_publish": True},
            task_default_queue_type="quorum",
            task_default_exchange_type="topic",
        )
    return options

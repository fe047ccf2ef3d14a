"""A primary and a real streaming standby, and Worldbook served over HTTP on top of them
(tests/replicas/streaming.py holds the pieces).

``streaming_pair`` makes its own primary cluster (initdb, in a temporary directory, on a
free loopback port), creates and migrates the Worldbook database there, adds two
accounts, then makes a standby with ``pg_basebackup -R`` and starts it on another free
port (benchmarks/pg_cluster.py). Both are removed afterwards. The test database of
pytest-django is not used: these tests reach Worldbook the way a calling app does, through
gunicorn (``replica_server``) with ``DATABASE_URL`` on the primary and
``DATABASE_REPLICA_URLS`` on the standby, and read each cluster directly with psycopg to
see where rows are.

Without the PostgreSQL server programs the tests are skipped with the reason, except under
``CI=true``, where that fails the run (as for the tests marked ``postgres``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from benchmarks import server
from benchmarks.pg_cluster import Pair, server_bin

REPO_ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"
DATABASE = "worldbook"
PASSWORD = "a long enough password 12"
ACCOUNTS = ("bob", "carol")


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")


def _base_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        {
            "WORLDBOOK_VAR_DIR": str(var_dir),
            # The file cache in the server's own folder: no answer or pin of another run.
            "CELERY_BROKER_URL": "filesystem://localhost//",
            "CELERY_TASK_DEFAULT_QUEUE": "replica-tests",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


@pytest.fixture(scope="module")
def streaming_pair():
    """A primary with the migrated Worldbook database and the accounts of
    :data:`ACCOUNTS`, and its streaming standby, both running; removed afterwards."""
    if server_bin() is None:
        reason = "needs the PostgreSQL server programs (initdb, pg_ctl, pg_basebackup)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason} are missing", pytrace=False)
        pytest.skip(reason)
    pair = Pair()
    var_dir = Path(tempfile.mkdtemp(prefix="worldbook-replica-setup-"))
    try:
        pair.start_primary()
        with pair.primary.connect() as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        env = {**_base_env(var_dir), "DATABASE_URL": pair.primary.url(DATABASE)}
        _manage(env, "migrate", "--noinput", "-v", "0")
        script = "from accounts.models import User\n" + "".join(
            f"User.objects.create_user({name!r}, {name + '@example.org'!r}, {PASSWORD!r})\n"
            for name in ACCOUNTS
        )
        _manage(env, "shell", "-c", script)
        pair.start_standby()
        yield pair
    finally:
        pair.close()
        subprocess.run(["rm", "-rf", str(var_dir)], check=False)


@contextmanager
def replica_server(pair: Pair, **settings: str):
    """gunicorn serving Worldbook on the pair: reads of the read paths on the standby,
    everything else on the primary, with ``settings`` (environment variables) added.
    Yields an ``httpx.Client`` on its base URL."""
    var_dir = Path(tempfile.mkdtemp(prefix="worldbook-replica-server-"))
    env = {
        **_base_env(var_dir),
        "DATABASE_URL": pair.primary.url(DATABASE),
        "DATABASE_REPLICA_URLS": pair.standby.url(DATABASE),
        "DATABASE_CONN_MAX_AGE": "60",
        **settings,
    }
    try:
        with server.gunicorn(
            env, workers=2, worker_class="gthread", threads=2, log=var_dir / "gunicorn.log"
        ) as running:
            with httpx.Client(base_url=running.base_url, timeout=30) as client:
                yield client
    finally:
        subprocess.run(["rm", "-rf", str(var_dir)], check=False)


def basic(name: str) -> httpx.BasicAuth:
    """HTTP Basic credentials of one of :data:`ACCOUNTS`."""
    return httpx.BasicAuth(name, PASSWORD)

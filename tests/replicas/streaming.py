"""A primary and a real streaming standby, and Worldbook served over HTTP on top of them.

``streaming_pair`` makes its own primary cluster (initdb, in a temporary directory, on a
free loopback port), creates the Worldbook database there with the schema of the migrated
test database (pg_dump), adds two accounts, then makes a standby with
``pg_basebackup -R`` and starts it on another free port (benchmarks/pg_cluster.py). Both
are removed afterwards. The tests reach Worldbook the way a calling app does, through
gunicorn (:func:`replica_server`) with ``DATABASE_URL`` on the primary and
``DATABASE_REPLICA_URLS`` on the standby, and read each cluster directly with psycopg to
see where rows are.

Without the PostgreSQL server programs the tests are skipped with the reason, except under
``CI=true``, where that fails the run (as for the tests marked ``postgres``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from benchmarks import server
from benchmarks.pg_cluster import Pair, server_bin

IN_CI = os.environ.get("CI", "").lower() == "true"
DATABASE = "worldbook"
PASSWORD = "a long enough password 12"
ACCOUNTS = ("bob", "carol")


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


def _copy_schema(pair: Pair) -> None:
    """The schema of the migrated test database (and its migration records) into the
    primary's Worldbook database: seconds, where running every migration takes a minute."""
    from django.db import connection

    source = connection.settings_dict
    where = [
        "-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432),
        "-U", source["USER"] or "postgres",
    ]  # fmt: skip
    dump = [str(pair.bin / "pg_dump"), *where, "--no-owner", "--no-privileges"]
    env = {**os.environ, "PGPASSWORD": source["PASSWORD"] or ""}
    schema = subprocess.run(
        [*dump, "--schema-only", source["NAME"]],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    records = subprocess.run(
        [*dump, "--data-only", "--table=django_migrations", source["NAME"]],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    loaded = subprocess.run(
        [str(pair.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", pair.primary.url(DATABASE)],
        input=schema + records,
        capture_output=True,
        text=True,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"loading the schema failed:\n{loaded.stderr}")


def _add_accounts(pair: Pair) -> None:
    from django.contrib.auth.hashers import make_password

    with pair.primary.connect(DATABASE) as conn:
        for name in ACCOUNTS:
            conn.execute(
                "INSERT INTO accounts_user (password, is_superuser, username, first_name, "
                "last_name, email, is_staff, is_active, date_joined) "
                "VALUES (%s, false, %s, '', '', %s, false, true, now())",
                [make_password(PASSWORD), name, f"{name}@example.org"],
            )


@pytest.fixture(scope="module")
def streaming_pair(django_db_setup, django_db_blocker):
    """A primary holding the Worldbook schema (copied from the migrated test database)
    and the accounts of :data:`ACCOUNTS`, and its streaming standby, both running;
    removed afterwards."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")
    if server_bin() is None:
        reason = "needs the PostgreSQL server programs (initdb, pg_ctl, pg_basebackup)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason} are missing", pytrace=False)
        pytest.skip(reason)
    pair = Pair()
    try:
        pair.start_primary()
        with pair.primary.connect() as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        _copy_schema(pair)
        _add_accounts(pair)
        pair.start_standby()
        yield pair
    finally:
        pair.close()


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
            env,
            # One process is enough: pins and readings live in the shared cache and per
            # process, so more workers would test nothing more and start slower.
            workers=1,
            worker_class="gthread",
            threads=4,
            log=var_dir / "gunicorn.log",
            # Kept-alive connections would hold a graceful stop for its full 30 s.
            extra=["--graceful-timeout", "2"],
        ) as running:
            with httpx.Client(base_url=running.base_url, timeout=30) as client:
                yield client
    finally:
        subprocess.run(["rm", "-rf", str(var_dir)], check=False)


def basic(name: str) -> httpx.BasicAuth:
    """HTTP Basic credentials of one of :data:`ACCOUNTS`."""
    return httpx.BasicAuth(name, PASSWORD)

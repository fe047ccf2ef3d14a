"""Throwaway PostgreSQL clusters on loopback: a primary and its streaming standby.

Used by the replica tests (tests/replicas) and by ``benchmarks/resolve_load.py --replica``.
Each cluster lives in a temporary directory and listens on 127.0.0.1 on a free port, with
trust authentication and its Unix socket in its own directory; :meth:`Pair.close` stops
both and removes them. The standby is made with ``pg_basebackup -R`` (it writes
``standby.signal`` and ``primary_conninfo``), so it follows the primary by streaming
replication as a production replica does.

The server programs (``initdb``, ``pg_ctl``, ``pg_basebackup``) are taken from ``PG_BIN``
or the newest ``/usr/lib/postgresql/*/bin``. PostgreSQL refuses to run as root, so as root
they run as the ``postgres`` account (``runuser``), which then owns the directories.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup")
# Faster, not safer: these clusters hold nothing that must survive a crash.
_SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off"


def server_bin() -> Path | None:
    """The directory holding initdb, pg_ctl and pg_basebackup, or ``None`` if there is none."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )[::-1]
    for candidate in candidates:
        if all((Path(candidate) / name).is_file() for name in PROGRAMS):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """One PostgreSQL cluster: its data directory, port and server log."""

    def __init__(self, pair: Pair, name: str) -> None:
        self.pair = pair
        self.name = name
        self.data = pair.root / name
        self.port = _free_port()
        self.log = pair.root / f"{name}.log"

    def url(self, database: str = "postgres") -> str:
        """A ``postgres://`` URL of ``database`` on this cluster (user ``postgres``)."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", **kwargs) -> psycopg.Connection:
        """A new autocommit psycopg connection to ``database``."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
            **kwargs,
        )

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it takes connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.pair.root} {_SERVER_OPTIONS} {self.pair.options}"
        )
        self.pair.run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``pg_ctl stop -m mode``); nothing when it is not running."""
        if (self.data / "postmaster.pid").exists():
            self.pair.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)


class Pair:
    """A primary and a streaming standby of it, in a temporary directory.

    ``Pair()`` makes nothing yet: :meth:`start_primary`, then (after loading what the
    standby should start with) :meth:`start_standby`. ``base`` is the folder to make the
    temporary directory in (the system's by default); ``options`` are more server options
    for both clusters (``-c shared_buffers=1GB …``). Raises ``RuntimeError`` when the
    server programs are missing (:func:`server_bin`).
    """

    def __init__(self, base: str | None = None, options: str = "") -> None:
        self.options = options  # more server options (``-c name=value …``) for both
        self.bin = server_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found")
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="worldbook-pg-", dir=base))
        if self.as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.primary = Cluster(self, "primary")
        self.standby = Cluster(self, "standby")

    def run(self, program: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        """Run one of the server programs (as ``postgres`` when we are root)."""
        command = [str(self.bin / program), *map(str, args)]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.root,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}")
        return done

    def start_primary(self) -> Cluster:
        """initdb the primary (trust authentication, UTF-8, ``wal_level=replica``) and
        start it."""
        self.run(
            "initdb", "-D", self.primary.data, "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        with open(self.primary.data / "postgresql.conf", "a") as conf:
            conf.write("\nwal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n")
        self.primary.start()
        return self.primary

    def start_standby(self) -> Cluster:
        """``pg_basebackup -R`` of the primary into the standby's directory, then start it
        and wait until it is in recovery and has replayed everything the primary wrote."""
        self.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", self.primary.port, "-U", "postgres",
            "-D", self.standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        self.standby.start()
        with self.standby.connect() as conn:
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                raise RuntimeError("the standby is not in recovery")
        self.wait_caught_up()
        return self.standby

    def primary_position(self) -> int:
        """The primary's current WAL position, in bytes from 0/0."""
        with self.primary.connect() as conn:
            return int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone()[0])

    def replayed(self) -> int:
        """The standby's replay position, in bytes from 0/0."""
        with self.standby.connect() as conn:
            return int(conn.execute("SELECT pg_last_wal_replay_lsn() - '0/0'").fetchone()[0] or 0)

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Wait until the standby has replayed the primary's current position."""
        target = self.primary_position()
        deadline = time.monotonic() + timeout
        while self.replayed() < target:
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not catch up with the primary")
            time.sleep(0.05)

    def pause_replay(self) -> None:
        """``pg_wal_replay_pause()`` on the standby: it receives WAL but applies none."""
        with self.standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        """``pg_wal_replay_resume()`` on the standby."""
        with self.standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def close(self) -> None:
        """Stop both servers (immediate shutdown) and remove their directories."""
        for cluster in (self.standby, self.primary):
            cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

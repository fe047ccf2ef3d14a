"""Writes per second on one PostgreSQL primary: binding changes made through the services.

    python benchmarks/writes.py --processes 2 --seconds 20

Each of ``--processes`` processes repeats, for ``--seconds``, the writes a person makes
when they join and set up: create an entry (directory handle and its look-alike claims),
add an endpoint, then change that endpoint's audience, each its own transaction as the
API makes it, with every side effect the services record in the same transaction (the
search index's outbox row, the answer cache's on-commit invalidation, a transparency log
record when a signing key is set). It prints transactions per second in all and the
distribution of one transaction's wall time, then deletes what it wrote (its entries carry
``import_key`` ``bench:writes:…``).

The figure feeds the capacity model in docs/scaling.md: writes per second per primary. It
runs against the database named by ``--database-url`` (migrated first; the resolve
benchmark's database serves, the rows are removed afterwards).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.resolve_load import (  # noqa: E402  (needs the repository on sys.path)
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    ensure_database,
    server_environment,
)

PREFIX = "bench:writes:"


def _worker(args: tuple[str, int, float]) -> list[float]:
    """One process's loop: the wall seconds of each transaction it committed."""
    tag, number, seconds = args
    import django

    django.setup()
    from directory import services
    from directory.models import Endpoint

    times: list[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        handle = f"w{tag}p{number}n{n}"
        started = time.perf_counter()
        entry = services.entry_create(
            nickname=f"Writer {n}", handle=handle, import_key=f"{PREFIX}{tag}:{number}:{n}"
        )
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        endpoint = services.endpoint_add(entry=entry, uri=f"sip:{handle}@example.org")
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        services.endpoint_update(endpoint=endpoint, audience=Endpoint.Audience.SIGNED_IN)
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="writes.py", description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="writing processes")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of writing")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args(argv)
    if args.processes < 1 or args.seconds <= 0:
        parser.error("--processes must be at least 1 and --seconds positive")
    os.environ.update(server_environment(args))
    ensure_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from directory.models import Entry

    call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()
    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        runs = pool.map(_worker, [(tag, p, args.seconds) for p in range(args.processes)])
    elapsed = time.perf_counter() - started
    times = sorted(t for run in runs for t in run)
    cut = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
    print(
        f"{len(times)} write transactions by {args.processes} process(es) writing "
        f"{args.seconds:.0f} s each ({elapsed:.1f} s with start-up): "
        f"{len(times) / args.seconds:.0f} per second; one transaction p50 {1000 * cut[49]:.1f} ms, "
        f"p99 {1000 * cut[98]:.1f} ms"
    )
    deleted, _ = Entry.objects.filter(import_key__startswith=f"{PREFIX}{tag}:").delete()
    print(f"removed {deleted} rows written by the run", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

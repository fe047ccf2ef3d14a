"""CPU cost of one resolve, layer by layer, measured in one process.

    python benchmarks/resolve_cpu.py --requests 2000

Runs after benchmarks/resolve_load.py has loaded its database (same ``--database-url``,
same ``--seed``) and calls the resolve view through Django's full request handler
(middleware, DRF, throttles on Redis, selector, serializer, JSON) without HTTP or
gunicorn, then the layers alone. For each it reports CPU milliseconds per request (user +
system time of this process, the best of several rounds, so other processes on the machine
inflate it far less than they inflate latency), wall milliseconds, and the SQL queries and
Redis round trips this process made per request. Not counted: the ``SELECT 1`` health check
Django runs on the connection once per request (``CONN_HEALTH_CHECKS``).

What it answers: how many requests per second per core the resolve stack can serve at
best, whatever the concurrency.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.resolve_load import (  # noqa: E402  (needs the repository on sys.path)
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    RESOLVE_PATH,
    server_environment,
)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, call: Callable[[int], object], requests: int, rounds: int) -> str:
    """One Markdown row: CPU and wall ms per call (the best of ``rounds`` rounds, the
    round least disturbed by other work), SQL queries and Redis round trips per call."""
    import redis.connection
    from django.db import connection

    for n in range(min(200, requests)):
        call(n)
    queries = commands = 0

    def count_query(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    # Counted in this process: the Redis server may serve others too. One packed send is
    # one round trip: through redis-py (a command or a pipeline), or the fast path's
    # script, which goes over its connection's socket directly (fastpath._command).
    from directory import fastpath

    send = redis.connection.Connection.send_packed_command
    hot_command = fastpath._command

    def count_command(self, *args, **options):
        nonlocal commands
        commands += 1
        return send(self, *args, **options)

    def count_hot_command(*args, **options):
        nonlocal commands
        commands += 1
        return hot_command(*args, **options)

    per_round = max(requests // rounds, 1)
    best_cpu = best_wall = float("inf")
    redis.connection.Connection.send_packed_command = count_command
    fastpath._command = count_hot_command
    try:
        with connection.execute_wrapper(count_query):
            for r in range(rounds):
                wall, cpu = time.perf_counter(), _cpu()
                for n in range(r * per_round, (r + 1) * per_round):
                    call(n)
                best_cpu = min(best_cpu, _cpu() - cpu)
                best_wall = min(best_wall, time.perf_counter() - wall)
    finally:
        redis.connection.Connection.send_packed_command = send
        fastpath._command = hot_command
    calls = per_round * rounds
    return (
        f"| {name} | {1000 * best_cpu / per_round:.2f} | {1000 * best_wall / per_round:.2f} | "
        f"{queries / calls:.2f} | {commands / calls:.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resolve_cpu.py", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="calls per layer")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best one counts")
    parser.add_argument("--seed", type=int, default=1977, help="seed of the lookup mix")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rounds < 1:
        parser.error("--requests and --rounds must be at least 1")
    env_args = argparse.Namespace(database_url=args.database_url, redis_url=args.redis_url)
    os.environ.update(server_environment(env_args))
    import django

    django.setup()

    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test import Client
    from rest_framework.renderers import JSONRenderer

    from benchmarks.bulk import sampled_mix
    from directory.api.lookup import ResolveApi, entry_card
    from directory.exceptions import NotFound
    from directory.selectors import entry_resolve

    if not connection.introspection.table_names():
        parser.error("the database is empty: run benchmarks/resolve_load.py first")
    mix = [m for m in sampled_mix(2000, seed=args.seed) if m.found]
    paths = [RESOLVE_PATH + quote(m.query, safe="@:") for m in mix]
    client = Client(HTTP_HOST="127.0.0.1")
    anonymous = AnonymousUser()

    def request(n: int) -> None:
        response = client.get(paths[n % len(paths)])
        if response.status_code != 200:
            raise RuntimeError(f"{paths[n % len(paths)]} answered {response.status_code}")

    def selector(n: int) -> None:
        try:
            entry_resolve(mix[n % len(mix)].query, caller=anonymous)
        except NotFound:
            raise RuntimeError(f"{mix[n % len(mix)].query} did not resolve") from None

    resolved = [entry_resolve(m.query, caller=anonymous) for m in mix[:200]]
    renderer = JSONRenderer()

    def serialize(n: int) -> None:
        entry, matched = resolved[n % len(resolved)]
        card = {**entry_card(entry, anonymous), "matched": matched}
        renderer.render(ResolveApi.OutputSerializer(card).data)

    from directory.wsgi import application

    environs = []
    for path in paths:
        target, _, query = path.partition("?")
        environs.append({
            "REQUEST_METHOD": "GET", "PATH_INFO": target, "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        })  # fmt: skip

    def fast(n: int) -> None:
        environ = dict(environs[n % len(environs)])
        statuses = []
        body = b"".join(
            application(environ, lambda status, headers, exc=None: statuses.append(status))
        )
        if not statuses[0].startswith("200") or not body:
            raise RuntimeError(f"{environ['QUERY_STRING']} answered {statuses[0]}")

    rows = [
        "| layer | CPU ms | wall ms | SQL queries | Redis round trips |",
        "|---|--:|--:|--:|--:|",
        measure("whole request (Django handler, no HTTP)", request, args.requests, args.rounds),
    ]
    throttles = ResolveApi.throttle_classes
    ResolveApi.throttle_classes = []
    try:
        rows.append(measure("whole request without throttles", request, args.requests, args.rounds))
    finally:
        ResolveApi.throttle_classes = throttles
    rows.append(measure("entry_resolve (selector + policy)", selector, args.requests, args.rounds))
    rows.append(measure("fast path, cache hit (WSGI, no HTTP)", fast, args.requests, args.rounds))
    rows.append(measure("entry card + serializer + JSON", serialize, args.requests, args.rounds))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

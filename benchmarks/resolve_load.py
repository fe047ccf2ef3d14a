"""Resolve load benchmark: GET /api/v1/resolve over the real HTTP stack, against a raw
PostgreSQL lookup of the same rows and, with ``--peer sydent``, against Sydent.

    python benchmarks/resolve_load.py --entries 1000000 --concurrency 16 --duration 30 \
        --peer sydent

1. Loads ``--entries`` synthetic entries (benchmarks/bulk.py: pooled Faker data, COPY)
   into a dedicated PostgreSQL database, created and migrated if needed; a matching load
   is reused.
2. Measures the baseline: ``--concurrency`` processes, each with one psycopg connection,
   running the lookup's SQL as prepared statements for ``--duration`` seconds.
3. Starts gunicorn with ``directory.wsgi`` (deploy/gunicorn.conf.py, DEBUG off, Redis
   for the cache and throttles, throttles raised out of the way) on 127.0.0.1, warms it
   up, and drives ``GET /api/v1/resolve?handle=…`` with wrk (or Python clients) at the
   same concurrency for the same time, over a random mix of directory handles, verified
   external handles and missing ones: once anonymously, once as a mix of OAuth2
   bearer-token callers (``--bearer-callers`` accounts of one calling app). It counts
   the answer cache's hits and the web workers' memory.
4. With ``--peer sydent``: installs matrix-sydent into a virtualenv of its own
   (``--peer-dir``), gives it one email association per entry, and drives its v1 lookup
   with the same wrk settings (benchmarks/sydent_peer.py).
5. Optionally (``--profile N``) runs N more seconds under py-spy and says where request
   time goes.
6. Prints a Markdown report and records it in docs/benchmarks.md.

Exit status: 0 when the run completed (whether or not the target was met), 1 on a failed
run, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import random
import secrets
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import drivers  # noqa: E402  (needs the repository on sys.path)
from benchmarks.variants import VARIANTS  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/worldbook_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
# High enough that no throttle answers 429 during a run. DRF keeps one timestamp per
# request in the window, so a one-second window keeps that list short.
UNTHROTTLED = "1000000/s"
THROTTLE_SCOPES = ("anon", "user", "resolve", "resolve_ip", "search", "search_ip")
# Handle verification (directory.verification) adds its own scope.
THROTTLE_SCOPES += ("verify",)
# Phone numbers (directory.numbers).
THROTTLE_SCOPES += ("numbers", "numbers_ip", "discover", "discover_ip")
THROTTLE_SCOPES += ("number_send", "number_send_ip")
# Moderation (directory.moderation).
THROTTLE_SCOPES += ("report",)
RESOLVE_PATH = "/api/v1/resolve?handle="
# As deploy/gunicorn.conf.py serves by default.
DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 4
# As directory/webserver.py serves by default (GRANIAN_BLOCKING_THREADS).
DEFAULT_GRANIAN_THREADS = 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="resolve_load.py",
        description="Benchmark GET /api/v1/resolve against a raw PostgreSQL lookup.",
    )
    parser.add_argument("--entries", type=int, default=100_000, help="synthetic entries to load")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--duration", type=int, default=30, help="seconds per measurement")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=(
            "web workers (default: as deployed, one per core for Granian, cores + 1 for "
            "gunicorn as deploy/gunicorn.conf.py)"
        ),
    )
    parser.add_argument(
        "--server",
        choices=("gunicorn", "granian"),
        default="granian",
        help="HTTP server: Granian (as deployed, WEB_SERVER=granian) or gunicorn",
    )
    parser.add_argument(
        "--worker-class", default=DEFAULT_WORKER_CLASS, help="gunicorn worker class"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help=(
            f"threads per worker (default: as deployed, {DEFAULT_THREADS} for gunicorn, "
            f"{DEFAULT_GRANIAN_THREADS} blocking threads for Granian)"
        ),
    )
    parser.add_argument(
        "--preload", action="store_true", help="gunicorn --preload (load the app before forking)"
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help="gunicorn --max-requests (default: the config's; 0 never recycles workers)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        choices=sorted(VARIANTS),
        default=[],
        help="measure the server with this change to the settings (repeatable)",
    )
    parser.add_argument(
        "--gunicorn-config",
        type=Path,
        default=REPO_ROOT / "deploy" / "gunicorn.conf.py",
        help="gunicorn config file (the deployed one by default; the flags above win)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="dedicated PostgreSQL database (created if missing; default %(default)s)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="Redis for the throttle cache (default %(default)s)",
    )
    parser.add_argument("--reload", action="store_true", help="load again even if a load matches")
    parser.add_argument(
        "--replica",
        action="store_true",
        help="read from a streaming replica: make a dedicated primary (initdb, free port) "
        "with the memory settings of --database-url's server, load it, make a standby of it "
        "with pg_basebackup -R and serve with DATABASE_REPLICA_URLS on it; the raw "
        "baseline queries the standby. Both clusters are removed afterwards",
    )
    parser.add_argument(
        "--replica-dir",
        type=Path,
        default=None,
        help="folder for --replica's clusters (default: the system's temporary folder; "
        "a 1M-entry load needs about 5 GB for the two)",
    )
    parser.add_argument("--seed", type=int, default=1977, help="seed of the data and the mix")
    parser.add_argument(
        "--bearer-callers",
        type=int,
        default=64,
        help="OAuth2 bearer-token accounts of the second mix (0: anonymous mix only)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        choices=("sydent",),
        default=[],
        help="also drive this peer's lookup with the same wrk settings (Sydent's v1 lookup)",
    )
    parser.add_argument(
        "--sydent-signer",
        choices=("peer", "self"),
        default="peer",
        help="who signed Sydent's associations: a replication peer (Sydent signs each "
        "answer) or Sydent itself (it answers without signing); default %(default)s",
    )
    parser.add_argument(
        "--peer-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "worldbook-bench-sydent",
        help="folder for the peer's virtualenv and database (default %(default)s)",
    )
    parser.add_argument("--mix-size", type=int, default=20_000, help="distinct lookups to draw")
    parser.add_argument(
        "--external-share", type=float, default=0.25, help="share of verified external handles"
    )
    parser.add_argument(
        "--missing-share", type=float, default=0.04, help="share of lookups that find nothing"
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator (auto: wrk when installed)",
    )
    parser.add_argument("--warmup", type=int, default=5, help="seconds of HTTP warm-up")
    parser.add_argument(
        "--no-prime",
        dest="prime",
        action="store_false",
        help="do not ask for every lookup of the mix once before measuring (by default the "
        "answer cache is primed, as in a service that has run a while)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure baseline and HTTP this many times, alternating; report the median run",
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=10.0,
        metavar="PERCENT",
        help="before each measurement, wait until the machine is less busy than this",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait at most this long for a quiet machine (default: do not wait)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="after measuring, sample the workers with py-spy for this long",
    )
    parser.add_argument("--target-p99-ms", type=float, default=20.0, help="p99 target (ms)")
    parser.add_argument(
        "--docs",
        type=Path,
        default=REPO_ROOT / "docs" / "benchmarks.md",
        help="Markdown file that records runs",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not record the run")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.threads is None:
        args.threads = DEFAULT_GRANIAN_THREADS if args.server == "granian" else DEFAULT_THREADS
    if args.workers is None:
        cores = len(os.sched_getaffinity(0))
        args.workers = cores if args.server == "granian" else cores + 1
    for name in (
        "entries",
        "concurrency",
        "duration",
        "workers",
        "threads",
        "mix_size",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.external_share + args.missing_share <= 1:
        parser.error("--external-share plus --missing-share must lie between 0 and 1")
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must be a postgres:// URL")
    if args.client == "wrk" and not drivers.wrk_available():
        parser.error("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    return args


def command_line(argv: list[str]) -> str:
    """The command as typed from the repository root, for the record."""
    return shlex.join(["python", "benchmarks/resolve_load.py", *argv])


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment for this process and gunicorn: settings come from it."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="directory.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        # Phone numbers: a PostgreSQL deployment with DEBUG off needs its hash keys.
        NUMBER_HASH_KEYS=os.environ.get("NUMBER_HASH_KEYS") or f"1:{secrets.token_urlsafe(32)}",
        LOG_LEVEL="WARNING",
        # Access logs would cost every request a write the benchmark is not about.
        GUNICORN_ACCESS_LOG="/dev/null",
        # The workers count the answer cache's hits and misses for the report.
        ANSWER_CACHE_STATS="true",
    )
    # Each API throttle scope reads its rate from THROTTLE_<SCOPE> (directory.settings).
    env.update({f"THROTTLE_{scope.upper()}": UNTHROTTLED for scope in THROTTLE_SCOPES})
    env.setdefault("WORLDBOOK_VAR_DIR", str(Path(tempfile.gettempdir()) / "worldbook-bench"))
    if getattr(args, "variant", None):
        env["DJANGO_SETTINGS_MODULE"] = "benchmarks.variant_settings"
        env["BENCH_VARIANTS"] = ",".join(args.variant)
    return env


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` when it does not exist."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def libpq_dsn() -> str:
    """The Django default database as a libpq connection string, for raw clients."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    keep = ("dbname", "user", "password", "host", "port")
    return make_conninfo(**{k: str(v) for k, v in params.items() if k in keep and v})


# Settings copied from the benchmark's PostgreSQL server to --replica's two clusters, so
# that the replica run differs from a single-server run by the replica alone.
REPLICA_COPIED_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "max_connections",
    "random_page_cost",
    "jit",
)


def start_replica_primary(args: argparse.Namespace):
    """For ``--replica``: a dedicated primary (benchmarks/pg_cluster.py) with the settings
    of :data:`REPLICA_COPIED_SETTINGS` read from ``--database-url``'s server (its defaults
    when that server cannot be reached), started; ``args.database_url`` then names the
    same database on it. Output: the :class:`~benchmarks.pg_cluster.Pair`."""
    import psycopg

    from benchmarks.pg_cluster import Pair

    options = []
    try:
        with psycopg.connect(_maintenance_url(args.database_url), connect_timeout=5) as conn:
            for name in REPLICA_COPIED_SETTINGS:
                value = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]
                options.append(f"-c {name}={value}")
    except psycopg.Error as exc:
        print(f"Replica: {exc}; the clusters keep PostgreSQL's defaults", file=sys.stderr)
    pair = Pair(base=str(args.replica_dir) if args.replica_dir else None, options=" ".join(options))
    print(f"Replica: a dedicated primary in {pair.root} …", file=sys.stderr)
    pair.start_primary()
    pair.database = urlsplit(args.database_url).path.lstrip("/") or "worldbook_bench"
    args.database_url = pair.primary.url(pair.database)
    return pair


def _maintenance_url(url: str) -> str:
    return (
        urlsplit(url)._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pair = start_replica_primary(args) if args.replica else None
    try:
        return run(args, argv, pair)
    finally:
        if pair is not None:
            pair.close()


def run(args: argparse.Namespace, argv: list[str], pair) -> int:
    """One benchmark run (see the module's docstring); ``pair`` is ``--replica``'s
    primary and standby, ``None`` without it."""
    env = server_environment(args)
    os.environ.update(env)
    ensure_database(args.database_url)

    import django

    django.setup()

    import psycopg
    from django.core.management import call_command
    from django.db import connection, connections
    from psycopg.conninfo import make_conninfo

    from benchmarks import bulk, cpu, profiling, report, server
    from directory.models import Endpoint, Entry, Handle

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    check_unthrottled()
    call_command("migrate", interactive=False, verbosity=0)
    load = bulk.ensure_bulk_loaded(
        args.entries, seed=args.seed, reload=args.reload, progress=not args.no_progress
    )
    if load.reused:
        say(f"Reusing the load of {load.entries} entries.")
    else:
        say(f"Loaded {load.entries} entries at {load.entries_per_second:.0f}/s.")
    mix = bulk.sampled_mix(
        args.mix_size,
        seed=args.seed,
        external_share=args.external_share,
        missing_share=args.missing_share,
    )
    tokens = bulk.bearer_callers(args.bearer_callers, seed=args.seed)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    dsn = libpq_dsn()
    statements = drivers.RawStatements.for_tables(
        *(connection.ops.quote_name(m._meta.db_table) for m in (Entry, Handle, Endpoint))
    )

    work = Path(tempfile.mkdtemp(prefix="resolve-load-"))
    paths = [RESOLVE_PATH + quote(lookup.query, safe="@:") for lookup in mix]
    paths_file = work / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    bearer_file = work / "bearer.txt"
    if tokens:
        rng = random.Random(args.seed)
        bearer_file.write_text("".join(f"{path}\tBearer {rng.choice(tokens)}\n" for path in paths))

    peer = None
    if "sydent" in args.peer:
        peer = prepare_sydent(args, work, say)
    connections.close_all()
    primary_watcher = None
    if pair is not None:
        say("Replica: pg_basebackup -R of the primary into a streaming standby …")
        pair.start_standby()
        name = urlsplit(args.database_url).path.lstrip("/")
        env["DATABASE_REPLICA_URLS"] = pair.standby.url(name)
        # The raw baseline reads where resolve reads: the standby.
        primary_watcher = psycopg.connect(dsn, autocommit=True, application_name=WATCHER)
        dsn = make_conninfo(host="127.0.0.1", port=pair.standby.port, user="postgres", dbname=name)

    # Other work on the machine competes for the same cores. Optionally wait for it to
    # calm down (bounded); in any case account for the CPU time of every measured window.
    def quiet() -> None:
        if args.wait_quiet > 0:
            cpu.wait_until_quiet(threshold=args.quiet_below / 100, timeout=args.wait_quiet, say=say)

    watcher = psycopg.connect(dsn, autocommit=True, application_name=WATCHER)
    # Sydent runs as a child of this process, so it counts as the benchmark's own.
    account = cpu.CpuAccount(
        cpu.own_processes(
            lambda: database_backends(watcher),
            lambda: database_backends(primary_watcher) if primary_watcher else [],
            lambda: local_redis_pid(args.redis_url),
        )
    )

    def baseline() -> drivers.LatencySummary:
        quiet()
        say(f"Baseline: {args.concurrency} raw clients for {args.duration} s …")
        return drivers.run_raw_clients(
            dsn,
            statements,
            [(lookup.kind, lookup.key) for lookup in mix],
            clients=args.concurrency,
            duration=args.duration,
            seed=args.seed,
            account=account,
        )

    use_wrk = args.client == "wrk" or (args.client == "auto" and drivers.wrk_available())
    if (tokens or peer) and not use_wrk:
        raise RuntimeError("the bearer mix and --peer need wrk (apt-get install wrk)")

    def drive(base_url: str, seconds: int, account=None, file=paths_file, label=None):
        if use_wrk:
            summary = drivers.run_wrk(
                base_url,
                file,
                clients=args.concurrency,
                duration=seconds,
                threads=len(os.sched_getaffinity(0)),
                seed=args.seed,
                account=account,
            )
        else:
            summary = drivers.run_http_clients(
                base_url,
                paths,
                clients=args.concurrency,
                duration=seconds,
                seed=args.seed,
                account=account,
            )
        return dataclasses.replace(summary, label=label) if label else summary

    def measured(base_url: str, file: Path, label: str):
        quiet()
        say(f"{label}: {args.concurrency} clients for {args.duration} s …")
        before = answer_stats()
        summary = drive(base_url, args.duration, account, file=file, label=label)
        after = answer_stats()
        if "429" in summary.outcomes:
            raise RuntimeError(
                f"{summary.outcomes['429']} requests were throttled (429): the "
                "figures would measure the throttle; see check_unthrottled"
            )
        return summary, {k: after[k] - before[k] for k in after}

    found_profile = None
    first_found = next(lookup for lookup in mix if lookup.found)
    raws, anons, bearers, peers = [], [], [], []
    anon_stats, bearer_stats = [], []
    memory = None
    scans_before = table_scans(pair) if pair is not None else None
    ready_path = RESOLVE_PATH + quote(first_found.query, safe="@:")
    if args.server == "granian":
        serving = server.granian(
            env,
            workers=args.workers,
            threads=args.threads,
            log=work / "granian.log",
            ready_path=ready_path,
        )
    else:
        serving = server.gunicorn(
            env,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            config=args.gunicorn_config if args.gunicorn_config.exists() else None,
            log=work / "gunicorn.log",
            ready_path=ready_path,
            extra=gunicorn_flags(args),
        )
    with serving as running:
        check_answers(running.base_url, mix[:200])
        if tokens:
            check_answers(running.base_url, mix[:20], token=tokens[0])
        if args.prime:
            say(f"HTTP: priming the answer cache with the {len(set(paths))} lookups of the mix …")
            prime(running.base_url, sorted(set(paths)), clients=args.concurrency)
        say(f"HTTP: warming up for {args.warmup} s …")
        drive(running.base_url, args.warmup)
        if tokens:
            drive(running.base_url, args.warmup, file=bearer_file)
        # Baseline, HTTP and the peer alternate, so drift in the machine's speed touches all.
        for _ in range(args.repeat):
            raws.append(baseline())
            summary, stats = measured(running.base_url, paths_file, "resolve, anonymous (wrk)")
            anons.append(summary)
            anon_stats.append(stats)
            if tokens:
                summary, stats = measured(running.base_url, bearer_file, "resolve, bearer (wrk)")
                bearers.append(summary)
                bearer_stats.append(stats)
            if peer is not None:
                peers.append(run_sydent(args, peer, drive, measured_account=account))
        memory = worker_memory(running.pid)
        if args.profile:
            say(f"Profiling for {args.profile} s …")
            collapsed = work / "profile.txt"
            with profiling.record(running.pid, collapsed, duration=args.profile):
                drive(running.base_url, args.profile)
            found_profile = profiling.breakdown(collapsed)
    watcher.close()
    scans = None
    if pair is not None:
        # The server's backends have exited, and so have written out their counts.
        after = table_scans(pair)
        scans = {where: after[where] - scans_before[where] for where in after}
    if primary_watcher is not None:
        primary_watcher.close()

    machine = report.Machine(
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=report.cpu_model(),
        ram_gib=report.ram_gib(),
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        postgresql=pg_version,
        redis=redis_version(args.redis_url),
        software=software_versions(use_wrk)
        + (f", Sydent {peer['version']}" if peer is not None else ""),
        commit=report.git_commit(REPO_ROOT),
    )
    runs = Runs(raws, anons, bearers, peers, anon_stats, bearer_stats, memory, peer, scans)
    body = render_body(args, load, runs, found_profile)
    title = (
        f"{args.entries:,} entries".replace(",", "\u202f")
        + f", {args.concurrency} clients, {args.duration} s"
        + (f" × {args.repeat}" if args.repeat > 1 else "")
        + (", Granian" if args.server == "granian" else "")
        + "".join(f", {change}" for change in args.variant)
        + (f", {' '.join(gunicorn_flags(args))}" if gunicorn_flags(args) else "")
        + "".join(f", peer {name}" for name in args.peer)
        + (", read from a streaming replica" if args.replica else "")
    )
    block = report.run_block(
        command=command_line(argv), machine=machine, when=report.now(), title=title, body=body
    )
    print(block)
    if not args.no_docs:
        report.record_run(args.docs, block)
        say(f"Recorded in {args.docs}.")
    # The path list, the server log and the profile stay behind only when a run fails.
    shutil.rmtree(work, ignore_errors=True)
    return 0


@dataclasses.dataclass
class Runs:
    """Every measured window of a run, and what was counted beside them."""

    raws: list
    anons: list
    bearers: list
    peers: list
    anon_stats: list
    bearer_stats: list
    memory: dict | None
    peer: dict | None
    scans: dict | None = None  # --replica: table scans on each cluster while serving


SCANNED_TABLES = ("directory_entry", "directory_handle", "directory_endpoint")


WATCHER = "resolve_load watcher"


def table_scans(pair, timeout: float = 30.0) -> dict[str, int]:
    """Index and sequential scans of the lookup's tables so far, on the primary and on the
    standby of ``pair`` (PostgreSQL's cumulative statistics, kept by each server). A
    backend writes its counts out as it exits, so this first waits (at most ``timeout``
    seconds) until no client is connected but the benchmark's watchers."""
    import time

    counts = {}
    for where, cluster in (("primary", pair.primary), ("standby", pair.standby)):
        with cluster.connect(pair.database) as conn:
            deadline = time.monotonic() + timeout
            while (
                time.monotonic() < deadline
                and conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                    "AND application_name <> %s",
                    (WATCHER,),
                ).fetchone()[0]
            ):
                time.sleep(0.1)
            counts[where] = int(
                conn.execute(
                    "SELECT COALESCE(sum(COALESCE(idx_scan, 0) + seq_scan), 0) "
                    "FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                    (list(SCANNED_TABLES),),
                ).fetchone()[0]
            )
    return counts


def prime(base_url: str, paths: list[str], *, clients: int) -> None:
    """Ask for every path once, ``clients`` at a time: the answer cache then holds the
    mix, as a running service holds the lookups its callers repeat."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as client:
        with ThreadPoolExecutor(clients) as pool:
            for _response in pool.map(client.get, paths):
                pass


def answer_stats() -> dict[str, int]:
    """The answer cache's hit and miss totals (the server counts with ANSWER_CACHE_STATS)."""
    from directory.answers import read_stats

    return read_stats()


def worker_memory(master_pid: int) -> dict[str, float]:
    """Resident memory (MiB) of gunicorn's workers: each, and their sum."""
    sizes = []
    for child in _children(master_pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return {"workers": len(sizes), "each_max": max(sizes, default=0), "total": sum(sizes)}


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def prepare_sydent(args: argparse.Namespace, work: Path, say) -> dict:
    """Install Sydent, load its associations (one per entry), write its lookup mix."""
    from benchmarks import bulk, server, sydent_peer

    folder = args.peer_dir.resolve()
    version = sydent_peer.ensure_installed(folder, say=say)
    rng = random.Random(args.seed)
    sample: list[str] = []
    seen = 0

    def stream():
        nonlocal seen
        for address, mxid in bulk.sydent_associations(args.seed):
            seen += 1
            if len(sample) < args.mix_size:
                sample.append(address)
            else:
                slot = rng.randrange(seen)
                if slot < args.mix_size:
                    sample[slot] = address
            yield address, mxid

    ports = (server.free_port(), server.free_port())
    marker = f"{args.entries}:{args.seed}:{args.sydent_signer}"
    stamp = folder / "associations.loaded"
    if stamp.exists() and stamp.read_text() == marker and (folder / "sydent.db").exists():
        for _pair in stream():
            pass
        seconds = 0.0
    else:
        seconds = sydent_peer.ensure_associations(
            folder,
            stream(),
            count=args.entries,
            marker=marker,
            ports=ports,
            log=work / "sydent.log",
            signer=args.sydent_signer,
            say=say,
        )
    lookups = bulk.sydent_mix(
        sample, args.mix_size, seed=args.seed, missing_share=args.missing_share
    )
    paths_file = work / "sydent-paths.txt"
    paths_file.write_text(
        "".join(sydent_peer.LOOKUP_PATH + quote(address, safe="@") + "\n" for address, _ in lookups)
    )
    return {
        "folder": folder,
        "signer": args.sydent_signer,
        "version": version,
        "paths": paths_file,
        "lookups": lookups,
        "load_seconds": seconds,
        "log": work / "sydent.log",
    }


def run_sydent(args, peer: dict, drive, *, measured_account):
    """Start Sydent, check a sample of its answers, warm it up and measure it."""
    import httpx

    from benchmarks import server, sydent_peer

    ports = (server.free_port(), server.free_port())
    with sydent_peer.running(peer["folder"], *ports, log=peer["log"]) as base_url:
        wrong = 0
        with httpx.Client(base_url=base_url, timeout=10) as client:
            for address, found in peer["lookups"][:200]:
                body = client.get(sydent_peer.LOOKUP_PATH + quote(address, safe="@")).json()
                wrong += bool(body.get("mxid")) != found
        if wrong:
            raise RuntimeError(f"Sydent answered {wrong} of 200 check lookups wrongly")
        drive(base_url, args.warmup, file=peer["paths"])
        print(f"Sydent: {args.concurrency} clients for {args.duration} s …", file=sys.stderr)
        summary = drive(
            base_url,
            args.duration,
            measured_account,
            file=peer["paths"],
            label="Sydent v1 lookup (wrk)",
        )
    return summary


def check_unthrottled() -> None:
    """Refuse to measure a server that would throttle the benchmark: every API rate must
    be raised to :data:`UNTHROTTLED` (a new scope needs its name in THROTTLE_SCOPES)."""
    from django.conf import settings

    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    low = sorted(scope for scope, rate in rates.items() if rate != UNTHROTTLED)
    if low:
        raise RuntimeError(
            f"throttle scopes {', '.join(low)} would limit the benchmark; add them to "
            "THROTTLE_SCOPES in benchmarks/resolve_load.py"
        )


def gunicorn_flags(args: argparse.Namespace) -> list[str]:
    """gunicorn options beyond the worker settings, from ``--preload``/``--max-requests``."""
    flags = ["--preload"] if args.preload else []
    if args.max_requests is not None:
        flags += ["--max-requests", str(args.max_requests)]
    return flags


def check_answers(base_url: str, lookups, token: str | None = None) -> None:
    """Fail before measuring when resolve does not answer as the data says it must:
    200 for an active entry, 404 for a missing or suspended one (as a bearer caller
    when ``token`` is given)."""
    import httpx

    wrong = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base_url, timeout=10, headers=headers) as client:
        for lookup in lookups:
            status = client.get(RESOLVE_PATH + quote(lookup.query, safe="@:")).status_code
            if status != (200 if lookup.found else 404):
                wrong.append(f"{lookup.query!r} → {status}")
    if wrong:
        raise RuntimeError(
            f"resolve answered {len(wrong)} of {len(lookups)} check lookups wrongly: "
            + ", ".join(wrong[:5])
        )


def render_body(args, load, runs: Runs, found_profile) -> str:
    """The run's figures in Markdown: the table, the targets, the cache, the load, the
    server."""
    from benchmarks import report

    anon, raw = report.median_run(runs.anons), report.median_run(runs.raws)
    bearer = report.median_run(runs.bearers) if runs.bearers else None
    sydent = report.median_run(runs.peers) if runs.peers else None
    rows = [anon] + ([bearer] if bearer else []) + [raw] + ([sydent] if sydent else [])
    lines = [report.results_table(rows, ratios=ratio_rows(anon, bearer, raw, sydent)), ""]
    if args.repeat > 1:
        spreads = [f"resolve {report.spread(runs.anons)}", f"raw {report.spread(runs.raws)}"]
        if runs.bearers:
            spreads.append(f"bearer {report.spread(runs.bearers)}")
        if runs.peers:
            spreads.append(f"Sydent {report.spread(runs.peers)}")
        lines += [
            f"Measured {args.repeat} times, baseline, HTTP and peer alternating; each row is "
            f"the median run by throughput. Over the {args.repeat} runs: "
            + "; ".join(spreads)
            + ".",
            "",
        ]
    met = anon.p99_ms <= args.target_p99_ms
    lines.append(
        f"Target (p99 at most {args.target_p99_ms:g} ms at {args.concurrency} clients, "
        f"anonymous mix): **{'met' if met else 'missed'}** (p99 {anon.p99_ms:.1f} ms)."
    )
    if sydent is not None:
        ratio = anon.throughput / sydent.throughput if sydent.throughput else 0.0
        lines.append(
            "Target (resolve req/s at least 1.5 × Sydent's): "
            f"**{'met' if ratio >= 1.5 else 'missed'}** ({ratio:.2f} ×)."
        )
    if bearer is not None:
        gap = 1 - bearer.throughput / anon.throughput if anon.throughput else 1.0
        lines.append(
            f"Target (bearer mix within 30 % of the anonymous one): "
            f"**{'met' if gap <= 0.30 else 'missed'}** ({gap:.0%} fewer req/s, p99 "
            f"{bearer.p99_ms:.1f} against {anon.p99_ms:.1f} ms)."
        )
    lines.append("")
    lines.append(
        "Answer cache: "
        + "; ".join(
            f"{name} mix {hit_rate(stats)}"
            for name, stats in (("anonymous", runs.anon_stats), ("bearer", runs.bearer_stats))
            if stats
        )
        + " (hits ÷ lookups in the measured windows, counted by the workers in batches of "
        "200"
        + (
            "; the cache was primed with one request for each lookup of the mix before "
            "the warm-up)."
            if args.prime
            else "; the cache was not primed)."
        )
    )
    if runs.memory:
        lines.append(
            f"Web workers' memory after the runs: {runs.memory['workers']} workers, "
            f"{runs.memory['total']:.0f} MiB resident in all, at most "
            f"{runs.memory['each_max']:.0f} MiB each."
        )
    lines += [
        "",
        (
            f"Data: {load.entries} entries, {load.handles} external handles, "
            f"{load.endpoints} endpoints; "
            + (
                "an existing load was reused."
                if load.reused
                else f"loaded with COPY in {load.seconds:.0f} s "
                f"({load.entries_per_second:.0f} entries/s)."
            )
        ),
        f"Mix: {args.mix_size} distinct lookups, {args.external_share:.0%} verified external "
        f"handles, {args.missing_share:.0%} missing, the rest directory handles; the bearer "
        f"mix sends the same lookups, each with the token of one of {args.bearer_callers} "
        "accounts of one calling app (half of them verified callers).",
        (
            "Server: Granian (WSGI, `WEB_SERVER=granian`), "
            f"{args.workers} workers × {args.threads} blocking thread(s), DEBUG off, Redis "
            if args.server == "granian"
            else f"Server: gunicorn, {args.workers} {args.worker_class} workers × "
            f"{args.threads} thread(s), config `{config_name(args.gunicorn_config)}`, "
            "DEBUG off, Redis "
        )
        + "cache (answers, throttles), throttles raised out of the way; clients and server "
        "share the machine."
        + (f" gunicorn flags: `{' '.join(gunicorn_flags(args))}`." if gunicorn_flags(args) else ""),
        *(f"Variant: **{name}**: {VARIANTS[name]}." for name in args.variant),
    ]
    if args.replica:
        lines.append(
            "Replica: a dedicated primary (initdb, with the benchmark server's memory "
            "settings) and a streaming standby of it (`pg_basebackup -R`), both on this "
            "machine; the server reads resolve from the standby through the replica router "
            "(`DATABASE_REPLICA_URLS`, directory/replicas.py) and the raw baseline queries "
            "the standby. Both clusters run with fsync off; their backends count as the "
            "benchmark's own."
        )
        if runs.scans is not None:
            lines.append(
                f"Scans of the entry, handle and endpoint tables while the server ran: "
                f"{runs.scans['standby']} on the standby (the raw baseline's included), "
                f"{runs.scans['primary']} on the primary."
            )
    if runs.peer is not None:
        lines.append(
            f"Peer: Sydent {runs.peer['version']} (Twisted, SQLite, one process) on 127.0.0.1, "
            f"{args.entries} email associations "
            + (
                "signed by a replication peer (Sydent signs each answer as itself)"
                if runs.peer["signer"] == "peer"
                else "signed with its own key (answered without signing)"
            )
            + (
                f" (loaded in {runs.peer['load_seconds']:.0f} s)"
                if runs.peer["load_seconds"]
                else " (an existing load)"
            )
            + f"; {args.mix_size} lookups of `/_matrix/identity/api/v1/lookup?medium=email`, "
            f"{args.missing_share:.0%} unknown addresses; same wrk settings."
        )
    lines.append(
        '"Other work" is the share of all the machine\'s CPU time that went to processes '
        "outside the benchmark (not its clients, server, peer, database backends or Redis) "
        "during the measured window."
    )
    if found_profile is not None:
        lines += [
            "",
            f"Profile ({args.profile} s under py-spy):",
            "",
            report.breakdown_table(found_profile),
        ]
    return "\n".join(lines)


def hit_rate(stats: list[dict[str, int]]) -> str:
    hits = sum(s["hit"] for s in stats)
    total = hits + sum(s["miss"] for s in stats)
    return f"{hits / total:.1%} hits of {total}" if total else "not counted"


def ratio_rows(anon, bearer, raw, sydent) -> list[tuple[str, object, object]]:
    """The ratios under the table: ``(label, numerator, denominator)``."""
    rows = [("resolve ÷ raw", anon, raw)]
    if sydent is not None:
        rows.append(("resolve ÷ Sydent", anon, sydent))
    if bearer is not None:
        rows.append(("bearer ÷ anonymous", bearer, anon))
    return rows


def config_name(path: Path) -> str:
    if not path.exists():
        return "none"
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path.name


def database_backends(conn) -> list[int]:
    """Process ids of the PostgreSQL backends connected to ``conn``'s database."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    ).fetchall()
    return [row[0] for row in rows]


def local_redis_pid(url: str) -> list[int]:
    """The Redis server's process id when it runs on this machine (loopback)."""
    import redis

    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return []
    try:
        return [int(redis.Redis.from_url(url).info("server")["process_id"])]
    except redis.RedisError:
        return []


def redis_version(url: str) -> str:
    import redis

    try:
        return str(redis.Redis.from_url(url).info("server")["redis_version"])
    except redis.RedisError:
        return "unreachable"


def software_versions(use_wrk: bool) -> str:
    import subprocess
    from importlib.metadata import version

    parts = [
        f"Django {version('Django')}",
        f"DRF {version('djangorestframework')}",
        f"gunicorn {version('gunicorn')}",
        f"psycopg {version('psycopg')}",
    ]
    if use_wrk:
        banner = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        parts.append(banner.split(" Copyright")[0].strip() or "wrk")
    return ", ".join(parts)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a failed run ends with its reason, not a traceback
        if os.environ.get("BENCH_TRACEBACK"):
            raise
        print(f"resolve_load: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)

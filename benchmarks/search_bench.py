"""Search benchmark: latency and recall of each search backend over synthetic entries.

    python benchmarks/search_bench.py --entries 100000

1. Loads ``--entries`` synthetic entries (benchmarks/synthetic.py: Faker in twelve locales,
   fixed ``--seed``) into a dedicated PostgreSQL database, created and migrated if needed;
   a matching load is reused. The directory load rate is reported.
2. Builds each backend's index from scratch (``rebuild``), timed: the bulk-load
   throughput in entries/s.
3. Generates ``--queries`` queries per class from randomly drawn listed entries: ``exact``
   (the nickname or the directory handle as written), ``typo1`` (one edit in one word of
   five characters or more), ``typo2`` (two edits in a word of nine or more), ``prefix``
   (search-as-you-type: the words before the last, then the first half of the last
   word, at least two characters). An edit is an insertion, deletion, substitution or
   transposition of adjacent characters, drawn from the word's own letters.
4. Runs every query once to warm up, then once timed (``search(q, limit=20)``), and reports
   p50/p95/p99 per class and over the mixed set, and recall@1 and @5: a query counts as
   found when an entry with the intended nickname (folded) — or, for handle queries, the
   intended entry — is among the first 1 or 5 results (many people share a name, so the
   intended person cannot be told from their namesakes by any engine).
5. Measures index-sync lag: entries created through the directory's actions, their sync
   run as on commit (in-process), timed from commit until a search finds them.
6. Cleans up: the entries of step 5 are deleted, the search index tables are emptied and a
   Meilisearch index it made is deleted; the database is dropped when the run created it,
   unless ``--keep``.

Meilisearch is benchmarked too when ``--meilisearch-url`` (or ``MEILISEARCH_URL``) is given.
Exit status: 0 when the run completed, 1 on a failed run, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/worldbook_search_bench"
CLASSES = ("exact", "typo1", "typo2", "prefix")
LIMIT = 20
SYNC_LAG_SAMPLES = 30


# ---------------------------------------------------------------------- query generation


def edit(word: str, rng: random.Random) -> str:
    """``word`` with one random edit: insertion, deletion, substitution or transposition of
    two adjacent characters, the new characters drawn from the word itself (same script).
    Never returns ``word`` unchanged."""
    while True:
        kind = rng.choice(("insert", "delete", "substitute", "transpose"))
        i = rng.randrange(len(word))
        letter = rng.choice(word)
        if kind == "insert":
            out = word[:i] + letter + word[i:]
        elif kind == "delete":
            out = word[:i] + word[i + 1 :]
        elif kind == "substitute":
            out = word[:i] + letter + word[i + 1 :]
        elif i + 1 < len(word):
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            continue
        if out != word:
            return out


def with_typos(word: str, typos: int, rng: random.Random) -> str | None:
    """``word`` with ``typos`` (1 or 2) random edits, such that the folded forms
    (:func:`search.text.fold`: what every backend compares) are exactly ``typos`` edits
    apart (Damerau–Levenshtein) and the typed word is still long enough to be allowed that
    many typos (five characters for one, nine for two: like Meilisearch, the budget
    follows the length of the word typed). ``None`` when twenty tries found no such word.
    """
    from rapidfuzz.distance import DamerauLevenshtein

    from search.text import fold, typo_budget

    for _ in range(20):
        out = word
        for _ in range(typos):
            out = edit(out, rng)
        typed = fold(out)
        if DamerauLevenshtein.distance(fold(word), typed) == typos and typo_budget(typed) >= typos:
            return out
    return None


@dataclass(frozen=True)
class Query:
    """One benchmark query: its class, text, the entry it was made from and the folded
    nickname that counts as found (``None``: only that entry counts)."""

    kind: str
    text: str
    entry_id: int
    nickname: str | None


def make_query(kind: str, entry_id: int, nickname: str, handle: str, rng: random.Random):
    """A query of class ``kind`` for the entry, or ``None`` when its name has no word that
    fits the class (no word of nine characters for ``typo2``)."""
    from search.text import TYPO2_MIN_LENGTH, TYPO_MIN_LENGTH, fold, index_words

    folded = fold(nickname)
    words = nickname.split()
    if kind == "exact":
        if rng.random() < 0.5:
            return Query(kind, "@" + handle, entry_id, None)
        return Query(kind, nickname, entry_id, folded)
    if kind == "prefix":
        last = words[-1]
        cut = max(2, len(last) // 2)
        if len(last) <= cut:
            return None
        return Query(kind, " ".join([*words[:-1], last[:cut]]), entry_id, folded)
    typos = 1 if kind == "typo1" else 2
    minimum = TYPO_MIN_LENGTH if typos == 1 else TYPO2_MIN_LENGTH
    eligible = [i for i, w in enumerate(words) if len(w) >= minimum and index_words(w) == [fold(w)]]
    if not eligible:
        return None
    i = rng.choice(eligible)
    typed = with_typos(words[i], typos, rng)
    if typed is None:
        return None
    return Query(kind, " ".join([*words[:i], typed, *words[i + 1 :]]), entry_id, folded)


def query_set(per_class: int, *, seed: int) -> list[Query]:
    """``per_class`` queries of each class, from listed entries drawn with ``seed``."""
    from directory.models import Entry

    rng = random.Random(seed)
    ids = list(Entry.objects.listed().order_by("pk").values_list("pk", flat=True))
    queries: dict[str, list[Query]] = {kind: [] for kind in CLASSES}
    while any(len(found) < per_class for found in queries.values()):
        sample = rng.sample(ids, min(len(ids), 2000))
        rows = Entry.objects.filter(pk__in=sample).values_list("pk", "nickname", "handle")
        for pk, nickname, handle in sorted(rows):
            for kind in CLASSES:
                if len(queries[kind]) < per_class:
                    query = make_query(kind, pk, nickname, handle, rng)
                    if query is not None:
                        queries[kind].append(query)
        if len(ids) < 2000 and all(queries.values()):
            break  # a tiny directory may hold too few long names for every class
    return [query for kind in CLASSES for query in queries[kind]]


# ---------------------------------------------------------------------- measuring


@dataclass
class ClassResult:
    kind: str
    latencies_ms: list[float] = field(default_factory=list)
    hits_at_1: int = 0
    hits_at_5: int = 0

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of ``values``, nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def measure(backend, queries: list[Query]) -> dict[str, ClassResult]:
    """Run each query warm, timed; score recall against the intended name or entry."""
    from directory.models import Entry
    from search.text import fold

    for query in queries:  # warm-up: caches and the database's buffers
        backend.search(query.text, limit=LIMIT, offset=0)
    results = {kind: ClassResult(kind) for kind in CLASSES}
    for query in queries:
        started = time.perf_counter()
        ids, _ = backend.search(query.text, limit=LIMIT, offset=0)
        elapsed = (time.perf_counter() - started) * 1000
        result = results[query.kind]
        result.latencies_ms.append(elapsed)
        top = ids[:5]
        if query.nickname is None:
            good = [i == query.entry_id for i in top]
        else:
            names = dict(Entry.objects.filter(pk__in=top).values_list("pk", "nickname"))
            good = [fold(names.get(i, "")) == query.nickname for i in top]
        result.hits_at_1 += bool(good[:1] and good[0])
        result.hits_at_5 += any(good)
    return results


def sync_lag(*, seed: int) -> list[float]:
    """Milliseconds from commit to searchable for ``SYNC_LAG_SAMPLES`` new entries made
    through the directory's actions; the sync task runs in-process (``CELERY_TASK_ALWAYS_
    EAGER``), so the lag is the sync's own cost without a broker's queueing. The entries
    are deleted afterwards."""
    from django.db import connection, transaction

    from directory import services
    from search.backends import get_backend

    rng = random.Random(seed)
    lags: list[float] = []
    made = []
    for n in range(SYNC_LAG_SAMPLES):
        token = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))
        callbacks: list = []
        with transaction.atomic():
            entry = services.entry_create(nickname=f"Lag {token}", handle=f"lag{n}{token}")
            callbacks = [cb for _, cb, _ in connection.run_on_commit]
            connection.run_on_commit.clear()
        made.append(entry)
        started = time.perf_counter()
        for callback in callbacks:  # what the worker does on commit, in-process
            callback()
        deadline = started + 30
        while time.perf_counter() < deadline:
            if entry.pk in get_backend().search(token, limit=5, offset=0)[0]:
                break
            time.sleep(0.005)
        lags.append((time.perf_counter() - started) * 1000)
    for entry in made:
        with transaction.atomic():
            services.entry_delete(entry=entry)
            callbacks = [cb for _, cb, _ in connection.run_on_commit]
            connection.run_on_commit.clear()
        for callback in callbacks:
            callback()
    return lags


# ---------------------------------------------------------------------- the run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="search_bench.py", description="Benchmark search latency and recall per backend."
    )
    parser.add_argument("--entries", type=int, default=100_000, help="synthetic entries")
    parser.add_argument("--seed", type=int, default=1977, help="seed of the data and queries")
    parser.add_argument("--queries", type=int, default=500, help="queries per class")
    parser.add_argument("--batch-size", type=int, default=2000, help="rebuild batch size")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a dedicated PostgreSQL database (created if missing)",
    )
    parser.add_argument(
        "--meilisearch-url",
        default=os.environ.get("MEILISEARCH_URL", ""),
        help="also benchmark Meilisearch at this URL",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and search index afterwards"
    )
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="measure the index a --keep run left instead of rebuilding it (no load figure)",
    )
    args = parser.parse_args(argv)
    if args.entries < 100 or args.queries < 1 or args.batch_size < 1:
        parser.error("--entries must be 100 or more, --queries and --batch-size 1 or more")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgres:// URL")
    return args


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` unless it exists; True if created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = (
        parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    )
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    maintenance = (
        parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    )
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parts.path.lstrip("/"))
            )
        )


def empty_search_tables() -> None:
    from django.db import connection

    from search.models import (
        PendingSync,
        ReindexCheckpoint,
        SearchDocument,
        SearchPrefix,
        SearchTerm,
        SearchWord,
        TermVariant,
    )

    tables = ", ".join(
        connection.ops.quote_name(m._meta.db_table)
        for m in (
            SearchTerm,
            SearchPrefix,
            SearchDocument,
            TermVariant,
            SearchWord,
            PendingSync,
            ReindexCheckpoint,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")


def table(rows: list[list[str]]) -> str:
    """A Markdown table; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="directory.settings",
        DATABASE_URL=args.database_url,
        # Sync tasks run in-process where they are sent: no worker, no broker needed.
        CELERY_TASK_ALWAYS_EAGER="true",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("WORLDBOOK_VAR_DIR", str(Path(tempfile.gettempdir()) / "worldbook-bench"))
    Path(os.environ["WORLDBOOK_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    if args.meilisearch_url:
        os.environ.update(MEILISEARCH_URL=args.meilisearch_url, MEILISEARCH_INDEX="search_bench")
    created = ensure_database(args.database_url)

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from benchmarks import synthetic
    from directory.models import Entry
    from search.backends import get_backend

    call_command("migrate", interactive=False, verbosity=0)
    load = synthetic.ensure_loaded(args.entries, seed=args.seed, progress=True)
    listed = Entry.objects.listed().count()
    backends = ["database"] + (["meilisearch"] if args.meilisearch_url else [])
    report: list[str] = []
    summary = [
        ["backend", "class", "queries", "p50 ms", "p95 ms", "p99 ms", "recall@1", "recall@5"]
    ]
    loads = [["backend", "entries indexed", "seconds", "entries/s"]]
    lags = [["backend", "samples", "p50 ms", "p95 ms", "max ms"]]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
        queries = query_set(args.queries, seed=args.seed)
        for name in backends:
            with override_settings(SEARCH_BACKEND=name):
                backend = get_backend()
                if args.reuse_index and backend.health().documents:
                    loads.append([name, "(reused)", "", ""])
                else:
                    if name == "database":
                        empty_search_tables()
                    print(f"Indexing {listed} listed entries ({name})…", file=sys.stderr)
                    started = time.perf_counter()
                    indexed = backend.rebuild(batch_size=args.batch_size)
                    seconds = time.perf_counter() - started
                    loads.append([name, str(indexed), f"{seconds:.0f}", f"{indexed / seconds:.0f}"])
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
                results = measure(backend, queries)
                everything: list[float] = []
                for kind, result in results.items():
                    everything += result.latencies_ms
                    summary.append(
                        [
                            name,
                            kind,
                            str(result.count),
                            f"{result.percentile(50):.1f}",
                            f"{result.percentile(95):.1f}",
                            f"{result.percentile(99):.1f}",
                            f"{result.hits_at_1 / max(1, result.count):.3f}",
                            f"{result.hits_at_5 / max(1, result.count):.3f}",
                        ]
                    )
                summary.append(
                    [
                        name,
                        "mixed",
                        str(len(everything)),
                        f"{percentile(everything, 50):.1f}",
                        f"{percentile(everything, 95):.1f}",
                        f"{percentile(everything, 99):.1f}",
                        "",
                        "",
                    ]
                )
                lag = sync_lag(seed=args.seed)
                lags.append(
                    [
                        name,
                        str(len(lag)),
                        f"{percentile(lag, 50):.1f}",
                        f"{percentile(lag, 95):.1f}",
                        f"{max(lag):.1f}",
                    ]
                )
    finally:
        if not args.keep:
            empty_search_tables()
            if args.meilisearch_url:
                with override_settings(SEARCH_BACKEND="meilisearch"):
                    meili = get_backend()
                    meili._wait(meili.client.delete_index(settings.MEILISEARCH_INDEX))
            connection.close()
            if created:
                drop_database(args.database_url)

    report.append(f"Command: `{shlex.join(['python', 'benchmarks/search_bench.py', *argv])}`")
    report.append(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL {pg_version}; load average at the end "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}."
    )
    report.append(
        f"Data: {load.entries} entries ({listed} listed), "
        + (
            "reused."
            if load.reused
            else f"loaded in {load.seconds:.0f} s ({load.entries_per_second:.0f} entries/s)."
        )
    )
    report += ["", "Index load (rebuild):", "", table(loads)]
    report += ["", f"Queries (limit {LIMIT}), seed {args.seed}:", "", table(summary)]
    report += ["", "Index-sync lag, commit to searchable (sync run in-process):", "", table(lags)]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

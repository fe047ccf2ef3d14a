"""Phone-number benchmark: lookup latency over many retirement records, and purge rate.

    python benchmarks/numbers_lookup.py --retired 100000 --forwarding 2000 --lookups 3000

1. Loads ``--retired`` keyed-hash records (``RetiredNumber``) and ``--forwarding`` entries
   with a retiring number each into a dedicated PostgreSQL database, created and migrated
   if needed and emptied of earlier benchmark rows first.
2. Times ``directory.numbers.selectors.number_lookup`` in this process for ``--lookups``
   numbers drawn at random: a third retired, a third forwarding, a third unknown; each
   answer is checked against the data. Reports p50, p95 and p99 in milliseconds and the
   queries per lookup.
3. Moves the clock past every window and times ``numbers_advance`` purging all the
   forwarding numbers; reports numbers purged per second.

Targets: lookup p99 under 20 ms (a lookup is one API request's worth of work; resolve's
end-to-end target is the same); purge at least 20 numbers per second, which clears
1.7 million numbers a day, far more than a day's retirements, in the beat runs.
Exit status: 0 when the run completed, 1 when an answer was wrong.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/worldbook_numbers_bench"
PREFIX = "+1415"  # numbers +1415XXXXXXX; the benchmark's own range


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="numbers_lookup.py", description=__doc__.split("\n")[0])
    parser.add_argument("--retired", type=int, default=100_000, help="retirement records")
    parser.add_argument("--forwarding", type=int, default=2_000, help="retiring numbers")
    parser.add_argument("--lookups", type=int, default=3_000, help="lookups to time")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    return parser.parse_args(argv)


def number(n: int) -> str:
    return f"{PREFIX}{n:07d}"


def load(args, rng: random.Random):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from directory.models import Entry, EntryHandleSkeleton
    from directory.numbers.hashing import current_key, number_digest
    from directory.numbers.models import LinkedNumber, RetiredNumber

    Entry.objects.filter(handle_canonical__startswith="numbench").delete()
    RetiredNumber.objects.all().delete()
    LinkedNumber.objects.all().delete()
    key = current_key()
    picks = rng.sample(range(10_000_000), args.retired + args.forwarding + args.lookups)
    retired = picks[: args.retired]
    forwarding = picks[args.retired : args.retired + args.forwarding]
    unknown = picks[args.retired + args.forwarding :]
    today = date.today()
    RetiredNumber.objects.bulk_create(
        (
            RetiredNumber(
                key_version=key.version,
                digest=number_digest(number(n), key),
                retired_on=today - timedelta(days=rng.randrange(1, 2000)),
            )
            for n in retired
        ),
        batch_size=5000,
    )
    owner, _ = get_user_model().objects.get_or_create(username="numbench")
    entries = Entry.objects.bulk_create(
        Entry(
            owner=owner,
            nickname=f"Bench {i}",
            nickname_skeleton=f"bench {i}",
            handle=f"numbench{i}",
            handle_canonical=f"numbench{i}",
            handle_skeleton=f"numbench{i}",
        )
        for i in range(args.forwarding)
    )
    EntryHandleSkeleton.objects.bulk_create(
        EntryHandleSkeleton(entry=entry, skeleton=entry.handle_skeleton) for entry in entries
    )
    now = timezone.now()
    LinkedNumber.objects.bulk_create(
        LinkedNumber(
            entry=entry,
            e164=number(n),
            last_digits=number(n)[-2:],
            calling_code=1,
            state=LinkedNumber.State.RETIRING,
            forward_audience="everyone",
            retiring_at=now,
            forward_until=now + timedelta(days=90),
        )
        for entry, n in zip(entries, forwarding, strict=True)
    )
    return owner, retired, forwarding, unknown


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    from benchmarks.resolve_load import ensure_database

    ensure_database(args.database_url)
    import django

    django.setup()
    import time_machine
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from directory.numbers.selectors import number_lookup
    from directory.numbers.services import numbers_advance

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    caller, retired, forwarding, unknown = load(args, rng)
    load_s = time.perf_counter() - started

    third = args.lookups // 3
    plan = (
        [(number(n), "retired") for n in rng.sample(retired, third)]
        + [(number(n), "moved") for n in rng.choices(forwarding, k=third)]
        + [(number(n), "unknown") for n in unknown[: args.lookups - 2 * third]]
    )
    rng.shuffle(plan)
    for e164, _ in plan[:100]:  # warm-up
        number_lookup(e164, caller=caller)
    timings, wrong = [], 0
    with CaptureQueriesContext(connection) as queries:
        for e164, expected in plan:
            t0 = time.perf_counter()
            answer = number_lookup(e164, caller=caller)
            timings.append((time.perf_counter() - t0) * 1000)
            wrong += answer.status != expected
    per_lookup = len(queries.captured_queries) / len(plan)

    with time_machine.travel(time.time() + 91 * 86400):
        t0 = time.perf_counter()
        purged = numbers_advance()
        purge_s = time.perf_counter() - t0

    print("## Phone numbers: lookup and purge\n")
    print(
        f"- data: {args.retired} retirement records, {args.forwarding} forwarding numbers "
        f"(loaded in {load_s:.1f} s), seed {args.seed}"
    )
    print(
        f"- lookups: {len(plan)} (a third each retired, moved, unknown), "
        f"{per_lookup:.1f} queries per lookup, wrong answers: {wrong}"
    )
    print(
        f"- lookup latency: p50 {percentile(timings, 0.5):.2f} ms, "
        f"p95 {percentile(timings, 0.95):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms, "
        f"mean {statistics.fmean(timings):.2f} ms (target p99 < 20 ms)"
    )
    print(
        f"- purge: {purged} numbers in {purge_s:.2f} s = {purged / purge_s:.0f} numbers/s "
        "(target ≥ 20/s)"
    )
    return 1 if wrong or purged != args.forwarding else 0


if __name__ == "__main__":
    sys.exit(main())

"""How the moderation console holds up on a large directory.

Loads ``--entries`` synthetic entries (:mod:`benchmarks.synthetic`, the resolve benchmark's
data, about 60 % of them with a verified handle) into a database of its own, opens report
cases on ``--reports`` of them, then measures, each ``--repeat`` times, median and worst:

- the admin pages a moderator opens (dashboard, report queue, the entry list unfiltered,
  filtered, searched, an entry's change page), through Django's test client with a
  staff session that passed a second factor: milliseconds and SQL queries per page;
- building the impersonation index of every verified entry (seconds), then the
  impersonation check of one entry against the verified ones
  (:func:`directory.moderation.impersonation.find_resemblances`): milliseconds.

Prints a Markdown block with the figures and the command, for ``docs/benchmarks.md``.

    python benchmarks/moderation_admin.py --entries 100000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=500, help="entries reported")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/worldbook_bench",
        help="PostgreSQL database of its own (created and migrated)",
    )
    return parser.parse_args(argv)


def _measure(call, repeat: int) -> tuple[float, float, int]:
    """Run ``call`` ``repeat`` times after one warm-up; return (median ms, worst ms,
    queries of the last run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    return statistics.median(times), max(times), queries


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    from benchmarks.resolve_load import ensure_database

    ensure_database(args.database_url)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from benchmarks import synthetic
    from directory.models import Entry
    from directory.moderation.impersonation import find_resemblances, protect_all_names
    from directory.moderation.models import ProtectedNameKey, Report, ReportCase

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", interactive=False, verbosity=0)
    load = synthetic.ensure_loaded(args.entries, seed=args.seed)
    print(f"{load.entries} entries ({'reused' if load.reused else 'loaded'}).", file=sys.stderr)
    # The load bypasses the services (bulk_create), so the impersonation index is built
    # here as after a restore: timed, since it is what an operator runs.
    started = time.perf_counter()
    verified = protect_all_names()
    protect_seconds = time.perf_counter() - started
    protected_keys = ProtectedNameKey.objects.count()

    users = get_user_model().objects
    root = users.filter(username="bench-root").first() or users.create_superuser(
        "bench-root", "bench-root@example.org", "bench-root-pw"
    )
    reporter = users.filter(username="bench-reporter").first() or users.create_user(
        "bench-reporter", "bench-reporter@example.org", "x"
    )
    rng = random.Random(args.seed)
    ids = list(Entry.objects.values_list("pk", flat=True))
    if ReportCase.objects.count() < args.reports:
        for entry in Entry.objects.filter(pk__in=rng.sample(ids, args.reports)):
            case = ReportCase.objects.create(
                target_type="entry", target_id=entry.pk, entry=entry, target_label=str(entry)
            )
            Report.objects.create(case=case, reporter=reporter, category="spam", reason="Spam.")
            ReportCase.objects.filter(pk=case.pk).update(report_count=1)
    device = StaticDevice.objects.get_or_create(user=root, name="bench")[0]
    client = Client()
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    sample = Entry.objects.get(pk=rng.choice(ids))
    word = sample.nickname.split()[0]
    pages = {
        "dashboard `/admin/`": "/admin/",
        "report queue (open)": "/admin/moderation/reportcase/?status__exact=open",
        "entry list": "/admin/directory/entry/",
        "entry list, suspended": "/admin/directory/entry/?status__exact=suspended",
        f"entry list, search `{word}`": f"/admin/directory/entry/?q={word}",
        "entry change page": f"/admin/directory/entry/{sample.pk}/change/",
        "handle list": "/admin/directory/handle/",
    }
    rows = []
    for name, url in pages.items():

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        rows.append((name, *_measure(get, args.repeat)))
    checked = [Entry.objects.get(pk=pk) for pk in rng.sample(ids, max(args.repeat, 20))]
    check_times = []
    for entry in checked:
        started = time.perf_counter()
        find_resemblances(entry)
        check_times.append((time.perf_counter() - started) * 1000)

    print(f"Command: `python benchmarks/{Path(__file__).name} {' '.join(argv)}`".rstrip())
    print(f"\n{load.entries} entries, {ReportCase.objects.count()} report cases.\n")
    print("| page | median ms | worst ms | SQL queries |")
    print("|---|---:|---:|---:|")
    for name, median, worst, queries in rows:
        print(f"| {name} | {median:.0f} | {worst:.0f} | {queries} |")
    print(
        f"\nImpersonation index (`manage.py moderation_protect_names`): {verified} verified "
        f"entries, {protected_keys} keys, built in {protect_seconds:.1f} s."
    )
    print(
        f"\nImpersonation check of one entry against the verified ones: median "
        f"{statistics.median(check_times):.0f} ms, worst {max(check_times):.0f} ms "
        f"({len(check_times)} entries)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Verification throughput: handles proved per second by a Celery worker with 2 processes.

    python benchmarks/verification_bench.py --handles 400 --concurrency 2

1. Starts the loopback stand-ins the tests use (tests/verification/servers.py): an HTTPS
   server on 127.0.0.2 with a trustme certificate and a dnslib DNS server on 127.0.0.1.
2. Creates ``--handles`` entries, each with one website handle (``https://siteN.test/u/M``),
   in the database named by ``DATABASE_URL`` (migrated first), each page holding a rel="me"
   link back to its entry, and starts each proof. Each verification also queues the
   entry's search-index update, as in production; the worker runs those too.
3. Starts ``celery -A directory worker --pool prefork -c <concurrency>`` on a queue of its
   own (broker: ``CELERY_BROKER_URL``), queues one "check now" per handle and waits until
   every handle has a check recorded.
4. Prints verifications per second (handles / seconds from the first enqueue to the last
   recorded check) and the distribution of one check's duration; then deletes its entries.

Needs the test extras (trustme, dnslib): ``pip install -e '.[test,bench]'``. Exit status 0
when every handle was verified, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

HOSTS = 200


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="verification_bench.py", description="Handles verified per second by a worker."
    )
    parser.add_argument("--handles", type=int, default=400, help="website handles to prove")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (-c)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait at most")
    args = parser.parse_args(argv)
    if args.handles < 1 or args.concurrency < 1:
        parser.error("--handles and --concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import trustme

    from tests.verification.servers import DnsServer, Reply, WebServer

    ca = trustme.CA()
    workdir = Path(tempfile.mkdtemp(prefix="verification-bench-"))
    bundle = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    web = WebServer(ca).start()
    dns = DnsServer().start()
    queue = f"verification-bench-{uuid.uuid4().hex[:8]}"
    env = {
        "SITE_URL": "https://worldbook.example",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or uuid.uuid4().hex * 2,
        "VERIFICATION_ALLOWED_ADDRESSES": "127.0.0.2",
        "VERIFICATION_DNS_NAMESERVERS": "127.0.0.1",
        "VERIFICATION_DNS_PORT": str(dns.port),
        "VERIFICATION_HTTPS_PORT": str(web.port),
        "VERIFICATION_CA_BUNDLE": str(bundle),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from directory.celery import app
    from directory.models import Handle
    from directory.services import entry_create, entry_delete, handle_add
    from directory.verification.models import VerificationCheck
    from directory.verification.services import verification_start
    from directory.verification.tasks import check_handle

    call_command("migrate", verbosity=0)
    suffix = uuid.uuid4().hex[:6]
    entries = []
    handles: list[Handle] = []
    # The set-up's own search-index updates run here, so the worker's queue holds only the
    # checks being measured.
    app.conf.task_always_eager = True
    for n in range(args.handles):
        entry = entry_create(nickname=f"Benchmark {n}", handle=f"b{suffix}n{n}")
        entries.append(entry)
        host = f"site{n % HOSTS}.test"
        page = f'<html><body><a rel="me" href="{entry.profile_url}">me</a></body></html>'
        web.serve(host, f"/u/{n}", Reply(200, page))
        handle = handle_add(entry=entry, kind="web", raw=f"https://{host}/u/{n}")
        verification_start(handle=handle)
        handles.append(handle)
    app.conf.task_always_eager = False

    log_path = workdir / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "directory", "worker", "--pool", "prefork",
        "-c", str(args.concurrency), "--loglevel", "INFO", "--hostname", f"{queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, "LOG_LEVEL": "INFO"},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    ok = False
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.1)
        ids = [h.pk for h in handles]
        started = time.monotonic()
        for handle_id in ids:
            check_handle.delay(handle_id, trigger="moderator", fresh=True)
        enqueued = time.monotonic() - started
        checks = VerificationCheck.objects.filter(handle_id__in=ids)
        while checks.count() < len(ids):
            if time.monotonic() - started > args.timeout:
                print(f"timed out with {checks.count()} of {len(ids)} checks", file=sys.stderr)
                return 1
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        verified = Handle.objects.filter(pk__in=ids, status=Handle.Status.VERIFIED).count()
        durations = sorted(checks.values_list("duration_ms", flat=True))
        ok = verified == len(ids)
        q = statistics.quantiles(durations, n=100) if len(durations) > 1 else durations * 99
        print("## Verification throughput\n")
        print(f"- command: `python benchmarks/verification_bench.py --handles {args.handles} "
              f"--concurrency {args.concurrency}`")  # fmt: skip
        print(f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")  # fmt: skip
        print(f"- worker: prefork, -c {args.concurrency}; broker {_scheme(os.environ)}")
        print(f"- handles: {len(ids)} (verified {verified}); enqueue took {enqueued:.2f} s")
        print(f"- **{len(ids) / elapsed:.1f} verifications/s** ({elapsed:.2f} s in all)")
        print(f"- one check (fetch, parse, record): p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, "
              f"max {durations[-1]} ms")  # fmt: skip
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        app.conf.task_always_eager = True
        for entry in entries:
            entry_delete(entry=entry)
        web.stop()
        dns.stop()
    return 0 if ok else 1


def _scheme(environ) -> str:
    url = environ.get("CELERY_BROKER_URL", "")
    return url.split(":", 1)[0] if url else "filesystem"


if __name__ == "__main__":
    sys.exit(main())

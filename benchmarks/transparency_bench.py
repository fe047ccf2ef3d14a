"""Transparency log benchmark: appends per second, proof size and time, resolve with proofs.

    python benchmarks/transparency_bench.py --entries 1000000 --resolves 2000

1. Empties the log of a dedicated PostgreSQL database (created and migrated if needed),
   queues ``--entries`` leaves of a binding record's size and integrates them with
   :func:`transparency.services.log_integrate`, ``--batch`` at a time, as the Celery task
   does; reports appends (integrated leaves) per second.
2. Times ``--proofs`` proofs of random leaves: the inclusion proof from the stored hashes
   and the c2sp.org/tlog-proof@v1 text under a recent checkpoint
   (:func:`transparency.selectors.proof_checkpoint`), as a resolve with ``?proof=1``
   builds it; reports p50/p99 in milliseconds, the proof's size in bytes,
   and the time to verify one (signature and inclusion, client side).
3. Makes ``--handles`` entries through the services (each a binding record) and times
   ``--resolves`` resolves of them through Django (the API view, in process) with and
   without ``?proof=1``; reports p50/p99 of each and the p99's increase.

Targets (issue 16): at least 1,000 appends/s, a proof in at most 2 ms, resolve p99 up by at
most 10 % with proofs. Exit status 0 when the run completed, 1 when a proof did not verify.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/worldbook_transparency_bench"
ORIGIN = "bench.worldbook.example/log"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="transparency_bench.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size to build")
    parser.add_argument("--batch", type=int, default=10_000, help="leaves per integration")
    parser.add_argument("--proofs", type=int, default=2_000, help="proofs to time")
    parser.add_argument("--handles", type=int, default=50, help="entries to resolve")
    parser.add_argument("--resolves", type=int, default=2_000, help="resolves to time, each way")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    return parser.parse_args(argv)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5) * 1000:.2f} ms, p99 {percentile(values, 0.99) * 1000:.2f} ms"
    )


def build_log(args, rng: random.Random) -> float:
    """Empty the log, queue and integrate ``--entries`` leaves; return appends per second."""
    from transparency import services
    from transparency.models import (
        LogCheckpoint,
        LogCosignature,
        LogHandleHead,
        LogHash,
        LogLeaf,
        LogTree,
    )

    for model in (LogCosignature, LogCheckpoint, LogHash, LogLeaf, LogHandleHead, LogTree):
        model.objects.all()._raw_delete(model.objects.db)
    record = b'{"answers":true,"endpoints":["' + b"A" * 44 + b'"],"handle":"%d","seq":0}'
    integrated, elapsed = 0, 0.0
    last_report = time.perf_counter()
    while integrated < args.entries:
        count = min(args.batch, args.entries - integrated)
        LogLeaf.objects.bulk_create(
            [LogLeaf(data=record % (integrated + n)) for n in range(count)], batch_size=5000
        )
        started = time.perf_counter()
        services.log_integrate(batch_size=count)
        elapsed += time.perf_counter() - started
        integrated += count
        if time.perf_counter() - last_report > 10:
            print(f"  {integrated} leaves, {integrated / elapsed:.0f}/s", flush=True)
            last_report = time.perf_counter()
    return integrated / elapsed


def time_proofs(args, rng: random.Random) -> tuple[list[float], list[int], list[float]]:
    from transparency import selectors
    from transparency.keys import log_signer
    from transparency.models import LogLeaf
    from transparency.verifier import tlog
    from transparency.verifier.checkpoint import open_checkpoint
    from transparency.verifier.proof import TlogProof, format_proof

    verifier = log_signer().verifier
    times, sizes, verify_times = [], [], []
    for _ in range(args.proofs):
        index = rng.randrange(args.entries)
        started = time.perf_counter()
        size, note = selectors.proof_checkpoint(index)
        path = selectors.inclusion_proof(index, size)
        text = format_proof(index, path, note)
        times.append(time.perf_counter() - started)
        sizes.append(len(text.encode()))
        data = bytes(LogLeaf.objects.get(index=index).data)
        started = time.perf_counter()
        proof = TlogProof.parse(text)
        opened, _ = open_checkpoint(proof.checkpoint, verifier)
        tlog.verify_inclusion(
            proof.index, opened.size, tlog.leaf_hash(data), proof.path, opened.root_hash
        )
        verify_times.append(time.perf_counter() - started)
    return times, sizes, verify_times


def time_resolves(args, rng: random.Random) -> tuple[list[float], list[float]]:
    from django.test import Client

    from directory import services
    from directory.models import Entry
    from transparency import services as log_services

    Entry.objects.filter(handle_canonical__startswith="logbench").delete()
    handles = []
    for n in range(args.handles):
        entry = services.entry_create(nickname=f"Log bench {n}", handle=f"logbench{n}")
        services.endpoint_add(entry=entry, uri=f"sip:logbench{n}@sip.example.org")
        handles.append(entry.handle_canonical)
    while log_services.log_integrate() is not None:
        pass
    client = Client(HTTP_HOST="127.0.0.1")
    plain, proved = [], []
    for _ in range(args.resolves):
        handle = rng.choice(handles)
        for suffix, sink in (("", plain), ("&proof=1", proved)):
            started = time.perf_counter()
            response = client.get(f"/api/v1/resolve?handle=@{handle}{suffix}")
            sink.append(time.perf_counter() - started)
            if response.status_code != 200 or (suffix and not response.json()["proof"]):
                raise SystemExit(f"resolve of @{handle}{suffix} answered {response.status_code}")
    return plain, proved


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    # Every API throttle out of the way (as the resolve benchmark does): the figures are
    # about the log, and 2 × --resolves lookups from one address pass the anonymous rate.
    from benchmarks.resolve_load import THROTTLE_SCOPES, UNTHROTTLED

    for scope in THROTTLE_SCOPES:
        os.environ.setdefault(f"THROTTLE_{scope.upper()}", UNTHROTTLED)
    from transparency.verifier.note import generate_key

    os.environ["TRANSPARENCY_SIGNING_KEY"], _ = generate_key(ORIGIN)
    from benchmarks.resolve_load import ensure_database

    ensure_database(args.database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)

    print(f"Building a log of {args.entries} entries ({args.batch} per integration)…")
    rate = build_log(args, rng)
    print(f"appends: {rate:.0f} leaves/s integrated")
    times, sizes, verify_times = time_proofs(args, rng)
    print(
        f"proofs ({args.proofs}, log of {args.entries}): {_ms(times)}; "
        f"size mean {statistics.mean(sizes):.0f} B, max {max(sizes)} B; "
        f"verify {_ms(verify_times)}"
    )
    plain, proved = time_resolves(args, rng)
    p99_plain, p99_proved = percentile(plain, 0.99), percentile(proved, 0.99)
    print(f"resolve without proof ({args.resolves}): {_ms(plain)}")
    print(f"resolve with proof=1  ({args.resolves}): {_ms(proved)}")
    print(f"resolve p99 with proofs: {(p99_proved / p99_plain - 1) * 100:+.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())

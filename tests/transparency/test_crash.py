"""A crash in the middle of an integration: a real Celery worker, killed with SIGKILL while
its batch's transaction is open, then a new worker. The log must show no gap and no
duplicate, and stay consistent with every checkpoint published before."""

from __future__ import annotations

import base64
import os
import signal
import time

import pytest
from django.db import OperationalError, connection, transaction

from tests.brokers import settings_broker
from tests.e2e.test_worker import run_celery_worker
from transparency import selectors, services
from transparency.models import LogCheckpoint, LogHash, LogLeaf, LogTree
from transparency.verifier import note, tlog
from transparency.verifier.checkpoint import open_checkpoint
from transparency.verifier.note import Verifier

# The settings' broker (Redis in CI): the crash is the worker's, whatever carries its task.
BROKER = settings_broker()
USES_REDIS = BROKER.kind == "redis"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    *([pytest.mark.redis] if USES_REDIS else []),
]

ORIGIN = "worldbook.example/log"
BEFORE = 200  # leaves integrated before the crash, in two published checkpoints
BATCH = 5000  # the batch the worker is killed in: big enough to take a moment
TIMEOUT = 120.0


def _tree_locked() -> bool:
    """True while another transaction holds the tree's row lock (an integration is open)."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT size FROM transparency_logtree WHERE id = 1 FOR UPDATE NOWAIT"
                )
        return False
    except OperationalError:
        return True


def _wait(check, what: str, worker_log=None) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            log = worker_log.read_text(errors="replace")[-4000:] if worker_log else ""
            pytest.fail(f"{what}: not seen after {TIMEOUT:.0f} s\n{log}")
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_no_gap_and_no_duplicate(settings, tmp_path):
    from transparency.tasks import integrate

    skey, vkey = note.generate_key(ORIGIN)
    settings.TRANSPARENCY_SIGNING_KEY = skey
    log_key = Verifier.from_key(vkey)
    data = [f"entry {n}".encode() for n in range(BEFORE + BATCH)]
    LogLeaf.objects.bulk_create([LogLeaf(data=d) for d in data[:BEFORE]])
    services.log_integrate(batch_size=BEFORE // 2)
    services.log_integrate(batch_size=BEFORE // 2)
    published = list(LogCheckpoint.objects.order_by("size"))
    assert [c.size for c in published] == [BEFORE // 2, BEFORE]
    LogLeaf.objects.bulk_create([LogLeaf(data=d) for d in data[BEFORE:]], batch_size=5000)

    env = {"TRANSPARENCY_SIGNING_KEY": skey, "TRANSPARENCY_BATCH_SIZE": str(BATCH)}
    first = run_celery_worker(tmp_path / "first", BROKER, extra_env=env)
    (tmp_path / "first").mkdir()
    worker = next(first)
    try:
        integrate.delay()
        _wait(_tree_locked, "the worker integrating a batch", worker.log_path)
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=30)
    finally:
        first.close()
    # PostgreSQL rolls the dead worker's transaction back and frees the lock.
    _wait(lambda: not _tree_locked(), "the killed worker's lock released")
    tree = LogTree.objects.get()
    assert tree.size == BEFORE  # the batch left nothing behind
    assert not LogLeaf.objects.filter(index__gte=BEFORE).exists()
    assert LogHash.objects.count() == tlog.stored_hash_count(BEFORE)
    assert LogCheckpoint.objects.count() == len(published)

    (tmp_path / "second").mkdir()
    second = run_celery_worker(tmp_path / "second", BROKER, extra_env=env)
    worker = next(second)
    try:
        integrate.delay()
        _wait(
            lambda: LogTree.objects.get().size == BEFORE + BATCH,
            "the new worker integrating the batch",
            worker.log_path,
        )
    finally:
        second.close()

    size = BEFORE + BATCH
    indexes = list(LogLeaf.objects.order_by("index").values_list("index", "data"))
    assert [i for i, _ in indexes] == list(range(size))  # no gap, no duplicate
    assert [bytes(d) for _, d in indexes] == data  # each entry where it was appended
    assert LogHash.objects.count() == tlog.stored_hash_count(size)
    latest, _ = open_checkpoint(selectors.latest_checkpoint_note(), log_key)
    leaves = [tlog.leaf_hash(d) for d in data]
    assert (latest.size, latest.root_hash) == (size, tlog.tree_hash_of_leaves(leaves))
    for old in published:
        checkpoint, _ = open_checkpoint(old.note, log_key)
        proof = selectors.consistency_proof(checkpoint.size, size)
        tlog.verify_consistency(
            checkpoint.size, size, checkpoint.root_hash, latest.root_hash, proof
        )
        assert base64.b64encode(checkpoint.root_hash) == base64.b64encode(
            tlog.tree_hash_of_leaves(leaves[: checkpoint.size])
        )

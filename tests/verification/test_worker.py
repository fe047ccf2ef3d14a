"""Verification through a real Celery worker (with its embedded beat): a transient failure
retried and then verified, and a proof that disappears revoked after two scheduled checks.

The worker reads the test database and the test's broker, and reaches the loopback HTTPS
and DNS servers this process runs through the same settings, given as its environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from directory.models import Handle
from directory.services import entry_create, handle_add
from directory.verification.models import VerificationCheck
from directory.verification.services import (
    verification_request_check,
    verification_run_check,
    verification_start,
)
from tests.e2e.test_worker import (
    ROOT,
    Worker,
    celery_environment,
    eventually,
    new_queue,
    run_celery_worker,
    sending_to,
    stop_process,
)
from tests.verification.conftest import verification_environment
from tests.verification.servers import Reply

pytestmark = [pytest.mark.worker, pytest.mark.postgres]
PROFILE = "https://worldbook.example/@wilhelmina"


@pytest.fixture
def verification_worker(
    transactional_db, tmp_path_factory, web_server, dns_server, test_ca, celery_broker
) -> Iterator[Worker]:
    """``celery -A directory worker -B`` (beat every second) on the test database, pointed
    at the loopback servers. One per test, set up after the database and so stopped before
    the test database is flushed: its beat queries every second, and a flush (TRUNCATE)
    beside a running worker can deadlock."""
    yield from run_celery_worker(
        tmp_path_factory.mktemp("verification-worker"),
        celery_broker,
        extra_env={
            **verification_environment(web_server, dns_server, test_ca[1]),
            "VERIFICATION_RETRY_BACKOFF_MS": "300",
            "VERIFICATION_MAX_RETRIES": "3",
            "VERIFICATION_RECHECK_SECONDS": "0",
            "VERIFICATION_BEAT_SECONDS": "1",
        },
        extra_args=("-B",),
    )


def until(check: Callable[[], Any], what: str, worker: Worker) -> Any:
    return eventually(check, what, worker.log_path)


def _status(handle: Handle) -> str:
    handle.refresh_from_db()
    return handle.status


def _site(web, host: str) -> tuple[Handle, list[Reply]]:
    """A website claimed by a new entry, whose page answers from a list the test edits."""
    entry = entry_create(nickname="Wilhelmina", handle="wilhelmina")
    answers: list[Reply] = []
    web.serve(host, "/", lambda: answers.pop(0) if len(answers) > 1 else answers[0])
    handle = handle_add(entry=entry, kind="web", raw=f"https://{host}/")
    verification_start(handle=handle)
    return handle, answers


@pytest.mark.django_db(transaction=True)
def test_a_transient_failure_is_retried_by_the_worker_then_verified(verification_worker, web):
    handle, answers = _site(web, "site101.test")
    answers += [Reply(503, "try later"), Reply(200, f'<a rel="me" href="{PROFILE}">me</a>')]
    verification_request_check(handle=handle)
    until(lambda: _status(handle) == "verified", "the handle verified", verification_worker)
    first, second = handle.verification_checks.order_by("created_at", "id")[:2]
    assert (first.result, first.status_after, first.attempt) == ("unreachable", "unreachable", 0)
    assert "answered 503" in first.reason
    assert (second.result, second.trigger, second.attempt) == ("verified", "retry", 1)
    assert "Retry in" in verification_worker.log()


@pytest.mark.django_db(transaction=True)
def test_a_disappeared_proof_is_revoked_after_two_scheduled_checks(verification_worker, web):
    handle, answers = _site(web, "site102.test")
    answers.append(Reply(200, f'<a rel="me" href="{PROFILE}/">me</a>'))
    verification_request_check(handle=handle)
    until(lambda: _status(handle) == "verified", "the handle verified", verification_worker)
    # Beat re-checks it while the proof stands.
    until(
        lambda: handle.verification_checks.filter(trigger="schedule", result="verified").exists(),
        "a scheduled re-check", verification_worker,
    )  # fmt: skip
    answers[:] = [Reply(200, "<p>nothing here any more</p>")]
    until(lambda: _status(handle) == "revoked", "the handle revoked", verification_worker)
    misses = [
        (c.trigger, c.result, c.status_after)
        for c in handle.verification_checks.order_by("created_at", "id")
        if c.result != VerificationCheck.Result.VERIFIED
    ]
    assert misses[:2] == [
        ("schedule", "missing", "verified"),
        ("schedule", "missing", "revoked"),
    ]


def _start_beat(var_dir: Path, schedule: Path, broker, queue: str, env: dict[str, str]):
    log_path = schedule.with_suffix(".log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "directory", "beat", "--loglevel", "INFO",
             "--schedule", str(schedule)],
            cwd=ROOT, env=celery_environment(var_dir, broker, queue, env), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return process, log_path


@pytest.mark.django_db(transaction=True)
def test_two_beats_started_by_mistake_check_a_due_handle_once(
    web, web_server, dns_server, test_ca, celery_broker, tmp_path_factory
):
    """Two beat processes each send the re-check run while no worker reads the queue, so
    every run queues a check of the same due handle; the worker then records one check, and
    a proof missing once is not "missing twice in a row"."""
    var_dir = tmp_path_factory.mktemp("two-beats")
    queue = new_queue()
    env = {
        **verification_environment(web_server, dns_server, test_ca[1]),
        "VERIFICATION_BEAT_SECONDS": "1",
        "VERIFICATION_RECHECK_SECONDS": "3600",
    }
    with sending_to(celery_broker, queue, var_dir):
        handle, answers = _site(web, "site103.test")
        answers.append(Reply(200, f'<a rel="me" href="{PROFILE}">me</a>'))
        proved = verification_run_check(handle_id=handle.pk, trigger="owner", fresh=True)
        assert proved is not None and proved.result == "verified"
        Handle.objects.filter(pk=handle.pk).update(checked_at=timezone.now() - timedelta(hours=2))
        answers[:] = [Reply(200, "<p>nothing here any more</p>")]

    beats = [_start_beat(var_dir, var_dir / f"beat-{n}", celery_broker, queue, env) for n in (1, 2)]
    try:
        for _process, log_path in beats:
            eventually(
                lambda log_path=log_path: (
                    log_path.read_text().count("Sending due task verification-recheck-due") >= 2
                ),
                "the beat sending the re-check run twice",
                log_path,
            )
    finally:
        for process, _ in beats:
            stop_process(process)

    sent = sum(
        log_path.read_text().count("Sending due task verification-recheck-due")
        for _process, log_path in beats
    )
    runs = run_celery_worker(var_dir, celery_broker, extra_env=env, queue=queue)
    worker = next(runs)
    done = re.compile(r"Task verification\.recheck_due\[[^\]]+\] succeeded in \S+ (\d+)")
    try:

        def finished() -> bool:
            log = worker.log()
            queued = done.findall(log)
            checks = re.findall(r"Task verification\.check_handle\[[^\]]+\] succeeded", log)
            return len(queued) == sent and len(checks) == sum(map(int, queued))

        until(finished, "every run the beats sent, and every check it queued, done", worker)
        # Every run found the handle due (no check had run yet): one check each was queued.
        assert done.findall(worker.log()) == ["1"] * sent
        scheduled = handle.verification_checks.filter(trigger="schedule")
        assert [(c.result, c.status_after) for c in scheduled] == [("missing", "verified")]
        assert _status(handle) == "verified"
    finally:
        runs.close()

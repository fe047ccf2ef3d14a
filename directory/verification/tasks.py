"""Celery tasks of the verification pipeline: thin, idempotent, taking ids.

``verification.check_handle`` runs one check; when the platform did not answer it retries
with exponential backoff and full jitter (``VERIFICATION_RETRY_BACKOFF_MS`` × 2^n, at
most ``VERIFICATION_MAX_RETRIES`` times). ``verification.recheck_due`` is run by beat
(``CELERY_BEAT_SCHEDULE``) and queues a check of every handle whose proof is due.
"""

from __future__ import annotations

import math
import random

from celery import shared_task
from django.conf import settings

from directory.verification.models import VerificationCheck


def backoff_seconds(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: full jitter over
    ``VERIFICATION_RETRY_BACKOFF_MS × 2^retries`` (capped at one hour), in whole seconds and
    at least one. Whole seconds because RabbitMQ's quorum queues delay a message through
    Celery's native delayed delivery, which counts in whole seconds and refuses a countdown
    below one."""
    ceiling = min(settings.VERIFICATION_RETRY_BACKOFF_MS / 1000 * 2**retries, 3600.0)
    return max(1, math.ceil(random.uniform(ceiling / 2, ceiling)))


@shared_task(name="verification.check_handle", bind=True, max_retries=None)
def check_handle(
    self, handle_id: int, trigger: str = "owner", fresh: bool = False, run: str = ""
) -> str | None:
    """Check the proof of handle ``handle_id``; retry while the platform does not answer.

    ``run`` names the request this check answers (an owner's "check now", one scheduled
    re-check of one handle): each attempt of a run is recorded once, so a message
    delivered twice, or sent twice by two beats, changes nothing twice. Output: the
    check's result (a :class:`VerificationCheck.Result` value), or ``None`` when the
    handle is gone or this attempt of the run was already recorded.
    """
    from directory.verification.services import verification_run_check

    retries = self.request.retries or 0
    final = retries >= settings.VERIFICATION_MAX_RETRIES
    check = verification_run_check(
        handle_id=handle_id,
        trigger=trigger if retries == 0 else VerificationCheck.Trigger.RETRY,
        fresh=fresh,
        attempt=retries,
        final=final,
        run_key=f"{run}:{retries}" if run else "",
    )
    if check is not None and check.result == VerificationCheck.Result.UNREACHABLE and not final:
        kwargs = {"handle_id": handle_id, "trigger": trigger, "fresh": fresh, "run": run}
        if self.request.is_eager:
            # An eager run (no worker: CELERY_TASK_ALWAYS_EAGER, most tests) cannot queue a
            # retry for later; it retries in place, without the wait.
            return check_handle.apply(kwargs=kwargs, retries=retries + 1, throw=True).result
        raise self.retry(countdown=backoff_seconds(retries), kwargs=kwargs)
    return check.result if check is not None else None


@shared_task(name="verification.recheck_due")
def recheck_due() -> int:
    """Mark old proofs stale, then queue a scheduled check of every handle due for one;
    output: how many checks were queued.

    Safe when two beats run it: a scheduled check's run is named by the handle and the
    time it was last checked, so the second beat's copy of a check finds the first one's
    recorded and changes nothing; marking stale takes each handle's row lock.
    """
    from directory.models import Handle
    from directory.verification.services import handles_due_for_recheck, verification_mark_stale

    verification_mark_stale()
    count = 0
    due = Handle.objects.filter(pk__in=handles_due_for_recheck()).values_list("pk", "checked_at")
    for handle_id, checked_at in due.iterator():
        seen = checked_at.isoformat() if checked_at else "never"
        check_handle.delay(
            handle_id,
            trigger=VerificationCheck.Trigger.SCHEDULE,
            fresh=False,
            run=f"schedule:{seen}",
        )
        count += 1
    return count

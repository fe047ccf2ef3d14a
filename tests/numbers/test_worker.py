"""The scheduled transition through a real Celery worker: ``numbers.advance``, the task
beat sends, purges a number whose window has ended, once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from directory.numbers import services
from directory.numbers.models import LinkedNumber, RetiredNumber
from tests.e2e import test_worker as e2e
from tests.numbers.conftest import NUMBER, link

# The end-to-end tests' worker fixture: a real ``celery -A directory worker`` process.
celery_worker = e2e.celery_worker
eventually = e2e.eventually

pytestmark = [pytest.mark.worker]


def test_beat_schedules_the_transition():
    entry = settings.CELERY_BEAT_SCHEDULE["numbers-advance"]
    assert entry["task"] == "numbers.advance"
    assert 10 <= entry["schedule"] <= 3600


@pytest.mark.django_db(transaction=True)
def test_the_worker_purges_a_number_whose_window_ended(celery_worker, alice, bob):
    from directory.celery import app

    # Retired 31 days ago with a 30-day window: due now. The worker runs on real time.
    with time_machine.travel(datetime.now(UTC) - timedelta(days=31), tick=False):
        linked = services.number_retire_start(linked=link(alice), days=30)
    still_forwarding = services.number_retire_start(linked=link(bob, "+14155550177"), days=30)

    # What beat sends on its schedule, by name.
    app.send_task(settings.CELERY_BEAT_SCHEDULE["numbers-advance"]["task"])

    def purged():
        linked.refresh_from_db()
        return linked.state == LinkedNumber.State.RETIRED

    eventually(purged, "the number retired by the worker", celery_worker.log_path)
    assert linked.e164 is None and linked.end_reason == "window_ended"
    # The worker logs the run just after its transaction committed: wait for the line too.
    eventually(
        lambda: re.search(
            r"Task numbers\.advance\[[^\]]+\] succeeded in [\d.]+s: 1", celery_worker.log()
        ),
        "the run logged as having purged one number",
        celery_worker.log_path,
    )
    assert NUMBER not in celery_worker.log()

    # Idempotent: a second run through the worker purges nothing more.
    app.send_task("numbers.advance")
    eventually(
        lambda: (
            len(re.findall(r"Task numbers\.advance\[[^\]]+\] succeeded", celery_worker.log())) == 2
        ),
        "the second run",
        celery_worker.log_path,
    )
    assert re.findall(
        r"Task numbers\.advance\[[^\]]+\] succeeded in [\d.]+s: (\d+)", celery_worker.log()
    ) == [
        "1",
        "0",
    ]
    assert RetiredNumber.objects.count() == 1
    still_forwarding.refresh_from_db()
    assert still_forwarding.state == LinkedNumber.State.RETIRING

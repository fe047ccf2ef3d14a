"""A check of a handle is safe to run twice: the same run delivered again (tasks are
acknowledged after they ran) or sent by two beats records one check, so a proof missing
once is never counted as "missing twice in a row"."""

from __future__ import annotations

import pytest

from directory.models import Handle
from directory.outbox import outbox_enqueue
from directory.verification.models import VerificationCheck
from directory.verification.services import verification_request_check
from directory.verification.tasks import check_handle, recheck_due

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def verified_domain(dns, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", token)
    assert check_now(handle).result == "verified"
    dns.reset()
    return handle


def test_a_scheduled_check_delivered_twice_counts_once(verified_domain):
    handle = verified_domain
    kwargs = {"trigger": "schedule", "fresh": False, "run": "schedule:2026-01-01T00:00:00"}
    assert check_handle.apply(args=[handle.pk], kwargs=kwargs).get() == "missing"
    assert check_handle.apply(args=[handle.pk], kwargs=kwargs).get() is None
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED
    assert handle.verification_checks.filter(trigger="schedule").count() == 1
    # A new run is a new check: missing again, now twice in a row.
    kwargs["run"] = "schedule:2026-01-02T00:00:00"
    assert check_handle.apply(args=[handle.pk], kwargs=kwargs).get() == "missing"
    handle.refresh_from_db()
    assert handle.status == Handle.Status.REVOKED


def test_two_beats_queue_the_same_run_for_a_due_handle(verified_domain, settings):
    """The run a beat names is the handle's last check time, so two beats' runs are one."""
    settings.VERIFICATION_RECHECK_SECONDS = 3600
    handle = verified_domain
    Handle.objects.filter(pk=handle.pk).update(checked_at=handle.checked_at.replace(year=2020))
    handle.refresh_from_db()
    run = f"schedule:{handle.checked_at.isoformat()}"
    # What the first beat's run queues, delivered while the second beat's is running.
    first = check_handle.apply(
        args=[handle.pk], kwargs={"trigger": "schedule", "fresh": False, "run": run}
    ).get()
    assert first == "missing"
    Handle.objects.filter(pk=handle.pk).update(checked_at=handle.checked_at)
    assert recheck_due.apply().get() == 1  # the second beat: the handle looks due still
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED
    assert handle.verification_checks.filter(trigger="schedule").count() == 1


def test_an_owner_s_check_request_names_its_run(
    verified_domain, django_capture_on_commit_callbacks
):
    handle = verified_domain
    with django_capture_on_commit_callbacks(execute=True):
        verification_request_check(handle=handle)
    check = handle.verification_checks.order_by("-created_at", "-id").first()
    assert check.trigger == "owner" and check.run_key.startswith("owner:")
    assert check.run_key.endswith(":0")
    # The same message delivered again (the outbox relay publishes at least once).
    run = check.run_key.rsplit(":", 1)[0]
    outbox_enqueue(
        "verification.check_handle",
        args=[handle.pk],
        kwargs={"trigger": "owner", "fresh": True, "run": run},
    )
    assert VerificationCheck.objects.filter(handle=handle, run_key=check.run_key).count() == 1
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED

"""Demo data: handles the demo directory shows as verified without a proof.

``verification_record_demo`` works only with ``DEMO_DATA`` on, records a check with the
method ``demo``, keeps the one-verified-owner rule, never overwrites a real proof, and
scheduled re-checks leave demo handles as they are (they have no proof to look for).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from directory.exceptions import ConflictError
from directory.models import Handle
from directory.services import entry_create, handle_add
from directory.verification.errors import DemoDataDisabled
from directory.verification.models import Method, VerificationCheck
from directory.verification.services import (
    handles_due_for_recheck,
    verification_mark_stale,
    verification_record_demo,
    verification_run_check,
    verification_start,
)
from directory.verification.tasks import recheck_due

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def demo_on(settings):
    settings.DEMO_DATA = True


@pytest.fixture
def zoe():
    return entry_create(nickname="Zoë van der Berg", handle="zoe")


def test_it_refuses_demo_verification_when_demo_data_is_off(settings, zoe):
    settings.DEMO_DATA = False
    handle = handle_add(entry=zoe, kind="domain", raw="zoe.example")

    with pytest.raises(DemoDataDisabled) as refused:
        verification_record_demo(handle=handle)

    assert refused.value.status == 403
    handle.refresh_from_db()
    assert handle.status == Handle.Status.UNVERIFIED and handle.verified_by == ""
    assert not VerificationCheck.objects.exists()


def test_it_records_demo_data_as_verified_with_a_check_saying_so(demo_on, zoe):
    handle = handle_add(entry=zoe, kind="domain", raw="zoe.example")

    check = verification_record_demo(handle=handle)

    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED
    assert handle.verified_by == Method.DEMO == "demo"
    assert handle.is_demo and handle.verified_at is not None
    assert check.method == Method.DEMO and check.result == VerificationCheck.Result.VERIFIED
    assert check.challenge is None and check.evidence == {"demo": True}
    assert check.reason == "Demo data, not a proof: nothing was checked."
    # Again: nothing changes.
    assert verification_record_demo(handle=handle) == check
    assert VerificationCheck.objects.count() == 1


def test_it_keeps_one_verified_owner_per_handle(demo_on, zoe):
    other = entry_create(nickname="Other Zoe", handle="otherzoe")
    verification_record_demo(handle=handle_add(entry=zoe, kind="domain", raw="zoe.example"))
    second = handle_add(entry=other, kind="domain", raw="zoe.example")

    with pytest.raises(ConflictError):
        verification_record_demo(handle=second)

    second.refresh_from_db()
    assert second.status != Handle.Status.VERIFIED


def test_it_never_turns_a_real_proof_into_demo_data(demo_on, dns, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", token)
    assert check_now(handle).result == "verified"
    assert handle.verified_by == Method.DOMAIN

    with pytest.raises(ConflictError):
        verification_record_demo(handle=handle)

    handle.refresh_from_db()
    assert handle.verified_by == Method.DOMAIN and not handle.is_demo


def test_scheduled_rechecks_leave_demo_handles_verified_as_demo(
    demo_on, settings, dns, django_capture_on_commit_callbacks
):
    settings.VERIFICATION_RECHECK_SECONDS = 0
    owner_entry = entry_create(nickname="Kwame Mensah", handle="kwame")
    handle = handle_add(entry=owner_entry, kind="domain", raw="kwame.example")
    verification_record_demo(handle=handle)
    handle.refresh_from_db()
    # A proof started later gives the handle a challenge (and a token nobody published):
    # a re-check would find it missing and, twice, revoke the handle.
    verification_start(handle=handle)
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED

    later = timezone.now() + timedelta(seconds=settings.VERIFICATION_STALE_SECONDS * 2)
    with time_machine.travel(later, tick=False):
        assert handle.pk not in set(handles_due_for_recheck())
        assert verification_mark_stale() == 0
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                recheck_due.delay().get()
        assert (
            verification_run_check(
                handle_id=handle.pk, trigger=VerificationCheck.Trigger.SCHEDULE, fresh=False
            )
            is None
        )

    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED and handle.is_demo
    assert list(handle.verification_checks.values_list("method", flat=True)) == ["demo"]

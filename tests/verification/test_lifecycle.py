"""The lifecycle: scheduled re-checks, stale proofs, revocation after two misses, and
contested claims when a second entry proves a handle another holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from accounts.models import AuditEvent
from directory.models import Handle
from directory.services import handle_add, handle_mark_verified
from directory.verification import resolver
from directory.verification.models import ContestedClaim, VerificationCheck
from directory.verification.services import handles_due_for_recheck, verification_start
from directory.verification.tasks import recheck_due

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def verified_domain(dns, alice, claim, check_now):
    handle, token = claim(alice, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", token)
    assert check_now(handle).result == "verified"
    return handle, token


@pytest.fixture
def scheduled(settings, django_capture_on_commit_callbacks):
    """Run the beat task once (checks run in-process); return the handle's newest check."""
    settings.VERIFICATION_RECHECK_SECONDS = 0

    def run(handle):
        assert recheck_due.delay().get() >= 1
        handle.refresh_from_db()
        return handle.verification_checks.order_by("-created_at", "-id").first()

    return run


def test_a_proof_gone_twice_in_a_row_revokes(dns, verified_domain, scheduled, check_now):
    handle, token = verified_domain
    first_verified_at = handle.verified_at
    dns.reset()
    first = scheduled(handle)
    assert first.result == "missing" and first.trigger == "schedule"
    assert handle.status == Handle.Status.VERIFIED
    assert first.reason.endswith("missing twice in a row revokes.")
    second = scheduled(handle)
    assert handle.status == Handle.Status.REVOKED
    assert second.status_after == "revoked"
    assert second.reason.endswith("The proof was missing at two checks in a row: revoked.")
    revoked = AuditEvent.objects.get(action="handle_revoked")
    assert revoked.user == handle.entry.owner
    assert revoked.data["handle"] == "alice.example"
    assert revoked.reason == "proof missing at two checks in a row"
    # Revoked handles are not re-checked on schedule; the owner's proof counts anew.
    assert list(handles_due_for_recheck()) == []
    dns.set("_worldbook.alice.example", "TXT", token)
    assert check_now(handle).result == "verified"
    assert handle.verified_at > first_verified_at


def test_a_proof_that_comes_back_between_misses_does_not_revoke(
    dns, verified_domain, scheduled
):
    handle, token = verified_domain
    dns.reset()
    scheduled(handle)
    dns.set("_worldbook.alice.example", "TXT", token)
    resolver.clear_cache()  # as if the cached answer's TTL had run out
    assert scheduled(handle).result == "verified"
    dns.reset()
    resolver.clear_cache()
    scheduled(handle)
    assert handle.status == Handle.Status.VERIFIED


def test_an_unreachable_platform_keeps_a_fresh_proof_and_makes_an_old_one_stale(
    dns, verified_domain, scheduled, settings
):
    handle, token = verified_domain
    dns.fail("_worldbook.alice.example")
    assert scheduled(handle).result == "unreachable"
    assert handle.status == Handle.Status.VERIFIED
    later = timedelta(seconds=settings.VERIFICATION_STALE_SECONDS + 60)
    with time_machine.travel(later):
        check = scheduled(handle)
        assert check.result == "unreachable"
        assert handle.status == Handle.Status.STALE
        # An unreachable platform never revokes, however often it fails.
        scheduled(handle)
        assert handle.status == Handle.Status.STALE
        dns.reset()
        dns.set("_worldbook.alice.example", "TXT", token)
        resolver.clear_cache()
        assert scheduled(handle).result == "verified"
        assert handle.status == Handle.Status.VERIFIED


def test_beat_marks_a_proof_stale_when_no_check_has_read_it_for_too_long(
    dns, verified_domain, settings, alice
):
    handle, _ = verified_domain
    moderator_verified = handle_add(entry=alice, kind="github", raw="alice-l")
    handle_mark_verified(handle=moderator_verified)
    settings.VERIFICATION_RECHECK_SECONDS = 10**9  # no re-check runs
    recheck_due.delay()
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED
    with time_machine.travel(timedelta(seconds=settings.VERIFICATION_STALE_SECONDS + 1)):
        recheck_due.delay()
    handle.refresh_from_db()
    moderator_verified.refresh_from_db()
    assert handle.status == Handle.Status.STALE
    # Verified by a moderator, with no proof to look for: left alone.
    assert moderator_verified.status == Handle.Status.VERIFIED


def test_scheduled_checks_use_the_dns_cache_and_check_now_does_not(
    dns, verified_domain, scheduled, check_now
):
    handle, token = verified_domain
    assert scheduled(handle).result == "verified"  # now cached, with the record's TTL
    dns.reset()
    assert scheduled(handle).result == "verified"
    assert check_now(handle).result == "missing"


def test_only_held_handles_with_a_proof_are_due(dns, verified_domain, alice, claim, settings):
    settings.VERIFICATION_RECHECK_SECONDS = 0
    pending, _ = claim(alice, "domain", "other.example")
    email, _ = claim(alice, "email", "alice@example.org")
    assert list(handles_due_for_recheck()) == [verified_domain[0].pk]
    settings.VERIFICATION_RECHECK_SECONDS = 3600
    assert list(handles_due_for_recheck()) == []


def test_a_second_entry_cannot_take_a_verified_handle(
    dns, verified_domain, bob, claim, check_now
):
    held, alice_token = verified_domain
    contender, bob_token = claim(bob, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", alice_token, bob_token)
    check = check_now(contender)
    held.refresh_from_db()
    assert held.status == Handle.Status.VERIFIED
    assert contender.status == Handle.Status.PENDING
    assert check.result == VerificationCheck.Result.CONTESTED
    assert "another entry (@alice) holds this handle verified" in check.reason
    claim_row = ContestedClaim.objects.get()
    assert (claim_row.handle, claim_row.held_by, claim_row.status) == (contender, held, "open")
    contested = AuditEvent.objects.get(action="claim_contested")
    assert (contested.user, contested.data["held_by_entry"]) == (bob.owner, "alice")
    check_now(contender)
    assert ContestedClaim.objects.count() == 1


def test_a_new_token_does_not_break_the_proof_that_holds(dns, verified_domain, scheduled):
    handle, _ = verified_domain
    verification_start(handle=handle)  # the owner asks for a new token and never publishes it
    assert scheduled(handle).result == "verified"
    assert scheduled(handle).result == "verified"
    assert handle.status == Handle.Status.VERIFIED


def test_an_http_site_is_claimed_as_its_https_address(web, alice, claim):
    handle, _token = claim(alice, "web", "http://alice.test/")
    assert handle.canonical == "https://alice.test/"

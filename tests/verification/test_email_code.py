"""Email addresses: a single-use code that expires, sent by mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from accounts.models import AuditEvent
from directory.models import Handle
from directory.verification.errors import CodeMalformed, CodeRejected, VerificationUnavailable
from directory.verification.models import VerificationChallenge
from directory.verification.services import (
    EMAIL_CODE_ATTEMPTS,
    tries_left,
    verification_confirm_code,
    verification_request_check,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def sent(alice, claim, django_capture_on_commit_callbacks):
    """Alice claims alice@example.org and is mailed a code: (handle, code)."""
    with django_capture_on_commit_callbacks(execute=True):
        handle, _ = claim(alice, "email", "Alice@Example.ORG")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Alice@example.org"]
    code = re.search(r"is (\d{8})\.", message.body).group(1)
    return handle, code


def test_it_verifies_with_the_code_sent(web, sent):
    handle, code = sent
    assert handle.status == Handle.Status.PENDING
    check = verification_confirm_code(handle=handle, code=f"{code[:4]} {code[4:]}")
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED
    assert check.result == "verified"
    event = AuditEvent.objects.get(action="handle_verified")
    assert (event.user.username, event.data["method"]) == ("alice", "email_code")


def test_the_code_is_not_stored_in_clear(web, sent):
    handle, code = sent
    challenge = VerificationChallenge.objects.get(handle=handle)
    assert code not in (challenge.code_hash, challenge.token)


def test_a_code_works_once(web, sent):
    handle, code = sent
    verification_confirm_code(handle=handle, code=code)
    with pytest.raises(CodeRejected, match="used already"):
        verification_confirm_code(handle=handle, code=code)


def test_a_code_expires(web, sent, settings):
    handle, code = sent
    later = timedelta(minutes=settings.VERIFICATION_EMAIL_CODE_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        with pytest.raises(CodeRejected, match="expired"):
            verification_confirm_code(handle=handle, code=code)
    handle.refresh_from_db()
    assert handle.status == Handle.Status.PENDING


def test_wrong_codes_are_counted_in_the_database(web, sent):
    handle, code = sent
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    for left in range(EMAIL_CODE_ATTEMPTS - 1, -1, -1):
        with pytest.raises(CodeRejected, match=tries_left(left)):
            verification_confirm_code(handle=handle, code=wrong)
    assert VerificationChallenge.objects.get(handle=handle).attempts == EMAIL_CODE_ATTEMPTS
    refused = handle.verification_checks.order_by("created_at", "id")
    assert [c.result for c in refused] == ["mismatch"] * EMAIL_CODE_ATTEMPTS
    left = EMAIL_CODE_ATTEMPTS - 1
    assert refused[0].reason == f"That is not the code we sent ({left} tries left)."
    assert [c.reason for c in refused][-2:] == [
        "That is not the code we sent (1 try left).",
        "That is not the code we sent (no tries left).",
    ]
    with pytest.raises(CodeRejected, match="Too many wrong codes"):
        verification_confirm_code(handle=handle, code=code)


def test_check_now_is_not_for_email(web, sent):
    with pytest.raises(VerificationUnavailable, match="proved by the code"):
        verification_request_check(handle=sent[0])


@pytest.mark.parametrize("typed", ["abc", "1" * 22, "1234567", "１２３４５６７８", ""])
def test_a_malformed_code_is_refused_without_using_up_a_try(web, sent, typed):
    handle, code = sent
    with pytest.raises(CodeMalformed, match="8 digits"):
        verification_confirm_code(handle=handle, code=typed)
    assert VerificationChallenge.objects.get(handle=handle).attempts == 0
    verification_confirm_code(handle=handle, code=code)
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED

"""A misconfigured SMS gateway: ``manage.py check`` names the variable, and a send that
cannot go out answers a 503 problem and counts against no limit."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from directory.numbers.checks import check_sms_backend
from directory.numbers.models import NumberSend, NumberVerification
from tests.api.conftest import assert_problem
from tests.numbers.conftest import NUMBER, client_for


def test_check_refuses_a_backend_that_cannot_be_imported(settings):
    settings.NUMBER_SMS_BACKEND = "nope.Backend"
    (error,) = check_sms_backend()
    assert error.id == "numbers.E001" and "NUMBER_SMS_BACKEND 'nope.Backend'" in error.msg
    with pytest.raises(SystemCheckError, match="NUMBER_SMS_BACKEND"):
        call_command("check")


def test_check_refuses_what_is_not_a_backend(settings):
    settings.NUMBER_SMS_BACKEND = "directory.numbers.sms.SmsMessage"
    (error,) = check_sms_backend()
    assert error.id == "numbers.E002"


def test_check_accepts_the_shipped_backends(settings):
    for name in ("console.ConsoleSmsBackend", "twilio.TwilioSmsBackend"):
        settings.NUMBER_SMS_BACKEND = f"directory.numbers.sms.{name}"
        assert check_sms_backend() == []


@pytest.mark.django_db
def test_a_send_through_a_missing_backend_is_a_503_that_counts_nothing(alice, alice_user, settings):
    settings.NUMBER_SMS_BACKEND = "nope.Backend"
    answer = client_for(alice_user).post(
        "/api/v1/entries/alice/numbers", {"number": NUMBER}, format="json"
    )
    assert_problem(answer, 503, "sms-unavailable")
    assert not NumberSend.objects.exists()
    assert not NumberVerification.objects.exists()

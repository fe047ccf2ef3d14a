"""Linking a number: one-time codes over the SMS gateway, expiry, single use, attempt
and toll-fraud limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent
from directory.exceptions import NormalizationError
from directory.numbers import services
from directory.numbers.errors import CodeInvalid, LimitReached, NumberStateError
from directory.numbers.models import LinkedNumber, NumberSend, NumberVerification
from directory.numbers.sms import locmem
from tests.numbers.conftest import NUMBER, last_code, link

pytestmark = pytest.mark.django_db


def test_it_links_a_number_with_the_code_it_texted(alice):
    services.number_send_code(entry=alice, raw="(415) 555-0123", region="US")
    assert [m.to for m in locmem.outbox] == [NUMBER]
    code = last_code()

    linked = services.number_verify(entry=alice, raw="+1 415 555 0123", code=code)

    assert linked.state == LinkedNumber.State.ACTIVE
    assert (linked.entry, linked.e164, linked.calling_code, linked.last_digits) == (
        alice, NUMBER, 1, "23",
    )  # fmt: skip
    assert not NumberVerification.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["number_code_sent", "number_linked"]


def test_a_code_works_once(alice):
    services.number_send_code(entry=alice, raw=NUMBER)
    code = last_code()
    services.number_verify(entry=alice, raw=NUMBER, code=code)
    services.number_retire_start(linked=LinkedNumber.objects.get(), days=5)

    with pytest.raises(CodeInvalid):
        services.number_verify(entry=alice, raw=NUMBER, code=code)
    assert LinkedNumber.objects.get().state == LinkedNumber.State.RETIRING


def test_a_code_expires(alice, settings):
    settings.NUMBER_CODE_TTL = 600
    with time_machine.travel(timezone.now(), tick=False) as clock:
        services.number_send_code(entry=alice, raw=NUMBER)
        clock.shift(timedelta(seconds=601))
        with pytest.raises(CodeInvalid):
            services.number_verify(entry=alice, raw=NUMBER, code=last_code())
    assert not LinkedNumber.objects.exists()


def test_wrong_codes_are_counted_and_limited(alice, settings):
    settings.NUMBER_CODE_MAX_ATTEMPTS = 3
    services.number_send_code(entry=alice, raw=NUMBER)
    right = last_code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(3):
        with pytest.raises(CodeInvalid):
            services.number_verify(entry=alice, raw=NUMBER, code=wrong)
    assert NumberVerification.objects.get().attempts == 3
    # Even the right code is refused once the guesses are spent.
    with pytest.raises(LimitReached):
        services.number_verify(entry=alice, raw=NUMBER, code=right)
    assert not LinkedNumber.objects.exists()


def test_a_new_code_replaces_the_last(alice):
    services.number_send_code(entry=alice, raw=NUMBER)
    first = last_code()
    services.number_send_code(entry=alice, raw=NUMBER)
    second = last_code()
    if first != second:
        with pytest.raises(CodeInvalid):
            services.number_verify(entry=alice, raw=NUMBER, code=first)
    assert services.number_verify(entry=alice, raw=NUMBER, code=second).e164 == NUMBER


def test_it_limits_sends_per_number_per_hour_and_day(alice, settings):
    settings.NUMBER_SENDS_PER_NUMBER_HOUR = 2
    settings.NUMBER_SENDS_PER_NUMBER_DAY = 3
    with time_machine.travel(timezone.now(), tick=False) as clock:
        services.number_send_code(entry=alice, raw=NUMBER)
        services.number_send_code(entry=alice, raw=NUMBER)
        with pytest.raises(LimitReached, match="this hour"):
            services.number_send_code(entry=alice, raw=NUMBER)
        clock.shift(timedelta(minutes=61))
        services.number_send_code(entry=alice, raw=NUMBER)
        clock.shift(timedelta(minutes=61))
        with pytest.raises(LimitReached, match="today"):
            services.number_send_code(entry=alice, raw=NUMBER)
    assert len(locmem.outbox) == 3
    # The counts are keyed by the number's digest, never the number.
    assert not NumberSend.objects.filter(number_digest__contains="4155550123").exists()


def test_it_limits_sends_per_country_calling_code(alice, settings):
    settings.NUMBER_SENDS_PER_COUNTRY_HOUR = 2
    services.number_send_code(entry=alice, raw="+14155550101")
    services.number_send_code(entry=alice, raw="+14155550102")
    with pytest.raises(LimitReached, match=r"\+1, this hour"):
        services.number_send_code(entry=alice, raw="+14155550103")
    # Another country is counted apart.
    services.number_send_code(entry=alice, raw="+390612345678")
    assert len(locmem.outbox) == 3


def test_it_refuses_what_is_not_a_number_it_can_text(alice):
    for raw in ("1-800-MYFAX", "hello", "0656851242", "tel:+14155550123;ext=12"):
        with pytest.raises(NormalizationError):
            services.number_send_code(entry=alice, raw=raw)
    assert not locmem.outbox and not NumberSend.objects.exists()


def test_it_refuses_a_number_the_entry_holds(alice):
    link(alice)
    with pytest.raises(NumberStateError):
        services.number_send_code(entry=alice, raw=NUMBER)


def test_a_gateway_failure_withdraws_the_code_and_the_send(alice, settings):
    settings.NUMBER_SMS_BACKEND = "directory.numbers.sms.twilio.TwilioSmsBackend"
    settings.NUMBER_SMS_TWILIO_ACCOUNT_SID = ""
    from directory.numbers.sms import SmsSendError

    with pytest.raises(SmsSendError):
        services.number_send_code(entry=alice, raw=NUMBER)
    assert not NumberVerification.objects.exists()
    assert not NumberSend.objects.exists()
    assert not AuditEvent.objects.filter(action="number_code_sent").exists()

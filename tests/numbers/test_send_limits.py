"""Per-account limits on texting proof codes: kept in the database and checked before
the country calling code's shared budget is spent; the send endpoint and the owner's page
are throttled too."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from directory.numbers import services
from directory.numbers.errors import LimitReached
from directory.numbers.models import NumberSend
from directory.numbers.sms import locmem
from tests.api.conftest import assert_problem
from tests.numbers.conftest import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/entries/alice/numbers"


def numbers(count: int, first: int = 10) -> list[str]:
    return [f"+1415555{1000 + i}" for i in range(first, first + count)]


@pytest.fixture
def open_throttles(monkeypatch):
    """The cache throttles out of the way, so that only the database limits answer."""
    for scope in ("number_send", "number_send_ip", "user"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "1000/min")


def test_one_account_may_text_only_so_many_numbers(alice, bob, settings):
    settings.NUMBER_SENDS_PER_ACCOUNT_HOUR = 3
    settings.NUMBER_SENDS_PER_ACCOUNT_DAY = 4
    settings.NUMBER_SENDS_PER_COUNTRY_HOUR = 5
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for number in numbers(3):
            services.number_send_code(entry=alice, raw=number)
        with pytest.raises(LimitReached, match="this account, this hour"):
            services.number_send_code(entry=alice, raw="+14155551099")
        # The refusal spent nothing of the country's budget: others can still be sent codes.
        assert NumberSend.objects.filter(calling_code=1).count() == 3
        services.number_send_code(entry=bob, raw="+14155552001")
        services.number_send_code(entry=bob, raw="+14155552002")
        clock.shift(timedelta(minutes=61))
        services.number_send_code(entry=alice, raw="+14155551098")
        clock.shift(timedelta(minutes=61))
        with pytest.raises(LimitReached, match="this account, today"):
            services.number_send_code(entry=alice, raw="+14155551097")
    assert len(locmem.outbox) == 6
    assert NumberSend.objects.filter(account=alice.owner).count() == 4


def test_the_api_stops_one_account_spraying_numbers(alice, alice_user, open_throttles, settings):
    api = client_for(alice_user)
    answers = [
        api.post(BASE, {"number": number}, format="json").status_code for number in numbers(25)
    ]
    limit = settings.NUMBER_SENDS_PER_ACCOUNT_HOUR
    assert answers == [202] * limit + [429] * (25 - limit)
    assert len(locmem.outbox) == limit
    assert_problem(api.post(BASE, {"number": "+14155559999"}, format="json"), 429, "limit-reached")


def test_the_send_endpoint_is_throttled_but_the_list_is_not(alice, alice_user, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "number_send", "2/min")
    api = client_for(alice_user)
    for number in numbers(2):
        assert api.post(BASE, {"number": number}, format="json").status_code == 202
    throttled = api.post(BASE, {"number": "+14155559999"}, format="json")
    assert throttled.status_code == 429
    assert "Retry-After" in throttled
    assert len(locmem.outbox) == 2
    assert api.get(BASE).status_code == 200


def test_the_owner_page_shares_the_send_throttle(alice, alice_user, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "number_send", "2/min")
    assert (
        client_for(alice_user).post(BASE, {"number": "+14155551001"}, format="json").status_code
        == 202
    )
    page = Client()
    page.force_login(alice_user)
    sent = page.post("/account/numbers/send", {"entry": "alice", "number": "+14155551002"})
    assert sent.status_code == 302
    refused = page.post("/account/numbers/send", {"entry": "alice", "number": "+14155551003"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert b"try again in" in refused.content
    assert len(locmem.outbox) == 2

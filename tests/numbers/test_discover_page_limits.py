"""The discovery page's limits: a file is counted against the daily limit all at once
(refused whole, nothing counted, when it holds more than is left), the page is throttled
like the API, and a bad region is a form error."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from directory.numbers.models import LookupQuota

pytestmark = pytest.mark.django_db


def vcard(count: int, first: int = 0) -> SimpleUploadedFile:
    cards = "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {n}\r\nTEL:+1415555{n:04d}\r\nEND:VCARD\r\n"
        for n in range(first, first + count)
    )
    return SimpleUploadedFile("contacts.vcf", cards.encode(), content_type="text/vcard")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def charged(user) -> int:
    return sum(
        LookupQuota.objects.filter(client=f"user-{user.pk}", kind="discover").values_list(
            "items", flat=True
        )
    )


def test_a_file_past_the_daily_limit_is_refused_whole(charlie_user, settings, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "discover", "1000/min")
    settings.NUMBER_DISCOVER_PER_DAY = 1000
    page = browser(charlie_user)
    refused = page.post("/discover", {"file": vcard(1050)})
    assert refused.status_code == 429
    message = refused.context["error"]
    assert "1000 numbers a day" in message and "1000 are left" in message
    assert "this request has 1050" in message
    assert charged(charlie_user) == 0
    shown = page.post("/discover", {"file": vcard(250)})
    assert (shown.status_code, shown.context["searched"]) == (200, 250)
    assert charged(charlie_user) == 250
    again = page.post("/discover", {"file": vcard(800, first=2000)})
    assert again.status_code == 429 and "750 are left" in again.context["error"]
    assert charged(charlie_user) == 250


def test_the_page_is_throttled(charlie_user, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "discover", "2/min")
    page = browser(charlie_user)
    for _ in range(2):
        assert page.post("/discover", {"file": vcard(3)}).status_code == 200
    throttled = page.post("/discover", {"file": vcard(3)})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 1
    assert "try again in" in throttled.context["error"]
    assert charged(charlie_user) == 6
    assert page.get("/discover").status_code == 200


def test_a_bad_region_is_a_form_error(charlie_user):
    refused = browser(charlie_user).post("/discover", {"file": vcard(3), "region": "ZZ"})
    assert refused.status_code == 400
    assert "'ZZ' is not a region code" in refused.context["error"]
    assert charged(charlie_user) == 0

"""The owner's page listing every log record of their handle."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from directory import services
from tests.api.conftest import EntryFactory, UserFactory, reach
from transparency.verifier import note

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def log(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"owner-log-{uuid.uuid4().hex}",
        }
    }
    settings.TRANSPARENCY_SIGNING_KEY, _ = note.generate_key("worldbook.example/log")


def rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr id="record-(\d+)">(.*?)</tr>', html, flags=re.S))


def test_the_owner_sees_each_record_and_which_endpoints_it_holds():
    owner = UserFactory(username="ivan")
    ivan = EntryFactory(handle="ivan", owner=owner)
    sip = reach(ivan, "sip:ivan@sip.example.org")
    services.endpoint_set_uri(endpoint=sip, uri="sip:ivan.new@sip.example.org")
    client = Client()
    client.force_login(owner)
    manage = client.get("/account/entries/ivan/")
    assert "/account/entries/ivan/log" in manage.content.decode()

    page = client.get("/account/entries/ivan/log")
    assert page.status_code == 200
    records = rows(page.content.decode())
    assert sorted(records) == ["0", "1", "2"]
    assert "sip:ivan.new@sip.example.org" in records["2"] and "do not have now" not in records["2"]
    # The record before the change commits to an endpoint the entry no longer has.
    assert "1 endpoint you do not have now" in records["1"]
    assert "(log entry" in records["2"]

    other = Client()
    other.force_login(UserFactory(username="judy"))
    assert other.get("/account/entries/ivan/log").status_code == 403
    assert Client().get("/account/entries/ivan/log").status_code == 302

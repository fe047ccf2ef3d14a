"""The owner API for proving handles: start, check now, email code, evidence; owner only,
rate-limited, errors as RFC 9457 problem documents."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from directory.models import Handle
from directory.services import handle_add
from tests.verification.servers import Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PROFILE = "https://worldbook.example/@alice"


@pytest.fixture
def api(alice_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice_user)
    return client


def url(handle: Handle, suffix: str = "") -> str:
    return f"/api/v1/entries/alice/handles/{handle.pk}/verification{suffix}"


def test_it_starts_checks_and_explains_a_website_proof(
    web, api, alice, django_capture_on_commit_callbacks
):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    started = api.post(url(site), {}, format="json")
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["status"] == "pending"
    assert body["method"] == "rel_me"
    assert body["instructions"].startswith(f'Put a link to {PROFILE} with rel="me"')

    web.serve("alice.test", "/", Reply(200, '<a rel="me" href="https://x.example/@al">x</a>'))
    with django_capture_on_commit_callbacks(execute=True):
        checked = api.post(url(site, "/check"), {}, format="json")
    assert checked.status_code == 202
    state = api.get(url(site)).json()
    assert state["status"] == "failed"
    assert state["summary"] == (
        "Not verified: found a link to https://x.example/@al, expected "
        "https://worldbook.example/@alice"
    )
    assert state["last_check"]["result"] == "mismatch"

    web.serve("alice.test", "/", Reply(200, f'<a rel="me" href="{PROFILE}/">me</a>'))
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(site, "/check"), {}, format="json")
    state = api.get(url(site)).json()
    assert state["status"] == "verified"
    assert state["summary"].startswith("Verified; proof last seen ")
    evidence = api.get(url(site, "/checks")).json()
    assert [c["result"] for c in evidence] == ["verified", "mismatch"]
    assert evidence[0]["evidence"]["fetched"][0]["address"] == "127.0.0.2"


def test_it_proves_an_email_address_with_its_code(
    web, api, alice, django_capture_on_commit_callbacks
):
    address = handle_add(entry=alice, kind="email", raw="alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(url(address), {}, format="json")
    assert started.json()["token"] == ""
    assert started.json()["instructions"] == "Enter the code we emailed to alice@example.org."
    code = re.search(r"is (\d{8})\.", mail.outbox[0].body).group(1)
    malformed = api.post(url(address, "/code"), {"code": "12"}, format="json")
    assert malformed.status_code == 400
    assert malformed["Content-Type"] == "application/problem+json"
    assert malformed.json()["type"].endswith("/verification-code-malformed")
    assert "not counted" in malformed.json()["detail"]
    wrong_code = "00000000" if code != "00000000" else "11111111"
    wrong = api.post(url(address, "/code"), {"code": wrong_code}, format="json")
    assert wrong.status_code == 400
    assert wrong["Content-Type"] == "application/problem+json"
    assert wrong.json()["type"].endswith("/verification-code-rejected")
    assert "(4 tries left)" in wrong.json()["detail"]
    right = api.post(url(address, "/code"), {"code": code}, format="json")
    assert right.status_code == 200
    assert right.json()["status"] == "verified"


def test_a_kind_without_a_method_gets_a_problem_document(web, api, alice):
    number = handle_add(entry=alice, kind="whatsapp", raw="+15555550123")
    response = api.post(url(number), {}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Worldbook cannot prove a WhatsApp number yet."


def test_check_now_before_start_is_a_clear_error(web, api, alice):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    response = api.post(url(site, "/check"), {}, format="json")
    assert response.status_code == 400
    assert "Start a verification first" in response.json()["detail"]


def test_only_the_owner_may_verify(web, alice, bob):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    stranger = APIClient()
    stranger.force_authenticate(bob.owner)
    assert stranger.post(url(site), {}, format="json").status_code == 403
    assert APIClient().get(url(site)).status_code == 401
    other = handle_add(entry=bob, kind="web", raw="https://bob.test/")
    owner = APIClient()
    owner.force_authenticate(alice.owner)
    assert owner.get(url(other)).status_code == 404


def test_starting_and_checking_are_rate_limited(web, api, alice, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "verify", "2/min")
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    assert api.post(url(site), {}, format="json").status_code == 201
    assert api.post(url(site), {}, format="json").status_code == 201
    limited = api.post(url(site), {}, format="json")
    assert limited.status_code == 429
    assert "Retry-After" in limited
    assert api.get(url(site)).status_code == 200

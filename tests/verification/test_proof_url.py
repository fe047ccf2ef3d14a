"""Platforms with public pages (X, Telegram): the person posts the token and gives the
post's URL; the post's own text must hold the token."""

from __future__ import annotations

import pytest

from directory.models import Handle
from directory.verification.errors import VerificationUnavailable
from tests.verification.servers import SILENT, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

POST = "https://x.com/alice_l/status/1234"


def post_page(text: str, replies: str = "") -> Reply:
    return Reply(
        200,
        f'<html><head><meta property="og:description" content="{text}"></head>'
        f"<body><article>{text}</article><section>{replies}</section></body></html>",
    )


def test_it_verifies_a_post_holding_the_token(web, alice, claim, check_now):
    handle, token = claim(alice, "x", "@Alice_L")
    web.serve("x.com", "/alice_l/status/1234", post_page(f"My Worldbook proof: {token}"))
    check = check_now(handle, proof_url=POST)
    assert handle.status == Handle.Status.VERIFIED
    assert check.reason == f"the post at {POST} holds the token."


def test_it_verifies_a_telegram_channel_post(web, alice, claim, check_now):
    handle, token = claim(alice, "telegram", "alice_channel")
    web.serve("t.me", "/alice_channel/42", post_page(token))
    check_now(handle, proof_url="https://T.ME/alice_channel/42/")
    assert handle.status == Handle.Status.VERIFIED


def test_a_token_in_a_reply_does_not_count(web, alice, claim, check_now):
    handle, token = claim(alice, "x", "alice_l")
    web.serve("x.com", "/alice_l/status/1234", post_page("hello", replies=token))
    check = check_now(handle, proof_url=POST)
    assert handle.status == Handle.Status.FAILED
    assert check.reason == f"the post at {POST} says 'hello', expected it to hold {token}"


def test_it_refuses_a_post_of_another_account(web, alice, claim):
    handle, _ = claim(alice, "x", "alice_l")
    with pytest.raises(VerificationUnavailable, match="is not a public post of alice_l"):
        claim(alice, "x", "alice_l", proof_url="https://x.com/mallory/status/1")


def test_a_missing_post_fails(web, alice, claim, check_now):
    handle, _ = claim(alice, "x", "alice_l")
    assert check_now(handle, proof_url=POST).result == "missing"


def test_a_slow_platform_is_unreachable(short_timeout, web, alice, claim, check_now):
    handle, token = claim(alice, "x", "alice_l")
    web.serve("x.com", "/alice_l/status/1234", Reply(200, token, delay=SILENT))
    assert check_now(handle, proof_url=POST).result == "unreachable"


def test_a_redirect_to_a_private_address_is_refused(web, alice, claim, check_now):
    handle, _ = claim(alice, "x", "alice_l")
    web.serve(
        "x.com", "/alice_l/status/1234",
        Reply(302, headers={"Location": "https://2130706433/"}),
    )  # fmt: skip
    assert check_now(handle, proof_url=POST).result == "refused"

"""The owner's page for proving handles."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from pytest_django.asserts import assertContains, assertNotContains

from directory.services import handle_add
from tests.verification.servers import Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PAGE = "/account/entries/alice/verification"


@pytest.fixture
def signed_in(client, alice_user):
    client.force_login(alice_user)
    return client


def test_it_walks_a_website_through_start_check_and_result(
    web, signed_in, alice, django_capture_on_commit_callbacks
):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    page = signed_in.get(PAGE)
    assertContains(page, "https://alice.test/")
    assertContains(page, "Not verified yet.")
    started = signed_in.post(PAGE, {"handle_id": site.pk, "action": "start"}, follow=True)
    assertContains(started, "Started: follow the instructions below")
    assertContains(
        started, "Put a link to https://worldbook.example/@alice with rel=&quot;me&quot;"
    )
    assertNotContains(started, "Token:")
    web.serve("alice.test", "/", Reply(200, '<a rel="me" href="https://x.example/@al">me</a>'))
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(PAGE, {"handle_id": site.pk, "action": "check"})
    assertContains(
        signed_in.get(PAGE),
        "Not verified: found a link to https://x.example/@al, expected "
        "https://worldbook.example/@alice",
    )


def test_it_confirms_an_email_code(web, signed_in, alice, django_capture_on_commit_callbacks):
    address = handle_add(entry=alice, kind="email", raw="alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(PAGE, {"handle_id": address.pk, "action": "start"})
    code = re.search(r"is (\d{8})\.", mail.outbox[0].body).group(1)
    typo = signed_in.post(PAGE, {"handle_id": address.pk, "action": "code", "code": "1"})
    assertContains(typo, "A code is 8 digits", status_code=400)
    wrong_code = "00000000" if code != "00000000" else "11111111"
    wrong = signed_in.post(PAGE, {"handle_id": address.pk, "action": "code", "code": wrong_code})
    assert wrong.status_code == 400
    assertContains(wrong, "That is not the code we sent (4 tries left)", status_code=400)
    done = signed_in.post(
        PAGE, {"handle_id": address.pk, "action": "code", "code": code}, follow=True
    )
    assertContains(done, "Thank you: the address is proved.")
    assertContains(done, "Verified; proof last seen")


def test_only_the_owner_sees_the_page(web, client, alice, bob):
    client.force_login(bob.owner)
    assert client.get(PAGE).status_code == 403
    assert client.get("/account/entries/nobody-here/verification").status_code == 404


def test_posts_are_rate_limited(web, signed_in, alice, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "verify": "1/m"},
    }  # fmt: skip
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    assert signed_in.post(PAGE, {"handle_id": site.pk, "action": "start"}).status_code == 302
    limited = signed_in.post(PAGE, {"handle_id": site.pk, "action": "start"})
    assertContains(limited, "Too many verification requests", status_code=429)

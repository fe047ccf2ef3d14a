"""Fediverse accounts: WebFinger (RFC 7033) on the account's server gives the profile page,
which must link back to the entry's page with rel="me"."""

from __future__ import annotations

import json

import pytest

from directory.models import Handle
from directory.verification.fetch import MAX_BYTES
from tests.verification.servers import SILENT, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WEBFINGER = "/.well-known/webfinger?resource=acct:alice@social.test"
PROFILE = "https://worldbook.example/@alice"


def jrd(profile: str = "https://social.test/@alice") -> Reply:
    body = {
        "subject": "acct:alice@social.test",
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": "https://social.test/u/1"},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
        ],
    }
    return Reply(200, json.dumps(body), {"Content-Type": "application/jrd+json"})


def profile_page(link: str, filler: int = 0) -> Reply:
    return Reply(
        200,
        f"<html><p>{'.' * filler}</p><dd><a href='{link}' rel='nofollow noopener me'>"
        f"worldbook</a></dd></html>",
    )


def test_it_verifies_an_account_through_webfinger(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd())
    web.serve("social.test", "/@alice", profile_page(PROFILE))
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert [f["url"] for f in check.evidence["fetched"]] == [
        "https://social.test" + WEBFINGER,
        "https://social.test/@alice",
    ]


def test_it_asks_webfinger_in_the_case_its_owner_typed(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "@Alice@Social.test")
    assert handle.key == "alice@social.test"
    web.serve("social.test", "/.well-known/webfinger?resource=acct:Alice@social.test", jrd())
    web.serve("social.test", "/@alice", profile_page(PROFILE))
    check_now(handle)
    assert handle.status == Handle.Status.VERIFIED


@pytest.mark.parametrize("link", [PROFILE + "/", "https://WORLDBOOK.example/@alice"])
def test_it_verifies_spelling_variants(web, alice, claim, check_now, link):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd())
    web.serve("social.test", "/@alice", profile_page(link))
    check_now(handle)
    assert handle.status == Handle.Status.VERIFIED


def test_it_says_what_the_profile_links_to(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd())
    web.serve("social.test", "/@alice", profile_page("https://worldbook.example/@alicia"))
    check = check_now(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.reason == (
        "found a link to https://worldbook.example/@alicia, expected "
        "https://worldbook.example/@alice"
    )


def test_it_reports_an_account_webfinger_does_not_know(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    check = check_now(handle)
    assert check.result == "missing"
    assert check.reason == "social.test knows no account acct:alice@social.test (WebFinger)."


def test_a_slow_server_is_unreachable(short_timeout, web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, Reply(200, "{}", delay=SILENT))
    assert check_now(handle).result == "unreachable"
    assert handle.status == Handle.Status.UNREACHABLE


def test_it_refuses_a_profile_page_on_a_private_address(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd("https://169.254.169.254/@alice"))
    check = check_now(handle)
    assert check.result == "refused"
    assert handle.status == Handle.Status.FAILED


def test_it_refuses_a_profile_redirect_to_a_private_address(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd())
    web.serve("social.test", "/@alice", Reply(301, headers={"Location": "https://0x7f.1/"}))
    assert check_now(handle).result == "refused"


def test_it_finds_the_link_near_the_end_of_a_large_profile(web, alice, claim, check_now):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd())
    web.serve("social.test", "/@alice", profile_page(PROFILE, filler=MAX_BYTES - 400))
    assert check_now(handle).result == "verified"


def test_it_reads_the_profile_fields_of_the_actor_when_the_page_has_no_link(
    web, alice, claim, check_now
):
    handle, _ = claim(alice, "fediverse", "alice@social.test")
    web.serve("social.test", WEBFINGER, jrd())
    web.serve("social.test", "/@alice", Reply(200, "<div id='app'></div><script></script>"))
    actor = {
        "id": "https://social.test/u/1", "type": "Person",
        "attachment": [
            {"type": "PropertyValue", "name": "Blog", "value": "<a href='https://a.test/'>a</a>"},
            {"type": "PropertyValue", "name": "Worldbook",
             "value": f'<a href="{PROFILE}" target="_blank" rel="nofollow noopener me">wb</a>'},
        ],
    }  # fmt: skip
    web.serve("social.test", "/u/1", Reply(200, json.dumps(actor)))
    check = check_now(handle)
    assert handle.status == Handle.Status.VERIFIED
    assert check.reason == (
        "the profile fields of acct:alice@social.test link to "
        'https://worldbook.example/@alice with rel="me".'
    )
    assert web.seen[-1].headers["Accept"] == "application/activity+json"

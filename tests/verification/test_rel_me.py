"""Websites prove themselves with a rel="me" link back to the entry's page, fetched from a
real HTTPS server on loopback."""

from __future__ import annotations

import pytest

from directory.models import Handle
from directory.services import handle_add
from directory.verification.fetch import MAX_BYTES
from directory.verification.models import VerificationCheck
from directory.verification.services import verification_request_check, verification_start
from tests.verification.servers import SILENT, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PROFILE = "https://worldbook.example/@alice"


def page(*links: str, filler: int = 0) -> str:
    anchors = "".join(f'<a rel="me nofollow" href="{href}">me</a>' for href in links)
    return f"<html><body><p>{'x' * filler}</p>{anchors}</body></html>"


@pytest.fixture
def prove(django_capture_on_commit_callbacks):
    """Claim a website for an entry, start its proof and run "check now"."""

    def run(entry, url: str) -> Handle:
        handle = handle_add(entry=entry, kind="web", raw=url)
        verification_start(handle=handle)
        with django_capture_on_commit_callbacks(execute=True):
            verification_request_check(handle=handle)
        handle.refresh_from_db()
        return handle

    return run


def last_check(handle: Handle) -> VerificationCheck:
    return handle.verification_checks.order_by("-created_at", "-id").first()


def test_it_verifies_a_site_that_links_back(web, alice, prove):
    web.serve("alice.test", "/", Reply(200, page(PROFILE)))
    handle = prove(alice, "https://alice.test/")
    assert handle.status == Handle.Status.VERIFIED
    check = last_check(handle)
    assert check.result == "verified"
    assert check.evidence["fetched"][0]["url"] == "https://alice.test/"
    assert check.evidence["fetched"][0]["address"] == "127.0.0.2"
    assert check.evidence["expected"] == PROFILE


@pytest.mark.parametrize(
    "link",
    [
        "https://worldbook.example/@alice/",
        "HTTPS://WorldBook.EXAMPLE/@alice",
        "https://worldbook.example:443/@alice",
        "https://worldbook.example/@alice#top",
    ],
)
def test_it_verifies_spelling_variants_of_the_entry_url(web, alice, link, prove):
    web.serve("alice.test", "/", Reply(200, page(link)))
    assert prove(alice, "https://alice.test").status == Handle.Status.VERIFIED


def test_it_says_which_link_it_found_instead(web, alice, prove):
    web.serve("alice.test", "/", Reply(200, page("https://x.example/@al")))
    handle = prove(alice, "https://alice.test/")
    assert handle.status == Handle.Status.FAILED
    assert last_check(handle).reason == (
        "found a link to https://x.example/@al, expected https://worldbook.example/@alice"
    )


def test_it_does_not_accept_the_url_in_plain_text_or_a_longer_url(web, alice, prove):
    body = (
        f"<p>{PROFILE}</p><a href='{PROFILE}'>no rel</a>"
        f'<a rel="me" href="{PROFILE}extra">longer</a>'
    )
    web.serve("alice.test", "/", Reply(200, body))
    handle = prove(alice, "https://alice.test/")
    assert handle.status == Handle.Status.FAILED
    assert last_check(handle).result == "mismatch"


def test_it_reports_a_page_without_rel_me(web, alice, prove):
    web.serve("alice.test", "/", Reply(200, "<html>hello</html>"))
    handle = prove(alice, "https://alice.test/")
    assert last_check(handle).reason.startswith('found no rel="me" link on https://alice.test/')


def test_it_fails_a_missing_page(web, alice, prove):
    handle = prove(alice, "https://alice.test/gone")
    assert handle.status == Handle.Status.FAILED
    assert last_check(handle).result == "missing"


def test_it_reads_a_link_near_the_end_of_a_page_under_the_cap(web, alice, prove):
    body = page(PROFILE, filler=MAX_BYTES - 300)
    assert len(body.encode()) <= MAX_BYTES
    web.serve("alice.test", "/", Reply(200, body))
    assert prove(alice, "https://alice.test/").status == Handle.Status.VERIFIED


def test_it_stops_reading_a_page_over_one_mebibyte(web, alice, prove):
    # The link sits past the first MiB, cut in the middle of the page: not read, no crash.
    body = page(PROFILE, filler=MAX_BYTES + 10)
    web.serve("alice.test", "/", Reply(200, body))
    handle = prove(alice, "https://alice.test/")
    check = last_check(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.evidence["truncated"] is True
    assert check.evidence["fetched"][0]["bytes"] == MAX_BYTES


def test_it_copes_with_a_tag_cut_by_the_cap(web, alice, prove):
    body = page(filler=MAX_BYTES - 20) + f'<a rel="me" href="{PROFILE}">me</a>'
    web.serve("alice.test", "/", Reply(200, body))
    handle = prove(alice, "https://alice.test/")
    assert last_check(handle).result == "missing"


def test_a_timeout_counts_as_unreachable_not_failed(short_timeout, web, alice, prove):
    web.serve("alice.test", "/", Reply(200, page(PROFILE), delay=SILENT))
    handle = prove(alice, "https://alice.test/")
    assert handle.status == Handle.Status.UNREACHABLE
    checks = list(handle.verification_checks.order_by("created_at"))
    # The first try and two retries (VERIFICATION_MAX_RETRIES = 2 in these tests).
    assert [c.result for c in checks] == ["unreachable"] * 3
    assert "did not answer within 0.5 s" in checks[0].reason


def test_a_server_error_is_retried_then_verifies(web, alice, prove):
    answers = iter([Reply(503, "busy"), Reply(200, page(PROFILE))])
    web.serve("alice.test", "/", lambda: next(answers))
    handle = prove(alice, "https://alice.test/")
    assert handle.status == Handle.Status.VERIFIED
    results = [c.result for c in handle.verification_checks.order_by("created_at")]
    assert results == ["unreachable", "verified"]


def test_it_follows_a_redirect_to_a_public_page(web, alice, prove):
    web.serve("alice.test", "/", Reply(301, headers={"Location": "https://www.alice.test/home"}))
    web.serve("www.alice.test", "/home", Reply(200, page(PROFILE)))
    handle = prove(alice, "https://alice.test/")
    assert handle.status == Handle.Status.VERIFIED
    assert last_check(handle).evidence["fetched"][0]["redirects"] == ["https://alice.test/"]


def test_it_refuses_a_redirect_to_a_private_address(web, dns, alice, prove):
    dns.set("intranet.test", "A", "10.1.2.3")
    web.serve("alice.test", "/", Reply(302, headers={"Location": "https://intranet.test/"}))
    handle = prove(alice, "https://alice.test/")
    check = last_check(handle)
    assert handle.status == Handle.Status.FAILED
    assert check.result == "refused"
    assert "10.1.2.3 is not a public internet address" in check.reason


def test_it_sends_its_user_agent_and_no_cookies(web, alice, prove):
    web.serve(
        "alice.test", "/",
        Reply(302, headers={"Location": "/next", "Set-Cookie": "sid=secret; Path=/"}),
    )  # fmt: skip
    web.serve("alice.test", "/next", Reply(200, page(PROFILE)))
    prove(alice, "https://alice.test/")
    assert len(web.seen) == 2
    for seen in web.seen:
        assert seen.headers["User-Agent"].startswith("Worldbook-Verifier/")
        assert seen.headers["User-Agent"].endswith("(+https://worldbook.example)")
        assert "Cookie" not in seen.headers
        assert seen.headers["Host"] == "alice.test"

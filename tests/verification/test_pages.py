"""The owner's proof pages: the entry's list of handles, and one handle's proof step by
step. Each method is proved by publishing, on the loopback DNS and HTTPS servers, exactly
the values read from the page."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core import mail
from pytest_django.asserts import assertContains, assertNotContains

from directory.models import Handle
from directory.services import handle_add, handle_revoke
from directory.verification.services import verification_run_check
from tests.verification.servers import Reply

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PAGE = "/account/entries/alice/verification"
PROFILE = "https://worldbook.example/@alice"


def proof(handle: Handle) -> str:
    return f"/account/entries/alice/handles/{handle.pk}/proof"


class _Values(HTMLParser):
    """The values a proof page asks to publish: ``{label: value}`` from its copy lists."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._label: str | None = None
        self._into: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "dt":
            self._into, self._text = "label", ""
        elif tag == "code" and "copy-value" in classes:
            self._into, self._text = "value", ""

    def handle_endtag(self, tag):
        if tag == "dt" and self._into == "label":
            self._label, self._into = self._text.strip(), None
        elif tag == "code" and self._into == "value":
            self.values.setdefault(self._label, unescape(self._text))
            self._into = None

    def handle_data(self, data):
        if self._into:
            self._text += data


def values_on(response) -> dict[str, str]:
    parser = _Values()
    parser.feed(response.content.decode())
    return parser.values


@pytest.fixture
def signed_in(client, alice_user):
    client.force_login(alice_user)
    return client


@pytest.fixture
def started(signed_in):
    """Start the proof of ``handle`` on its page; returns the page that follows."""

    def run(handle):
        page = signed_in.post(proof(handle), {"action": "start"}, follow=True)
        assert page.status_code == 200
        return page

    return run


@pytest.fixture
def check_on_page(signed_in, django_capture_on_commit_callbacks):
    """Press "Check now" (the task runs in-process) and return the page that follows."""

    def run(handle, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in.post(proof(handle), {"action": "check", **extra})
        handle.refresh_from_db()
        return signed_in.get(response.url) if response.status_code == 302 else response

    return run


def assert_verified(page):
    assertContains(page, '<span class="badge verified">Verified</span>', html=True)
    assertContains(page, "Verified on ")
    assertContains(page, ">Check again</button>")
    assertNotContains(page, ">Check now</button>")
    assertNotContains(page, "Get a new token")


def test_it_proves_a_domain_with_the_txt_record_shown(
    web, dns, signed_in, alice, started, check_on_page
):
    domain = handle_add(entry=alice, kind="domain", raw="Alice.Test")
    values = values_on(started(domain))
    assert values["Name"] == "_worldbook.alice.test"
    assert values["Type"] == "TXT"
    dns.set(values["Name"], values["Type"], values["Value"])
    page = check_on_page(domain)
    assert domain.status == Handle.Status.VERIFIED
    assert_verified(page)


def test_it_proves_a_domain_with_the_file_shown(web, dns, signed_in, alice, started, check_on_page):
    domain = handle_add(entry=alice, kind="domain", raw="alice.test")
    values = values_on(started(domain))
    address = urlsplit(values["File address"])
    assert values["File address"] == "https://alice.test/.well-known/worldbook-proof"
    web.serve(address.hostname, address.path, Reply(200, values["File content"] + "\n"))
    assert_verified(check_on_page(domain))


def test_it_proves_a_website_with_the_link_shown(web, signed_in, alice, started, check_on_page):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    values = values_on(started(site))
    assert values["Link to paste"] == f'<a rel="me" href="{PROFILE}">Worldbook</a>'
    web.serve("alice.test", "/", Reply(200, f"<html><body><p>Me: {values['Link to paste']}</p>"))
    assert_verified(check_on_page(site))


def test_it_proves_a_fediverse_account_with_the_profile_field_shown(
    web, signed_in, alice, started, check_on_page
):
    account = handle_add(entry=alice, kind="fediverse", raw="@alice@social.test")
    page = started(account)
    assertContains(page, "Extra fields")
    values = values_on(page)
    web.serve("social.test", "/.well-known/webfinger?resource=acct:alice@social.test", Reply(
        200, json.dumps({"subject": "acct:alice@social.test", "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "href": "https://social.test/@alice"},
        ]}), {"Content-Type": "application/jrd+json"},
    ))  # fmt: skip
    # The profile field as Mastodon renders it: its content, linked with rel="me".
    field = f'<dt>{values["Label"]}</dt><dd><a href="{values["Content"]}" rel="nofollow me">x</a>'
    web.serve("social.test", "/@alice", Reply(200, f"<html><dl>{field}</dd></dl></html>"))
    assert_verified(check_on_page(account))


def test_it_proves_an_atproto_handle_with_the_token_shown(
    web, dns, signed_in, alice, started, check_on_page
):
    did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    account = handle_add(entry=alice, kind="atproto", raw="alice.bsky.social")
    values = values_on(started(account))
    dns.set("_atproto.alice.bsky.social", "TXT", f"did={did}")
    web.serve("plc.test", f"/{did}", Reply(200, json.dumps({
        "id": did, "alsoKnownAs": ["at://alice.bsky.social"],
        "service": [{"id": "#atproto_pds", "serviceEndpoint": "https://pds.test"}],
    })))  # fmt: skip
    web.serve(
        "pds.test",
        f"/xrpc/com.atproto.repo.getRecord?repo={did.replace(':', '%3A')}"
        "&collection=app.bsky.actor.profile&rkey=self",
        Reply(200, json.dumps({"value": {"description": f"Writer.\n{values['Token']}"}})),
    )
    assert_verified(check_on_page(account))


def test_it_proves_a_github_account_with_the_token_shown(
    web, signed_in, alice, started, check_on_page
):
    account = handle_add(entry=alice, kind="github", raw="alice-l")
    values = values_on(started(account))
    assert values["Gist content"] == values["Token"]
    web.serve("api.github.test", "/users/alice-l", Reply(
        200, json.dumps({"login": "alice-l", "bio": f"Maker. {values['Token']}"}),
    ))  # fmt: skip
    assert_verified(check_on_page(account))


def test_it_proves_an_x_account_with_the_post_shown(
    web, signed_in, alice, started, check_on_page
):
    account = handle_add(entry=alice, kind="x", raw="@alice_l")
    page = started(account)
    assertContains(page, 'name="proof_url"')
    text = values_on(page)["Post text"]
    web.serve("x.com", "/alice_l/status/99", Reply(
        200, f'<html><head><meta property="og:description" content="{text}"></head></html>',
    ))  # fmt: skip
    wrong = check_on_page(account, proof_url="https://x.com/mallory/status/1")
    assert wrong.status_code == 400
    assertContains(wrong, "is not a public post of alice_l", status_code=400)
    assertContains(wrong, 'id="id_proof_url_error"', status_code=400)
    page = check_on_page(account, proof_url="https://x.com/alice_l/status/99")
    assert account.status == Handle.Status.VERIFIED
    assert_verified(page)


def test_the_email_proof_stops_asking_for_the_code_once_proved(
    web, signed_in, alice, django_capture_on_commit_callbacks
):
    address = handle_add(entry=alice, kind="email", raw="alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        sent = signed_in.post(proof(address), {"action": "start"}, follow=True)
    assertContains(sent, "We sent a code to alice@example.org.")
    assertContains(sent, 'name="code"')
    code = re.search(r"is (\d{8})\.", mail.outbox[0].body).group(1)
    typo = signed_in.post(proof(address), {"action": "code", "code": "1"})
    assertContains(typo, "A code is 8 digits", status_code=400)
    assertContains(typo, 'id="id_code_error"', status_code=400)
    wrong_code = "00000000" if code != "00000000" else "11111111"
    wrong = signed_in.post(proof(address), {"action": "code", "code": wrong_code})
    assertContains(wrong, "That is not the code we sent (4 tries left)", status_code=400)
    done = signed_in.post(proof(address), {"action": "code", "code": code}, follow=True)
    assertContains(done, "Thank you: the address is proved.")
    assertContains(done, '<span class="badge verified">Verified</span>', html=True)
    assertContains(done, "Verified on ")
    assertNotContains(done, 'name="code"')
    assertNotContains(done, "Send a new code")
    assertNotContains(done, "<form method=\"post\"")


def test_a_failed_check_says_why_and_keeps_the_steps(web, signed_in, alice, started, check_on_page):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    started(site)
    web.serve("alice.test", "/", Reply(200, '<a rel="me" href="https://x.example/@al">me</a>'))
    page = check_on_page(site)
    assertContains(page, '<span class="badge failed">Failed</span>', html=True)
    assertContains(page, "found a link to https://x.example/@al, expected " + PROFILE)
    assertContains(page, "Last check, ")
    assertContains(page, ">Check now</button>")
    assertContains(page, "Link to paste")


def test_it_says_a_check_is_running_until_its_result_is_recorded(
    web, signed_in, alice, started
):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    started(site)
    # No worker runs here: the check is queued and not yet done.
    asked = signed_in.post(proof(site), {"action": "check"}, follow=True)
    assertContains(asked, "A check is running.")
    assertContains(asked, f'data-poll="{proof(site)}"')
    assertContains(signed_in.get(proof(site)), "A check is running.")
    web.serve("alice.test", "/", Reply(200, f'<a rel="me" href="{PROFILE}">me</a>'))
    verification_run_check(handle_id=site.pk, trigger="owner", fresh=True)
    done = signed_in.get(proof(site))
    assertNotContains(done, "A check is running.")
    assertNotContains(done, "data-poll=")
    assert_verified(done)


def test_a_revoked_handle_says_why_and_offers_to_start_over(
    web, signed_in, alice, started, check_on_page
):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    started(site)
    web.serve("alice.test", "/", Reply(200, f'<a rel="me" href="{PROFILE}">me</a>'))
    check_on_page(site)
    handle_revoke(handle=site)
    page = signed_in.get(proof(site))
    assertContains(page, '<span class="badge revoked">Revoked</span>', html=True)
    assertContains(page, "Revoked: a moderator withdrew the verification.")
    assertNotContains(page, "Check now")
    assertNotContains(page, "Check again")
    assertNotContains(page, "Link to paste")
    again = signed_in.post(proof(site), {"action": "start"}, follow=True)
    assertContains(again, '<span class="badge pending">Pending</span>', html=True)
    assertContains(again, ">Check now</button>")


def test_a_handle_worldbook_cannot_prove_says_so(signed_in, alice):
    matrix = handle_add(entry=alice, kind="matrix", raw="@alice:matrix.test")
    page = signed_in.get(proof(matrix))
    assertContains(page, "Worldbook cannot prove a Matrix ID yet.")
    assertNotContains(page, '<form method="post"')
    assertContains(signed_in.get(PAGE), "Cannot be proved yet")


def test_the_overview_lists_each_handle_with_its_state_and_proof_page(web, signed_in, alice):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    address = handle_add(entry=alice, kind="email", raw="alice@example.org")
    page = signed_in.get(PAGE)
    for handle in (site, address):
        assertContains(page, f'href="{proof(handle)}"')
    assertContains(page, '<span class="badge unverified">Not verified</span>', html=True, count=2)
    assertContains(page, "Not verified yet.", count=2)


def test_the_pages_name_a_handle_as_people_write_it_not_its_a_label(signed_in, alice):
    claim = handle_add(entry=alice, kind="fediverse", raw="@alice@bücher.test")
    assert claim.canonical == "alice@xn--bcher-kva.test"

    for page in (signed_in.get(proof(claim)), signed_in.get(PAGE)):
        assertContains(page, "@alice@bücher.test")
        assertNotContains(page, "xn--bcher-kva")


def test_the_overview_still_takes_the_old_actions(web, signed_in, alice):
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    started = signed_in.post(PAGE, {"handle_id": site.pk, "action": "start"})
    assert started.status_code == 302
    assert started.url == proof(site)
    site.refresh_from_db()
    assert site.status == Handle.Status.PENDING
    missing = signed_in.post(PAGE, {"handle_id": 999999, "action": "start"})
    assertContains(missing, "This entry claims no such handle.", status_code=404)


def test_only_the_owner_sees_the_pages(web, client, alice, bob):
    alices = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    bobs = handle_add(entry=bob, kind="web", raw="https://bob.test/")
    client.force_login(bob.owner)
    assert client.get(PAGE).status_code == 403
    assert client.get(proof(alices)).status_code == 403
    assert client.post(proof(alices), {"action": "start"}).status_code == 403
    assert client.get("/account/entries/nobody-here/verification").status_code == 404
    client.force_login(alice.owner)
    # Bob's handle is not a handle of Alice's entry.
    assert client.get(proof(bobs)).status_code == 404
    assert client.post(proof(bobs), {"action": "start"}).status_code == 404
    assert bobs.verification_challenges.count() == 0


def test_posts_are_rate_limited(web, signed_in, alice, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "verify": "1/m"},
    }  # fmt: skip
    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    assert signed_in.post(proof(site), {"action": "start"}).status_code == 302
    limited = signed_in.post(proof(site), {"action": "check"})
    assertContains(limited, "Too many verification requests", status_code=429)
    assert site.verification_challenges.count() == 1
    again = signed_in.post(PAGE, {"handle_id": site.pk, "action": "start"})
    assertContains(again, "Too many verification requests", status_code=429)


def test_a_stale_handle_says_so_and_offers_only_a_new_check(
    web, signed_in, alice, started, check_on_page, settings
):
    from directory.verification.services import verification_mark_stale

    site = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    started(site)
    web.serve("alice.test", "/", Reply(200, f'<a rel="me" href="{PROFILE}">me</a>'))
    check_on_page(site)
    settings.VERIFICATION_STALE_SECONDS = 0
    assert verification_mark_stale() == 1
    page = signed_in.get(proof(site))
    assertContains(page, '<span class="badge stale">Stale</span>', html=True)
    assertContains(page, "Verified on ")
    assertContains(page, "Stale: the platform has not answered for a while")
    assertContains(page, ">Check again</button>")
    assertNotContains(page, ">Check now</button>")
    assertNotContains(page, "Get a new token")

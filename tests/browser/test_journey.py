"""A newcomer's whole journey on the web, in a real Chromium at a phone's width and a
desktop's: sign up, confirm the email, create an entry, add two endpoints and reorder
them, add a domain handle and a website handle and prove both by following the proof
page's own instructions against loopback DNS and HTTPS servers, see the verified marks on
the entry page and in search, resolve the domain through the API, change an endpoint's
audience and see it take effect for an anonymous visitor, delete the entry.

Every page the journey opens is checked for sideways scrolling and for serious or
critical axe-core violations. Verification tasks run in-process on commit (the test
settings' eager Celery), against the loopback servers of ``tests/verification``.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.browser.checks import assert_fits, run_axe
from tests.browser.chromium import chromium_browser
from tests.browser.conftest import require_axe_core
from tests.verification.conftest import dns, dns_server, test_ca, web, web_server  # noqa: F401
from tests.verification.servers import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "journey-pw-1-long"


def _check(page, width: int) -> None:
    """The page fits the window and axe-core finds nothing serious on it."""
    assert_fits(page, width)
    violations = run_axe(page)
    assert not violations, "\n".join(str(v) for v in violations)


def _open_menu(page, width: int) -> None:
    """Below 48 rem the header's links sit behind its Menu button."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"


def _copy_values(page) -> dict[str, str]:
    """The values the proof page asks to publish, by their labels."""
    pairs = page.locator("dl.copy-values").evaluate_all(
        """lists => lists.flatMap(dl => [...dl.querySelectorAll('dt')].map(dt =>
               [dt.textContent.trim(), dt.nextElementSibling.querySelector('.copy-value')
                                         .textContent.trim()]))"""
    )
    return dict(pairs)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_newcomer_builds_proves_shares_and_deletes_an_entry(
    loopback_server, web, dns, settings, width  # noqa: F811
):
    require_axe_core()
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    n = 10 if width < 1000 else 20
    site = f"site{n}.test"  # names the loopback DNS and HTTPS servers answer for
    home = f"https://site{n + 1}.test/"
    email = f"nadia{width}@example.org"
    handle = f"nadia{width}"
    base = loopback_server

    with chromium_browser() as browser:
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()

        # Sign up, then confirm the address from the mailed link.
        page.goto(f"{base}/account/sign-up/")
        _check(page, width)
        page.fill("#id_email", email)
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.locator("main").get_by_role("button", name="Sign up").click()
        page.wait_for_url(re.compile(r"/account/"))
        link = re.search(r"https?://\S+/account/confirm-email/\S+/", mail.outbox[-1].body)
        assert link, mail.outbox[-1].body
        page.goto(base + "/account/" + link.group(0).split("/account/", 1)[1])
        _check(page, width)

        # "My entry" leads a person without one to creating it.
        _open_menu(page, width)
        page.get_by_role("link", name="My entry").click()
        page.wait_for_url(re.compile(r"/account/entries/new$"))
        _check(page, width)
        page.fill("#id_nickname", "Nadia Quillfeather")
        page.locator("#id_handle").press_sequentially(handle, delay=20)
        status = page.locator("#id_handle_status")
        status.get_by_text(re.compile("available", re.I)).wait_for()
        page.locator("main").get_by_role("button", name="Create the entry").click()
        page.wait_for_url(re.compile(rf"/account/entries/{handle}/$"))
        _check(page, width)

        # Two endpoints, then the second is moved first.
        for uri in (f"sip:{handle}@sip.example.org", f"xmpp:{handle}@chat.example.org"):
            page.get_by_role("link", name="Add an endpoint").click()
            page.fill("#id_uri", uri)
            _check(page, width)
            page.locator("main").get_by_role("button", name="Add the endpoint").click()
            page.wait_for_url(re.compile(rf"/account/entries/{handle}/"))
        endpoints = page.locator("table.endpoints-manage tbody th code")
        sip, xmpp = f"{handle}@sip.example.org", f"{handle}@chat.example.org"

        def order() -> list[str]:
            return ["sip" if sip in text else "xmpp" for text in endpoints.all_inner_texts()]

        assert order() == ["sip", "xmpp"]
        page.get_by_role("button", name=re.compile(r"Up.*chat\.example\.org")).click()
        page.wait_for_url(re.compile(rf"/account/entries/{handle}/"))
        assert order() == ["xmpp", "sip"]
        _check(page, width)

        # A domain handle, proved by the DNS TXT record the proof page names.
        page.get_by_role("link", name="Add a handle").click()
        page.select_option("#id_kind", "domain")
        page.fill("#id_value", site)
        _check(page, width)
        page.locator("main").get_by_role("button", name="Add and prove it").click()
        page.wait_for_url(re.compile(r"/proof$"))
        page.locator("main").get_by_role("button", name="Start").click()
        values = _copy_values(page)
        _check(page, width)
        dns.set(values["Name"], values["Type"], values["Value"])
        page.locator("main").get_by_role("button", name="Check now").click()
        page.goto(page.url)
        page.locator("main").get_by_text(re.compile(r"Verified on")).first.wait_for()
        _check(page, width)

        # A website handle, proved by the rel="me" link the proof page gives.
        page.goto(f"{base}/account/entries/{handle}/handles/new")
        page.select_option("#id_kind", "web")
        page.fill("#id_value", home)
        page.locator("main").get_by_role("button", name="Add and prove it").click()
        page.wait_for_url(re.compile(r"/proof$"))
        page.locator("main").get_by_role("button", name="Start").click()
        link_html = _copy_values(page)["Link to paste"]
        page_html = f"<html><body>{link_html}</body></html>"
        web.serve(home.split("/")[2], "/", Reply(200, page_html, {"Content-Type": "text/html"}))
        page.locator("main").get_by_role("button", name="Check now").click()
        page.goto(page.url)
        page.locator("main").get_by_text(re.compile(r"Verified on")).first.wait_for()

        # The public page and search show both handles as verified.
        page.goto(f"{base}/@{handle}")
        _check(page, width)
        marks = page.locator("ul.handles li").filter(has_text="Verified")
        assert marks.count() == 2
        assert site in marks.all_inner_texts()[0] + marks.all_inner_texts()[1]
        page.goto(f"{base}/search?q=Quillfeather")
        _check(page, width)
        result = page.locator("ul.results li").filter(has_text=f"@{handle}")
        assert "Verified" in result.inner_text()

        # A calling app resolves the proved domain.
        answer = page.request.get(f"{base}/api/v1/resolve?handle={site}")
        assert answer.status == 200, answer.text()
        assert answer.json()["entry"]["handle"] == f"@{handle}"

        # Only signed-in people may now use the SIP address: an anonymous visitor loses it.
        visitor = browser.new_context(viewport={"width": width, "height": 800}).new_page()
        visitor.goto(f"{base}/@{handle}")
        assert visitor.locator("ol.endpoints").get_by_text(sip).count() == 1
        page.goto(f"{base}/account/entries/{handle}/")
        page.get_by_role("link", name=re.compile(r"Edit.*sip\.example\.org")).click()
        page.check("input[name=audience][value=signed_in]")
        page.locator("main").get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(rf"/account/entries/{handle}/"))
        visitor.goto(visitor.url)
        assert visitor.locator("ol.endpoints").get_by_text(sip).count() == 0
        assert visitor.locator("ol.endpoints").get_by_text(xmpp).count() == 1
        page.goto(f"{base}/@{handle}")
        assert page.locator("ol.endpoints").get_by_text(sip).count() == 1

        # Deleting the entry takes it off the web and out of the API.
        page.goto(f"{base}/account/entries/{handle}/")
        page.get_by_role("link", name="Delete the entry").click()
        _check(page, width)
        page.locator("main").get_by_role("button", name="Delete the entry").click()
        page.wait_for_url(re.compile(r"/account/"))
        assert visitor.goto(f"{base}/@{handle}").status == 404
        assert page.request.get(f"{base}/api/v1/resolve?handle={site}").status == 404
        context.close()

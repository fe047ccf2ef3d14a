"""End to end in a real headless Chromium: a moderator signs in to the admin with a
password and a TOTP code, opens the report queue and suspends the reported entry; then a
visitor searches as they type and finds the other entry, not the suspended one.

The database is set up before the browser starts and checked after it stops: Playwright's
sync API runs an event loop in this thread, in which Django refuses ORM calls.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.chromium import chromium_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "moderator-pw-1"


def _setup():
    from django.contrib.auth.models import Group
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from directory.moderation.services import report_file
    from directory.moderation.tests.fixtures import ensure_moderator_groups

    ensure_moderator_groups()
    from directory.services import entry_create

    moderator = User.objects.create_user("mona", "mona@example.org", PASSWORD, is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    device = TOTPDevice.objects.create(user=moderator, name="Phone", confirmed=True)
    owner = User.objects.create_user("orla", "orla@example.org", "orla-pw-1")
    other = User.objects.create_user("olando", "orlando@example.org", "orlando-pw-1")
    reporter = User.objects.create_user("rita", "rita@example.org", "rita-pw-1")
    spam = entry_create(nickname="Orla Quillfeather", handle="orla", owner=owner)
    entry_create(nickname="Orlando Quillfeather", handle="orlando", owner=other)
    report_file(reporter=reporter, entry=spam, category="spam", reason="Sells followers.")
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    return spam, code


def test_a_moderator_suspends_a_reported_entry_and_a_visitor_no_longer_finds_it(
    loopback_server,
):
    from directory.models import Entry

    spam, code = _setup()

    with chromium_browser() as browser:
        moderator = browser.new_page()
        moderator.goto(f"{loopback_server}/admin/")
        moderator.fill("#id_username", "mona@example.org")
        moderator.fill("#id_password", PASSWORD)
        moderator.get_by_role("button", name="Sign in").click()
        moderator.fill("#id_code", code)
        moderator.get_by_role("button", name="Continue").click()

        moderator.wait_for_url(re.compile(r"/admin/$"))
        queues = moderator.locator("#moderation-queues")
        assert queues.locator(".queue-reports .queue-count").inner_text() == "1"
        queues.get_by_role("link", name="Open reports").click()

        moderator.wait_for_url(re.compile(r"/admin/moderation/reportcase/"))
        row = moderator.locator("#result_list tbody tr", has_text="@orla")
        row.locator("input[name=_selected_action]").check()
        moderator.select_option("select[name=action]", "suspend_entries")
        moderator.get_by_role("button", name="Go").click()
        moderator.fill("#id_reason", "Sells followers under a look-alike name.")
        moderator.get_by_role("button", name="Suspend the reported entries").click()
        moderator.get_by_text("Suspend the reported entries: done for 1").wait_for()

        visitor = browser.new_context().new_page()
        visitor.goto(f"{loopback_server}/")
        visitor.locator("#search-q").press_sequentially("Quillfeath", delay=30)
        results = visitor.locator("#live-results")
        results.locator("a[href$='/@orlando']").wait_for()
        found = results.locator("a").evaluate_all("links => links.map(a => a.href)")
        entry_page = visitor.request.get(f"{loopback_server}/@orla")

    assert [href.rsplit("/", 1)[1] for href in found] == ["@orlando"]
    assert entry_page.status == 404
    spam.refresh_from_db()
    assert spam.status == Entry.Status.SUSPENDED

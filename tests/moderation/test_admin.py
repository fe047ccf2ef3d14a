"""The moderation console in the admin: the dashboard's queues, actions with a reason
(in bulk), roles, and lists that stay cheap with many rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import AuditEvent
from directory.models import Entry
from directory.moderation.admin_tools import BoundedPaginator
from directory.moderation.models import (
    Appeal,
    ImpersonationSuspect,
    ModerationAction,
    ReportCase,
    ReservedName,
)
from directory.moderation.services import (
    appeal_file,
    endpoint_hide,
    entry_suspend,
    handle_reserve,
    report_file,
)
from directory.moderation.tests.fixtures import admin_client_for, make_user
from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified

pytestmark = pytest.mark.django_db

ROWS = 12


@pytest.fixture
def busy(django_user_model, moderator, senior, django_capture_on_commit_callbacks, settings):
    """ROWS entries, each reported by two people, looking like a verified entry, with a
    hidden endpoint, an appeal and a reserved name."""
    settings.MODERATION_REPORTS_PER_DAY = 10 * ROWS
    famous_owner = make_user(django_user_model, "famous")
    with django_capture_on_commit_callbacks(execute=True):
        famous = entry_create(nickname="Famous Person", handle="famous", owner=famous_owner)
        handle_mark_verified(handle=handle_add(entry=famous, kind="github", raw="famous"))
    reporters = [make_user(django_user_model, f"reporter{n}") for n in range(2)]
    for n in range(ROWS):
        owner = make_user(django_user_model, f"owner{n}")
        with django_capture_on_commit_callbacks(execute=True):
            entry = entry_create(nickname="Famous Person", handle=f"famous{n:02d}x", owner=owner)
            handle_mark_verified(handle=handle_add(entry=entry, kind="github", raw=f"gh{n}"))
        endpoint = endpoint_add(entry=entry, uri=f"sip:p{n}@example.org")
        for reporter in reporters:
            report_file(reporter=reporter, entry=entry, category="spam", reason="Spam.")
        report_file(
            reporter=reporters[0],
            entry=entry,
            endpoint=endpoint,
            category="wrong_endpoint",
            reason="Not them.",
        )
        hidden = endpoint_hide(endpoint=endpoint, moderator=moderator, reason="Wrong person.")
        appeal_file(action=hidden, user=owner, statement="It is mine.")
        handle_reserve(name=f"brand{n}", moderator=senior, reason="Our brand.")
    return famous


def test_the_fixture_fills_every_queue(busy):
    assert ReportCase.objects.filter(status="open").count() == ROWS
    # Each entry also looks like the verified ones made before it.
    assert ImpersonationSuspect.objects.filter(status="open").count() >= ROWS
    assert Appeal.objects.filter(status="open").count() == ROWS


LISTS = [
    "/admin/",
    "/admin/moderation/reportcase/",
    "/admin/moderation/reportcase/?status__exact=open",
    "/admin/moderation/impersonationsuspect/",
    "/admin/moderation/appeal/",
    "/admin/moderation/moderationaction/",
    "/admin/moderation/ownernotice/",
    "/admin/moderation/reservedname/",
    "/admin/directory/entry/",
    "/admin/directory/entry/?q=famous",
    "/admin/directory/handle/",
    "/admin/directory/endpoint/",
    "/admin/accounts/auditevent/",
]


def test_each_list_and_change_page_loads_in_a_bounded_number_of_queries(
    busy, senior, django_assert_max_num_queries
):
    # One fixture for all pages (it is the slow part); each page has its own bound.
    client = admin_client_for(senior)
    change_pages = [
        reverse(f"admin:moderation_{model._meta.model_name}_change", args=[obj.pk])
        for model in (ReportCase, ImpersonationSuspect, Appeal, ModerationAction, ReservedName)
        for obj in [model.objects.order_by("pk").last()]
    ]

    for url in LISTS + change_pages:
        # A fixed handful of queries for ROWS rows: none per row.
        with django_assert_max_num_queries(14):
            response = client.get(url)
        assert response.status_code == 200, url


def test_no_list_counts_a_whole_table(busy, senior):
    client = admin_client_for(senior)

    lists = (
        "/admin/directory/entry/",
        "/admin/directory/handle/",
        "/admin/moderation/reportcase/",
        "/admin/accounts/auditevent/",
        "/admin/accounts/user/",
        "/admin/directory/endpoint/",
        "/admin/moderation/impersonationsuspect/",
    )
    for url in lists:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].upper().startswith("SELECT COUNT(")
        ]
        assert counts, url
        assert all("LIMIT" in sql.upper() for sql in counts), counts
        # No date drill-down or free-value filter either: each selects every distinct
        # value of a column of the table.
        assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries), url


def test_the_paginator_stops_counting_at_the_bound(busy, settings):
    settings.ADMIN_COUNT_LIMIT = 10

    paginator = BoundedPaginator(Entry.objects.order_by("pk"), 4)

    assert Entry.objects.count() > 11
    assert paginator.count == 11
    assert paginator.num_pages == 3


def test_the_dashboard_shows_each_queue_with_its_count_and_oldest_item(entry, reporter, moderator):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        report_file(reporter=reporter, entry=entry, category="spam", reason="Spam.")

    response = admin_client_for(moderator).get("/admin/")

    assertContains(response, "Moderation queues")
    queues = response.content.decode().split('id="moderation-queues"')[1].split("</table>")[0]
    reports = queues.split('class="queue-reports"')[1].split("</tr>")[0]
    assert '<td class="queue-count">1</td>' in reports
    assert "3\xa0days" in reports
    assert "/admin/moderation/reportcase/?status__exact=open" in reports
    suspects = queues.split('class="queue-impersonation"')[1].split("</tr>")[0]
    assert '<td class="queue-count">0</td>' in suspects
    assert "queue-appeals" in queues


def test_staff_without_a_moderator_role_sees_no_queues(entry, django_user_model):
    clerk = make_user(django_user_model, "clerk", staff=True)

    response = admin_client_for(clerk).get("/admin/")

    assertNotContains(response, "Moderation queues", status_code=200)


def test_a_suspension_asks_for_a_reason_first(entry, moderator):
    client = admin_client_for(moderator)
    selection = {"action": "suspend", "_selected_action": [str(entry.pk)]}

    asked = client.post("/admin/directory/entry/", selection)
    refused = client.post("/admin/directory/entry/", {**selection, "apply": "yes", "reason": ""})

    assertContains(asked, "Reason (required)")
    assertContains(asked, "@kim")
    assertContains(refused, "This field is required")
    entry.refresh_from_db()
    assert entry.status == "active"
    assert not AuditEvent.objects.filter(action="entry_suspended").exists()

    done = client.post(
        "/admin/directory/entry/", {**selection, "apply": "yes", "reason": "Spam."}, follow=True
    )

    assertContains(done, "Suspend the selected entries: done for 1")
    entry.refresh_from_db()
    assert entry.status == "suspended"
    assert AuditEvent.objects.get(action="entry_suspended").reason == "Spam."


def test_a_bulk_suspension_from_the_report_queue(entry, owner, reporter, moderator):
    second = entry_create(nickname="Spam Shop", handle="spamshop", owner=owner)
    cases = [
        report_file(reporter=reporter, entry=e, category="spam", reason="Spam.").case
        for e in (entry, second)
    ]

    response = admin_client_for(moderator).post(
        "/admin/moderation/reportcase/",
        {
            "action": "suspend_entries",
            "_selected_action": [str(c.pk) for c in cases],
            "apply": "yes",
            "reason": "Spam network.",
        },
    )

    assert response.status_code == 302
    assert set(Entry.objects.values_list("status", flat=True)) == {"suspended"}
    assert set(ReportCase.objects.values_list("status", flat=True)) == {"actioned"}
    assert ModerationAction.objects.filter(kind="suspend").count() == 2


def test_only_seniors_are_offered_restore_and_reserve(entry, moderator, senior):
    for user, offered in ((moderator, False), (senior, True)):
        page = admin_client_for(user).get("/admin/directory/entry/").content.decode()
        assert ('value="suspend"' in page) is True
        assert ('value="restore"' in page) is offered
        assert ('value="reserve_handles"' in page) is offered


def test_a_moderator_cannot_restore_by_posting_the_action(entry, moderator):
    entry_suspend(entry=entry, moderator=moderator, reason="Spam.")

    admin_client_for(moderator).post(
        "/admin/directory/entry/",
        {
            "action": "restore",
            "_selected_action": [str(entry.pk)],
            "apply": "yes",
            "reason": "Please.",
        },
    )

    entry.refresh_from_db()
    assert entry.status == "suspended"


def test_the_status_is_not_a_form_field(entry, senior):
    page = admin_client_for(senior).get(reverse("admin:directory_entry_change", args=[entry.pk]))

    assert page.status_code == 200
    assert "status" not in page.context["adminform"].form.fields


def test_a_senior_reserves_a_name_from_the_admin(senior, moderator, owner):
    add_url = reverse("admin:moderation_reservedname_add")

    assert admin_client_for(moderator).get(add_url).status_code == 403
    response = admin_client_for(senior).post(add_url, {"name": "@Helpdesk", "note": "Ours."})

    assert response.status_code == 302
    reserved = ReservedName.objects.get()
    assert (reserved.name, reserved.note, reserved.added_by) == ("Helpdesk", "Ours.", senior)
    assert AuditEvent.objects.get(action="handle_reserved").actor == senior


def test_entry_search_goes_through_the_search_backend_and_skeletons(
    entry, senior, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry_create(nickname="Someone Else", handle="other", owner=owner)
    client = admin_client_for(senior)

    by_word = client.get("/admin/directory/entry/", {"q": "Lindqvst"})  # a typo
    by_look_alike = client.get("/admin/directory/entry/", {"q": "kіm"})  # Cyrillic і

    assertContains(by_word, "@kim")
    assertNotContains(by_word, "@other")
    assertContains(by_look_alike, "@kim")
    assertNotContains(by_look_alike, "@other")


QUEUES = [
    "/admin/moderation/reportcase/",
    "/admin/moderation/impersonationsuspect/",
    "/admin/moderation/appeal/",
    "/admin/moderation/moderationaction/",
    "/admin/moderation/ownernotice/",
    "/admin/moderation/reservedname/",
]


def _column_headers(response) -> list[str]:
    html = response.content.decode()
    heads = re.findall(r'<th scope="col"[^>]*class="[^"]*column-[^"]*"[^>]*>(.*?)</th>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", head).split()) for head in heads]


def test_queue_column_headers_are_words_not_field_names(busy, senior):
    client = admin_client_for(senior)

    for url in QUEUES:
        headers = _column_headers(client.get(url))
        assert headers, url
        for header in headers:
            assert "_" not in header and header == header.strip(), (url, header)
            assert len(header) <= 25, (url, header)
    reports = _column_headers(client.get("/admin/moderation/reportcase/"))
    assert {"Reported", "Category", "Latest reason", "Reports", "Waiting"} <= set(reports)


def test_the_report_queue_shows_category_and_reason_without_opening(entry, reporter, moderator):
    report_file(
        reporter=reporter, entry=entry, category="impersonation", reason="Not the real Kim."
    )

    listing = admin_client_for(moderator).get("/admin/moderation/reportcase/")

    assertContains(listing, "Impersonation")
    assertContains(listing, "Not the real Kim.")


def test_the_report_case_page_shows_reasons_and_carries_its_actions(
    entry, reporter, second_reporter, moderator
):
    report_file(reporter=reporter, entry=entry, category="spam", reason="Sells pills.")
    case = report_file(
        reporter=second_reporter, entry=entry, category="impersonation", reason="Not Kim."
    ).case
    client = admin_client_for(moderator)
    url = reverse("admin:moderation_reportcase_change", args=[case.pk])

    page = client.get(url)

    assertContains(page, "Spam ×1")
    assertContains(page, "Impersonation ×1")
    assertContains(page, "Sells pills.")
    assertContains(page, "Not Kim.")
    html = page.content.decode()
    # One button per action the moderator may take on an entry report, each a form
    # posting the list's action for this case (no JavaScript needed).
    for name in ("suspend_entries", "dismiss"):
        assert f'form="case-action-{name}"' in html
        form = re.search(rf'<form id="case-action-{name}" method="post" action="([^"]+)"', html)
        assert form and form.group(1) == "/admin/moderation/reportcase/"
    # A report about the entry offers no handle or endpoint action.
    assert "case-action-revoke_handles" not in html
    assert "case-action-hide_endpoints" not in html

    asked = client.post(
        "/admin/moderation/reportcase/",
        {"action": "suspend_entries", "_selected_action": [str(case.pk)]},
    )
    assertContains(asked, "Reason (required)")

    done = client.post(
        "/admin/moderation/reportcase/",
        {
            "action": "suspend_entries",
            "_selected_action": [str(case.pk)],
            "apply": "yes",
            "reason": "Impersonation.",
        },
    )
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "suspended"
    # A closed case offers no actions any more.
    assert "case-action-" not in client.get(url).content.decode()


def test_a_staff_member_without_a_role_sees_no_case_actions(entry, reporter, django_user_model):
    case = report_file(reporter=reporter, entry=entry, category="spam", reason="Spam.").case
    viewer = make_user(django_user_model, "vic", staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_reportcase"))

    page = admin_client_for(viewer).get(
        reverse("admin:moderation_reportcase_change", args=[case.pk])
    )

    assert page.status_code == 200
    assert "case-action-" not in page.content.decode()

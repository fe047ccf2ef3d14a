"""People's moderation pages: the report form on entry pages, the owner's notices and
the appeal form."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from directory.moderation.models import Appeal, Report, ReportCase
from directory.moderation.services import entry_suspend, report_dismiss, report_file

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_entry_page_links_signed_in_visitors_to_the_report_form(entry, reporter, owner):
    assertContains(_signed_in(reporter).get("/@kim"), "/moderation/report/@kim")
    assertNotContains(Client().get("/@kim"), "/moderation/report/")
    assertNotContains(_signed_in(owner).get("/@kim"), "/moderation/report/")


def test_an_anonymous_visitor_is_sent_to_sign_in(entry):
    response = Client().get("/moderation/report/@kim")

    assert response.status_code == 302
    assert "/account/" in response["Location"]


def test_it_files_a_report_about_an_endpoint(entry, reporter):
    client = _signed_in(reporter)
    sip = entry.endpoints.get(uri="sip:kim@example.org")
    form = client.get("/moderation/report/@kim")
    assertContains(form, f'value="endpoint-{sip.pk}"')

    response = client.post(
        "/moderation/report/@kim",
        {"target": f"endpoint-{sip.pk}", "category": "wrong_endpoint", "reason": "Not Kim's."},
        follow=True,
    )

    assertContains(response, "moderators will look at your report")
    report = Report.objects.get()
    assert (report.case.target_type, report.case.target_id) == ("endpoint", sip.pk)
    assert (report.reporter, report.reason) == (reporter, "Not Kim's.")


def test_a_report_without_a_reason_is_shown_again_and_saves_nothing(entry, reporter):
    response = _signed_in(reporter).post(
        "/moderation/report/@kim", {"target": "entry", "category": "spam", "reason": ""}
    )

    assert response.status_code == 400
    assertContains(response, "This field is required", status_code=400)
    assert not ReportCase.objects.exists()


def test_a_second_report_is_refused_with_a_conflict(entry, reporter):
    client = _signed_in(reporter)
    data = {"target": "entry", "category": "spam", "reason": "Spam."}
    client.post("/moderation/report/@kim", data)

    again = client.post("/moderation/report/@kim", data)

    assertContains(again, "already reported", status_code=409)
    assert Report.objects.count() == 1


def test_the_report_form_of_a_suspended_entry_is_a_missing_one(entry, reporter, moderator):
    entry_suspend(entry=entry, moderator=moderator, reason="Spam.")
    client = _signed_in(reporter)

    hidden = client.get("/moderation/report/@kim")
    missing = client.get("/moderation/report/@kix")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_the_owner_reads_what_happened_and_appeals_once(
    entry, owner, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = entry_suspend(entry=entry, moderator=moderator, reason="Looks like spam.")
    client = _signed_in(owner)

    page = client.get("/account/notices")
    assertContains(page, "Looks like spam.")
    assertContains(page, f"/account/notices/{action.pk}/appeal")

    filed = client.post(
        f"/account/notices/{action.pk}/appeal", {"statement": "It is my shop."}, follow=True
    )
    again = client.post(f"/account/notices/{action.pk}/appeal", {"statement": "Please."})

    assertContains(filed, "Your appeal was filed")
    assertContains(filed, "Your appeal: open")
    assertNotContains(filed, f"/account/notices/{action.pk}/appeal")
    assertContains(again, "appealed already", status_code=409)
    assert Appeal.objects.get().statement == "It is my shop."


def test_nobody_else_sees_or_appeals_an_owners_notice(entry, moderator, reporter):
    action = entry_suspend(entry=entry, moderator=moderator, reason="Spam.")
    client = _signed_in(reporter)

    assertNotContains(client.get("/account/notices"), "Spam.")
    refused = client.post(f"/account/notices/{action.pk}/appeal", {"statement": "Me!"})

    assert refused.status_code == 404
    assert not Appeal.objects.exists()


def test_an_empty_appeal_is_refused(entry, owner, moderator):
    action = entry_suspend(entry=entry, moderator=moderator, reason="Spam.")

    refused = _signed_in(owner).post(f"/account/notices/{action.pk}/appeal", {"statement": " "})

    assert refused.status_code == 400
    assert not Appeal.objects.exists()


def test_a_dismissed_report_sends_the_owner_no_notice(entry, owner, reporter, moderator):
    case = report_file(reporter=reporter, entry=entry, category="spam", reason="Spam.").case
    report_dismiss(case=case, moderator=moderator, reason="Fine.")

    assertContains(_signed_in(owner).get("/account/notices"), "No moderator has acted")


def test_the_account_page_links_to_the_notices(owner):
    assertContains(_signed_in(owner).get("/account/"), "/account/notices")


def test_erasing_an_account_empties_the_moderation_snapshots_about_it(entry, owner, moderator):
    from accounts.data_rights import account_delete
    from accounts.models import AuditEvent

    entry_suspend(entry=entry, moderator=moderator, reason="Spam.")

    account_delete(user=owner, password="kim-pw-1")

    event = AuditEvent.objects.get(action="entry_suspended")
    assert (event.user, event.before, event.after, event.data) == (None, None, None, {})
    assert (event.actor, event.reason) == (moderator, "Spam.")

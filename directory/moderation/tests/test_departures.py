"""A suspension cannot be shed by deleting the entry and registering its handle again, and
the moderation record outlives a deleted entry."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.data_rights import account_delete
from directory.exceptions import HandleTaken
from directory.models import Entry
from directory.moderation.models import Appeal, QueueStatus, Report, ReportCase, ReservedName
from directory.moderation.services import appeal_file, entry_suspend, report_file
from directory.services import entry_create, entry_delete

pytestmark = pytest.mark.django_db


def _suspend_with_report_and_appeal(entry, reporter, moderator, owner):
    report_file(reporter=reporter, entry=entry, category="spam", reason="Sells things.")
    report_file(
        reporter=reporter,
        entry=entry,
        category="spam",
        reason="Spam address.",
        endpoint=entry.endpoints.get(uri="mailto:kim@example.org"),
    )
    action = entry_suspend(entry=entry, moderator=moderator, reason="Spam.")
    return appeal_file(action=action, user=owner, statement="It is my real name.")


def test_the_owner_cannot_delete_a_suspended_entry(entry, reporter, moderator, owner):
    _suspend_with_report_and_appeal(entry, reporter, moderator, owner)
    client = Client()
    client.force_login(owner)

    response = client.delete("/api/v1/entries/kim")

    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/entry-suspended")
    assert "appeal" in body["detail"]
    assert Entry.objects.filter(pk=entry.pk).exists()
    assert ReportCase.objects.filter(entry=entry).count() == 2


def test_an_active_entry_may_still_be_deleted_by_its_owner(entry, owner):
    client = Client()
    client.force_login(owner)

    assert client.delete("/api/v1/entries/kim").status_code == 204
    assert not ReservedName.objects.exists()


def test_erasing_the_account_of_a_suspended_entry_keeps_the_handle_and_the_record(
    entry, reporter, moderator, owner
):
    appeal = _suspend_with_report_and_appeal(entry, reporter, moderator, owner)
    owner.set_password("pw-of-kim-123")
    owner.save()

    account_delete(user=owner, password="pw-of-kim-123")

    reserved = ReservedName.objects.get(name="kim")
    assert "suspended" in reserved.note
    case = ReportCase.objects.get(target_type="entry")
    assert case.entry is None
    assert case.status == QueueStatus.ACTIONED
    assert case.target_label == "@kim (account erased)"
    assert Report.objects.filter(case=case).count() == 1
    endpoint_case = ReportCase.objects.get(target_type="endpoint")
    assert "kim@example.org" not in endpoint_case.target_label
    # The appeal went with the erased account; nothing open is left behind.
    assert not Appeal.objects.filter(pk=appeal.pk, status=Appeal.Status.OPEN).exists()
    with pytest.raises(HandleTaken, match="reserved"):
        entry_create(nickname="Kim Lindqvist", handle="kim", owner=reporter)


def test_an_operator_deleting_a_suspended_entry_closes_its_appeals(
    entry, reporter, moderator, owner
):
    appeal = _suspend_with_report_and_appeal(entry, reporter, moderator, owner)

    entry_delete(entry=entry, allow_suspended=True)

    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.WITHDRAWN
    assert appeal.decided_at is not None
    assert ReportCase.objects.get(target_type="entry").report_count == 1
    assert list(ReservedName.objects.values_list("name", flat=True)) == ["kim"]
    with pytest.raises(HandleTaken, match="reserved"):
        entry_create(nickname="Kim", handle="KIM", owner=owner)

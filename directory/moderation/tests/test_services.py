"""Reports, moderator actions, notices and appeals through the moderation services."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent
from directory.exceptions import ConflictError, Forbidden, HandleTaken, WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.exceptions import TooManyReports
from directory.moderation.models import (
    Appeal,
    ImpersonationSuspect,
    ModerationAction,
    OwnerNotice,
    QueueStatus,
    ReportCase,
    ReservedName,
)
from directory.moderation.services import (
    appeal_decide,
    appeal_file,
    endpoint_hide,
    entry_restore,
    entry_suspend,
    handle_reserve,
    report_dismiss,
    report_file,
    suspect_dismiss,
    verification_revoke,
)
from directory.services import entry_create, entry_update

pytestmark = pytest.mark.django_db


def _report(reporter, entry, **kwargs):
    kwargs.setdefault("category", "spam")
    kwargs.setdefault("reason", "Sells things in the nickname.")
    return report_file(reporter=reporter, entry=entry, **kwargs)


# --------------------------------------------------------------------------------------
# Reports


def test_it_groups_reports_about_the_same_entry_in_one_case(entry, reporter, second_reporter):
    first = _report(reporter, entry)
    second = _report(second_reporter, entry, category="impersonation", reason="Not Kim.")

    assert first.case_id == second.case_id
    case = ReportCase.objects.get()
    assert (case.target_type, case.target_id, case.report_count) == ("entry", entry.pk, 2)
    assert case.target_label == "@kim"


def test_it_keeps_a_case_per_target(entry, reporter, second_reporter):
    sip = entry.endpoints.get(uri="sip:kim@example.org")
    github = entry.handles.get(kind="github")

    on_entry = _report(reporter, entry)
    on_endpoint = _report(reporter, entry, endpoint=sip, category="wrong_endpoint")
    on_handle = _report(second_reporter, entry, handle=github, category="impersonation")

    assert len({on_entry.case_id, on_endpoint.case_id, on_handle.case_id}) == 3
    assert on_endpoint.case.target_label == "sip:kim@example.org"
    assert on_handle.case.target_label == "github:kim-l"


def test_it_opens_a_new_case_once_the_old_one_is_closed(
    entry, reporter, second_reporter, moderator
):
    first = _report(reporter, entry)
    report_dismiss(case=first.case, moderator=moderator, reason="Not spam.")

    second = _report(second_reporter, entry)

    assert second.case_id != first.case_id
    assert second.case.status == "open"


def test_it_refuses_a_second_report_of_one_person_on_one_case(entry, reporter):
    _report(reporter, entry)

    with pytest.raises(ConflictError):
        _report(reporter, entry, reason="Again.")
    assert ReportCase.objects.get().report_count == 1


def test_it_limits_reports_per_person_per_day(settings, owner, reporter, django_user_model):
    settings.MODERATION_REPORTS_PER_DAY = 2
    entries = [entry_create(nickname=f"N{n}", handle=f"n{n}", owner=owner) for n in range(3)]
    _report(reporter, entries[0])
    _report(reporter, entries[1])

    with pytest.raises(TooManyReports) as refused:
        _report(reporter, entries[2])

    assert refused.value.status == 429
    assert ReportCase.objects.count() == 2
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert _report(reporter, entries[2]).case.entry == entries[2]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"reason": "  \u200b "}, WorldbookError),
        ({"reason": "x" * 2001}, WorldbookError),
        ({"category": "bad-vibes"}, WorldbookError),
    ],
)
def test_it_refuses_a_report_without_a_reason_or_category(entry, reporter, changes, error):
    with pytest.raises(error):
        _report(reporter, entry, **changes)
    assert not ReportCase.objects.exists()


def test_it_refuses_reports_of_ones_own_entry_and_anonymous_ones(entry, owner):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Forbidden):
        _report(owner, entry)
    with pytest.raises(Forbidden):
        _report(AnonymousUser(), entry)


def test_it_refuses_a_handle_of_another_entry(entry, reporter, owner):
    other = entry_create(nickname="Other", handle="other", owner=owner)

    with pytest.raises(WorldbookError):
        _report(reporter, other, handle=entry.handles.first())


def test_phone_numbers_in_reasons_are_redacted(entry, reporter, moderator, settings):
    settings.DEFAULT_PHONE_REGION = "US"
    report = _report(reporter, entry, reason="He called me from (415) 555-0123.")

    entry_suspend(entry=entry, moderator=moderator, reason="Confirmed by +41 44 668 18 00.")

    assert report.reason == "He called me from [phone number]."
    event = AuditEvent.objects.get(action="entry_suspended")
    assert event.reason == "Confirmed by [phone number]."
    assert ModerationAction.objects.get().reason == "Confirmed by [phone number]."


def test_a_report_leaves_an_audit_event_without_the_reason(entry, reporter):
    _report(reporter, entry, reason="Call me on +1 555 555 0100 instead")

    event = AuditEvent.objects.get(action="report_filed")
    assert event.user == reporter
    assert (event.target_type, event.target_id) == ("entry", str(entry.pk))
    assert "555" not in str(event.data) + event.reason


# --------------------------------------------------------------------------------------
# Actions


def test_it_suspends_with_a_reason_and_records_who_what_when_why(entry, reporter, moderator, owner):
    _report(reporter, entry)

    action = entry_suspend(entry=entry, moderator=moderator, reason="Spam listing.")

    entry.refresh_from_db()
    assert entry.status == "suspended"
    assert ReportCase.objects.get().status == "actioned"
    event = AuditEvent.objects.get(action="entry_suspended")
    assert (event.actor, event.user, event.reason) == (moderator, owner, "Spam listing.")
    assert (event.target_type, event.target_id) == ("entry", str(entry.pk))
    assert event.before["status"] == "active" and event.after["status"] == "suspended"
    assert event.data["moderation_action"] == action.pk


def test_suspending_twice_does_nothing_the_second_time(entry, moderator):
    entry_suspend(entry=entry, moderator=moderator, reason="Spam.")

    assert entry_suspend(entry=entry, moderator=moderator, reason="Spam.") is None
    assert ModerationAction.objects.filter(kind="suspend").count() == 1


@pytest.mark.parametrize("reason", ["", "   ", "\u200b"])
def test_every_action_needs_a_reason(entry, moderator, reason):
    with pytest.raises(WorldbookError):
        entry_suspend(entry=entry, moderator=moderator, reason=reason)

    entry.refresh_from_db()
    assert entry.status == "active"
    assert not AuditEvent.objects.filter(action="entry_suspended").exists()


def test_only_a_senior_moderator_restores(entry, moderator, senior):
    entry_suspend(entry=entry, moderator=moderator, reason="Spam.")

    with pytest.raises(Forbidden):
        entry_restore(entry=entry, moderator=moderator, reason="Changed my mind.")
    entry.refresh_from_db()
    assert entry.status == "suspended"

    entry_restore(entry=entry, moderator=senior, reason="The owner fixed the listing.")
    entry.refresh_from_db()
    assert entry.status == "active"
    assert AuditEvent.objects.get(action="entry_restored").actor == senior


def test_someone_without_the_role_cannot_act(entry, reporter):
    with pytest.raises(Forbidden):
        entry_suspend(entry=entry, moderator=reporter, reason="I do not like it.")


def test_it_revokes_a_verification(entry, moderator):
    github = entry.handles.get(kind="github")

    verification_revoke(handle=github, moderator=moderator, reason="Proof was a screenshot.")

    github.refresh_from_db()
    assert github.status == Handle.Status.REVOKED
    event = AuditEvent.objects.get(action="verification_revoked")
    assert (event.before["status"], event.after["status"]) == ("verified", "revoked")


def test_it_hides_an_endpoint_from_everyone_but_the_owner(entry, moderator, client):
    sip = entry.endpoints.get(uri="sip:kim@example.org")

    endpoint_hide(endpoint=sip, moderator=moderator, reason="Reaches someone else.")

    sip.refresh_from_db()
    assert sip.audience == Endpoint.Audience.NOBODY
    event = AuditEvent.objects.get(action="endpoint_hidden")
    assert (event.before["audience"], event.after["audience"]) == ("everyone", "nobody")
    assert "sip:kim" not in client.get("/@kim").content.decode()


def test_an_audit_event_never_holds_a_phone_number(entry, moderator):
    from directory.services import endpoint_add, handle_add, handle_mark_verified

    tel = endpoint_add(entry=entry, uri="tel:+1-555-555-0199", label="mobile")
    whatsapp = handle_mark_verified(
        handle=handle_add(entry=entry, kind="whatsapp", raw="+15555550199")
    )

    endpoint_hide(endpoint=tel, moderator=moderator, reason="Wrong person.")
    verification_revoke(handle=whatsapp, moderator=moderator, reason="Wrong person.")

    for event in AuditEvent.objects.all():
        text = f"{event.data} {event.before} {event.after} {event.reason} {event.target_id}"
        assert "5550199" not in text.replace("-", "")
    for action in ModerationAction.objects.all():
        assert "5550199" not in action.target_label.replace("-", "")


def test_a_senior_reserves_a_handle_and_its_look_alikes(owner, moderator, senior):
    with pytest.raises(Forbidden):
        handle_reserve(name="ceo", moderator=moderator, reason="Our chief.")

    handle_reserve(name="ceo", moderator=senior, reason="Our chief executive.")

    for taken in ("ceo", "CEO", "ce0"):  # 0 is o in the UTS #39 skeleton
        with pytest.raises(HandleTaken, match="reserved"):
            entry_create(nickname="Chief", handle=taken, owner=owner)
    kim = entry_create(nickname="Kim", handle="kim", owner=owner)
    with pytest.raises(HandleTaken, match="reserved"):
        entry_update(entry=kim, handle="ceo")
    with pytest.raises(ConflictError):
        handle_reserve(name="CEO", moderator=senior, reason="Again.")
    assert ReservedName.objects.get().note == "Our chief executive."
    assert AuditEvent.objects.get(action="handle_reserved").after == {"name": "ceo"}


def test_dismissing_closes_the_case_and_tells_nobody(entry, reporter, moderator):
    case = _report(reporter, entry).case

    report_dismiss(case=case, moderator=moderator, reason="Not spam.")

    case.refresh_from_db()
    assert (case.status, case.closed_by) == ("dismissed", moderator)
    assert not OwnerNotice.objects.exists()
    assert AuditEvent.objects.get(action="report_dismissed").reason == "Not spam."
    assert report_dismiss(case=case, moderator=moderator, reason="Twice.") is None


def test_dismissing_a_suspect(entry, moderator, django_user_model):
    other = entry_create(nickname="Kim Lindqvist", handle="kim2", owner=None)
    suspect = ImpersonationSuspect.objects.create(
        entry=other,
        resembles=entry,
        field="nickname",
        suspect_value="Kim Lindqvist",
        resembled_value="Kim Lindqvist",
        distance=0,
    )

    suspect_dismiss(suspect=suspect, moderator=moderator, reason="A namesake.")

    suspect.refresh_from_db()
    assert suspect.status == QueueStatus.DISMISSED
    assert AuditEvent.objects.get(action="suspect_dismissed").reason == "A namesake."


# --------------------------------------------------------------------------------------
# Notices and appeals


def test_the_owner_is_told_what_happened_and_why(
    entry, moderator, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry_suspend(entry=entry, moderator=moderator, reason="Sells followers.")

    notice = OwnerNotice.objects.get(recipient=owner)
    assert "Sells followers." in notice.body
    assert notice.emailed_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert "Sells followers." in message.body
    assert "https://worldbook.example/account/notices" in message.body


def test_the_owner_may_appeal_once(entry, moderator, owner, reporter):
    action = entry_suspend(entry=entry, moderator=moderator, reason="Spam.")

    with pytest.raises(Forbidden):
        appeal_file(action=action, user=reporter, statement="Let Kim back.")
    appeal = appeal_file(action=action, user=owner, statement="It is my real name.")
    with pytest.raises(ConflictError):
        appeal_file(action=action, user=owner, statement="Please!")

    assert appeal.status == "open"
    assert Appeal.objects.count() == 1


def test_a_dismissal_cannot_be_appealed(entry, reporter, moderator, owner):
    case = _report(reporter, entry).case
    action = report_dismiss(case=case, moderator=moderator, reason="Fine.")

    with pytest.raises(Forbidden):
        appeal_file(action=action, user=owner, statement="?")


def test_granting_an_appeal_undoes_the_action(entry, moderator, senior, owner):
    sip = entry.endpoints.get(uri="sip:kim@example.org")
    suspension = entry_suspend(entry=entry, moderator=moderator, reason="Spam.")
    hiding = endpoint_hide(endpoint=sip, moderator=moderator, reason="Wrong person.")
    revocation = verification_revoke(
        handle=entry.handles.get(kind="github"), moderator=moderator, reason="Bad proof."
    )
    appeals = [
        appeal_file(action=a, user=owner, statement="Mistake.")
        for a in (suspension, hiding, revocation)
    ]

    with pytest.raises(Forbidden):
        appeal_decide(appeal=appeals[0], moderator=moderator, grant=True, reason="Ok.")
    for appeal in appeals:
        appeal_decide(appeal=appeal, moderator=senior, grant=True, reason="Our mistake.")

    entry.refresh_from_db()
    sip.refresh_from_db()
    assert entry.status == "active"
    assert sip.audience == "everyone"
    assert entry.handles.get(kind="github").status == "verified"
    assert AuditEvent.objects.filter(action="appeal_granted").count() == 3
    with pytest.raises(ConflictError):
        appeal_decide(appeal=appeals[0], moderator=senior, grant=False, reason="Again.")


def test_denying_an_appeal_keeps_the_action_and_tells_the_owner(entry, moderator, senior, owner):
    action = entry_suspend(entry=entry, moderator=moderator, reason="Spam.")
    appeal = appeal_file(action=action, user=owner, statement="Mistake.")

    appeal_decide(appeal=appeal, moderator=senior, grant=False, reason="Still spam.")

    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUSPENDED
    notice = OwnerNotice.objects.filter(recipient=owner).first()
    assert "denied" in notice.subject and "Still spam." in notice.body


def test_the_owner_cannot_reopen_a_hidden_endpoint_until_an_appeal_is_granted(
    entry, moderator, senior, owner
):
    from accounts.contact_policy import policy_update
    from directory.services import endpoint_update

    sip = entry.endpoints.get(uri="sip:kim@example.org")
    action = endpoint_hide(endpoint=sip, moderator=moderator, reason="Reaches someone else.")
    sip.refresh_from_db()  # as the owner's next request reads it

    with pytest.raises(Forbidden, match="moderator hid"):
        endpoint_update(endpoint=sip, audience="everyone")
    with pytest.raises(Forbidden):
        policy_update(entry=entry, user=owner, audiences={sip.pk: "signed_in"})
    endpoint_update(endpoint=sip, label="desk")  # other changes stay allowed
    sip.refresh_from_db()
    assert (sip.audience, sip.label) == ("nobody", "desk")

    appeal = appeal_file(action=action, user=owner, statement="It is my desk phone.")
    appeal_decide(appeal=appeal, moderator=senior, grant=True, reason="Checked.")
    sip.refresh_from_db()
    assert sip.audience == "everyone"
    endpoint_update(endpoint=sip, audience="signed_in")
    sip.refresh_from_db()
    assert sip.audience == "signed_in"

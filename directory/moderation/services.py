"""Writes of the moderation console: reports, moderator actions, appeals, notices.

Every moderator action is atomic, needs a reason and the moderator's Django permission
(``moderation.<codename>``, see :class:`ModerationAction.Meta.permissions`), goes through
:mod:`directory.services` (so every surface and, after commit, the search index follow),
writes a :class:`ModerationAction` and an append-only :class:`accounts.models.AuditEvent`
(who, what, when, why, before and after), and tells the entry's owner.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.exceptions import ConflictError, Forbidden, NormalizationError, WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.exceptions import TooManyReports
from directory.moderation.models import (
    Appeal,
    ImpersonationSuspect,
    ModerationAction,
    OwnerNotice,
    QueueStatus,
    Report,
    ReportCase,
    ReservedName,
    TargetType,
)
from directory.normalization import clean_display, normalize_directory_handle
from directory.services import (
    endpoint_update,
    entry_set_status,
    handle_mark_verified,
    handle_revoke,
)

REASON_MAX = 2000
Kind = ModerationAction.Kind


def _clean_text(text: str | None, what: str, limit: int = REASON_MAX) -> str:
    cleaned = clean_display(text or "")
    if not cleaned:
        raise WorldbookError(f"{what} is required.", errors={"reason": [f"{what} is required."]})
    if len(cleaned) > limit:
        raise WorldbookError(
            f"{what} has at most {limit} characters.",
            errors={"reason": [f"{what} has at most {limit} characters."]},
        )
    return cleaned


def _require(moderator, codename: str) -> None:
    if moderator is None or not moderator.has_perm(f"moderation.{codename}"):
        raise Forbidden(f"This action needs the permission moderation.{codename}.")


# --------------------------------------------------------------------------------------
# Snapshots: what the audit trail keeps of a target (never a phone number in clear)


def entry_snapshot(entry: Entry) -> dict[str, Any]:
    """The moderated fields of an entry: ``{"handle", "nickname", "status", "discoverable"}``."""
    return {
        "handle": entry.handle,
        "nickname": entry.nickname,
        "status": entry.status,
        "discoverable": entry.discoverable,
    }


def handle_snapshot(handle: Handle) -> dict[str, Any]:
    """``{"kind", "status", "verified_at"}`` of a handle. The value is left out: a
    WhatsApp or Signal handle is a phone number."""
    return {
        "kind": handle.kind,
        "status": handle.status,
        "verified_at": handle.verified_at.isoformat() if handle.verified_at else None,
    }


def endpoint_snapshot(endpoint: Endpoint) -> dict[str, Any]:
    """``{"scheme", "service", "audience"}`` of an endpoint; the URI is left out, since a
    ``tel:`` URI is a phone number."""
    return {
        "scheme": endpoint.scheme,
        "service": endpoint.service,
        "audience": endpoint.audience,
    }


def handle_label(handle: Handle) -> str:
    """How a handle is named to moderators and owners: ``github:alice``, or only its
    kind for a phone-number handle (``whatsapp number``)."""
    if handle.canonical.startswith("+"):
        return f"{handle.kind} number of @{handle.entry.handle}"
    return f"{handle.kind}:{handle.canonical}"


def endpoint_label(endpoint: Endpoint) -> str:
    """How an endpoint is named to moderators and owners; a ``tel:`` endpoint by its
    label, never its number."""
    if endpoint.scheme == "tel":
        return f"phone endpoint {endpoint.label or endpoint.pk} of @{endpoint.entry.handle}"
    return endpoint.uri


# --------------------------------------------------------------------------------------
# Reports


def _reports_today(reporter) -> int:
    since = timezone.now() - timedelta(days=1)
    return Report.objects.filter(reporter=reporter, created_at__gte=since).count()


@transaction.atomic
def report_file(
    *,
    reporter,
    entry: Entry,
    category: str,
    reason: str,
    handle: Handle | None = None,
    endpoint: Endpoint | None = None,
    request=None,
) -> Report:
    """File a signed-in person's report about ``entry`` (or one of its handles or
    endpoints) and group it with the open reports about the same target.

    Inputs: ``reporter`` (a signed-in user), ``entry``, ``category`` (a
    :class:`Report.Category` value), ``reason`` (1–2000 visible characters), optionally
    ``handle`` or ``endpoint`` of ``entry``. Output: the saved :class:`Report`, its
    ``case`` the open :class:`ReportCase` of the target (opened if there was none).

    Raises :class:`Forbidden` for an anonymous reporter or the entry's own owner,
    :class:`WorldbookError` for a bad category or reason or a handle/endpoint of another
    entry, :class:`TooManyReports` (429) past ``MODERATION_REPORTS_PER_DAY`` reports in 24
    hours, :class:`ConflictError` when the reporter already reported this open case.
    """
    if reporter is None or not reporter.is_authenticated:
        raise Forbidden("Sign in to report an entry.")
    if entry.owner_id == reporter.pk:
        raise Forbidden("You cannot report your own entry.")
    if category not in Report.Category.values:
        raise WorldbookError(
            f"{category!r} is not a report category ({', '.join(Report.Category.values)}).",
            errors={"category": ["Choose a category."]},
        )
    reason = _clean_text(reason, "A reason")
    if handle is not None and endpoint is not None:
        raise WorldbookError("Report a handle or an endpoint, not both.")
    if handle is not None:
        if handle.entry_id != entry.pk:
            raise WorldbookError("That handle is not one of this entry's.")
        target = (TargetType.HANDLE, handle.pk, handle_label(handle))
    elif endpoint is not None:
        if endpoint.entry_id != entry.pk:
            raise WorldbookError("That endpoint is not one of this entry's.")
        target = (TargetType.ENDPOINT, endpoint.pk, endpoint_label(endpoint))
    else:
        target = (TargetType.ENTRY, entry.pk, entry.at_handle)
    if _reports_today(reporter) >= settings.MODERATION_REPORTS_PER_DAY:
        raise TooManyReports(
            f"You filed {settings.MODERATION_REPORTS_PER_DAY} reports in the last 24 hours; "
            "please wait before filing another."
        )
    target_type, target_id, label = target
    case = _open_case(entry, target_type, target_id, label)
    report = Report(case=case, reporter=reporter, category=category, reason=reason)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        raise ConflictError("You have already reported this; moderators will look at it.") from None
    ReportCase.objects.filter(pk=case.pk).update(
        report_count=F("report_count") + 1, last_reported_at=report.created_at
    )
    audit_record(
        action=AuditEvent.Action.REPORT_FILED,
        user=reporter,
        request=request,
        target=(target_type, target_id),
        category=category,
        case=case.pk,
    )
    return report


def _open_case(entry: Entry, target_type: str, target_id: int, label: str) -> ReportCase:
    for _attempt in range(2):
        case = ReportCase.objects.filter(
            target_type=target_type, target_id=target_id, status=QueueStatus.OPEN
        ).first()
        if case is not None:
            return case
        try:
            with transaction.atomic():
                return ReportCase.objects.create(
                    target_type=target_type, target_id=target_id, entry=entry, target_label=label
                )
        except IntegrityError:
            continue  # another report opened the case meanwhile: join it
    raise ConflictError("The report could not be filed; please try again.")


# --------------------------------------------------------------------------------------
# Moderator actions


def _record(
    *,
    kind: str,
    audit_action: str,
    moderator,
    reason: str,
    entry: Entry | None,
    target_type: str,
    target_id: int | None,
    label: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> ModerationAction:
    action = ModerationAction.objects.create(
        kind=kind,
        moderator=moderator,
        reason=reason,
        entry=entry,
        target_type=target_type,
        target_id=target_id,
        target_label=label[:300],
        before=before,
        after=after,
    )
    audit_record(
        action=audit_action,
        user=entry.owner if entry is not None else None,
        actor=moderator,
        reason=reason,
        target=(target_type, target_id if target_id is not None else ""),
        before=before,
        after=after,
        moderation_action=action.pk,
    )
    if entry is not None and entry.owner_id is not None and kind != Kind.DISMISS_REPORT:
        notice_send(action=action, recipient=entry.owner)
    return action


def _close_queues(*, entry: Entry, moderator, target_type: str, target_id: int) -> None:
    """Close the open report cases about the target (and about the entry, when the whole
    entry was acted on) and the entry's open impersonation suspects, as actioned."""
    now = timezone.now()
    closed = {"status": QueueStatus.ACTIONED, "closed_at": now, "closed_by": moderator}
    cases = ReportCase.objects.filter(status=QueueStatus.OPEN)
    if target_type == TargetType.ENTRY:
        cases.filter(entry=entry).update(**closed)
        ImpersonationSuspect.objects.filter(entry=entry, status=QueueStatus.OPEN).update(**closed)
    else:
        cases.filter(target_type=target_type, target_id=target_id).update(**closed)


@transaction.atomic
def entry_suspend(*, entry: Entry, moderator, reason: str) -> ModerationAction | None:
    """Suspend ``entry``: hidden from resolve, search, its page, vCard and WebFinger as
    soon as the transaction commits; the search index drops it through
    ``search.sync_entry``.

    Inputs: the entry, the acting ``moderator`` (needs ``moderation.suspend_entry``) and
    ``reason``. Output: the :class:`ModerationAction`, or ``None`` when the entry was
    suspended already. Closes the entry's open reports and suspects. Raises
    :class:`Forbidden` without the permission, :class:`WorldbookError` without a reason.
    """
    _require(moderator, "suspend_entry")
    reason = _clean_text(reason, "A reason")
    entry = Entry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if entry.status == Entry.Status.SUSPENDED:
        return None
    before = entry_snapshot(entry)
    entry_set_status(entry=entry, status=Entry.Status.SUSPENDED)
    _close_queues(
        entry=entry, moderator=moderator, target_type=TargetType.ENTRY, target_id=entry.pk
    )
    return _record(
        kind=Kind.SUSPEND,
        audit_action=AuditEvent.Action.ENTRY_SUSPENDED,
        moderator=moderator,
        reason=reason,
        entry=entry,
        target_type=TargetType.ENTRY,
        target_id=entry.pk,
        label=entry.at_handle,
        before=before,
        after=entry_snapshot(entry),
    )


@transaction.atomic
def entry_restore(*, entry: Entry, moderator, reason: str) -> ModerationAction | None:
    """Make a suspended ``entry`` active again (a senior moderator's action:
    ``moderation.restore_entry``). Output: the action, or ``None`` when it was active.
    Raises as :func:`entry_suspend` does."""
    _require(moderator, "restore_entry")
    reason = _clean_text(reason, "A reason")
    entry = Entry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if entry.status == Entry.Status.ACTIVE:
        return None
    before = entry_snapshot(entry)
    entry_set_status(entry=entry, status=Entry.Status.ACTIVE)
    return _record(
        kind=Kind.RESTORE,
        audit_action=AuditEvent.Action.ENTRY_RESTORED,
        moderator=moderator,
        reason=reason,
        entry=entry,
        target_type=TargetType.ENTRY,
        target_id=entry.pk,
        label=entry.at_handle,
        before=before,
        after=entry_snapshot(entry),
    )


@transaction.atomic
def verification_revoke(*, handle: Handle, moderator, reason: str) -> ModerationAction | None:
    """Withdraw ``handle``'s verification (``moderation.revoke_verification``): it stops
    answering lookups at once and leaves the index after commit. Output: the action, or
    ``None`` when the handle was revoked already. Raises as :func:`entry_suspend` does."""
    _require(moderator, "revoke_verification")
    reason = _clean_text(reason, "A reason")
    handle = (
        Handle.objects.select_for_update(of=("self",))
        .select_related("entry__owner")
        .get(pk=handle.pk)
    )
    if handle.status == Handle.Status.REVOKED:
        return None
    before = handle_snapshot(handle)
    handle_revoke(handle=handle)
    _close_queues(
        entry=handle.entry, moderator=moderator, target_type=TargetType.HANDLE, target_id=handle.pk
    )
    return _record(
        kind=Kind.REVOKE_VERIFICATION,
        audit_action=AuditEvent.Action.VERIFICATION_REVOKED,
        moderator=moderator,
        reason=reason,
        entry=handle.entry,
        target_type=TargetType.HANDLE,
        target_id=handle.pk,
        label=handle_label(handle),
        before=before,
        after=handle_snapshot(handle),
    )


@transaction.atomic
def endpoint_hide(*, endpoint: Endpoint, moderator, reason: str) -> ModerationAction | None:
    """Hide ``endpoint`` from everyone but its owner (audience ``nobody``;
    ``moderation.hide_endpoint``). Output: the action, or ``None`` when it was hidden
    already. Raises as :func:`entry_suspend` does."""
    _require(moderator, "hide_endpoint")
    reason = _clean_text(reason, "A reason")
    endpoint = (
        Endpoint.objects.select_for_update(of=("self",))
        .select_related("entry__owner")
        .get(pk=endpoint.pk)
    )
    if endpoint.audience == Endpoint.Audience.NOBODY:
        return None
    before = endpoint_snapshot(endpoint)
    endpoint_update(endpoint=endpoint, audience=Endpoint.Audience.NOBODY)
    _close_queues(
        entry=endpoint.entry,
        moderator=moderator,
        target_type=TargetType.ENDPOINT,
        target_id=endpoint.pk,
    )
    return _record(
        kind=Kind.HIDE_ENDPOINT,
        audit_action=AuditEvent.Action.ENDPOINT_HIDDEN,
        moderator=moderator,
        reason=reason,
        entry=endpoint.entry,
        target_type=TargetType.ENDPOINT,
        target_id=endpoint.pk,
        label=endpoint_label(endpoint),
        before=before,
        after=endpoint_snapshot(endpoint),
    )


@transaction.atomic
def handle_reserve(*, name: str, moderator, reason: str) -> ModerationAction:
    """Reserve the directory handle ``name`` (and its look-alikes) so that no entry can
    take it from now on (``moderation.reserve_handle``, a senior moderator's).

    An entry that holds the name already keeps it. Output: the action. Raises
    :class:`NormalizationError` for a name that is not a valid handle,
    :class:`ConflictError` when it (or a look-alike) is reserved already, and as
    :func:`entry_suspend` does.
    """
    _require(moderator, "reserve_handle")
    reason = _clean_text(reason, "A reason")
    wanted = normalize_directory_handle(name)
    reserved = ReservedName(
        name=wanted.display, skeleton=wanted.skeleton, note=reason, added_by=moderator
    )
    try:
        with transaction.atomic():
            reserved.save()
    except IntegrityError:
        raise ConflictError(f"@{wanted.display} (or a look-alike) is reserved already.") from None
    return _record(
        kind=Kind.RESERVE_HANDLE,
        audit_action=AuditEvent.Action.HANDLE_RESERVED,
        moderator=moderator,
        reason=reason,
        entry=None,
        target_type="",
        target_id=None,
        label=f"@{wanted.display}",
        before=None,
        after={"name": wanted.display},
    )


@transaction.atomic
def report_dismiss(*, case: ReportCase, moderator, reason: str) -> ModerationAction | None:
    """Close an open report case without acting on its target
    (``moderation.dismiss_report``). Output: the action, or ``None`` when the case was
    closed already. The owner is not told (nothing happened to the entry)."""
    _require(moderator, "dismiss_report")
    reason = _clean_text(reason, "A reason")
    closed = ReportCase.objects.filter(pk=case.pk, status=QueueStatus.OPEN).update(
        status=QueueStatus.DISMISSED, closed_at=timezone.now(), closed_by=moderator
    )
    if not closed:
        return None
    return _record(
        kind=Kind.DISMISS_REPORT,
        audit_action=AuditEvent.Action.REPORT_DISMISSED,
        moderator=moderator,
        reason=reason,
        entry=case.entry,
        target_type=case.target_type,
        target_id=case.target_id,
        label=case.target_label,
        before={"status": QueueStatus.OPEN, "reports": case.report_count},
        after={"status": QueueStatus.DISMISSED, "reports": case.report_count},
    )


@transaction.atomic
def suspect_dismiss(
    *, suspect: ImpersonationSuspect, moderator, reason: str
) -> ModerationAction | None:
    """Close an open impersonation suspect as a false alarm (``moderation.dismiss_report``).
    Output: the action, or ``None`` when it was closed already."""
    _require(moderator, "dismiss_report")
    reason = _clean_text(reason, "A reason")
    closed = ImpersonationSuspect.objects.filter(pk=suspect.pk, status=QueueStatus.OPEN).update(
        status=QueueStatus.DISMISSED, closed_at=timezone.now(), closed_by=moderator
    )
    if not closed:
        return None
    action = ModerationAction.objects.create(
        kind=Kind.DISMISS_SUSPECT,
        moderator=moderator,
        reason=reason,
        entry=suspect.entry,
        target_type=TargetType.ENTRY,
        target_id=suspect.entry_id,
        target_label=str(suspect)[:300],
        before={"status": QueueStatus.OPEN},
        after={"status": QueueStatus.DISMISSED},
    )
    audit_record(
        action=AuditEvent.Action.SUSPECT_DISMISSED,
        user=suspect.entry.owner,
        actor=moderator,
        reason=reason,
        target=(TargetType.ENTRY, suspect.entry_id),
        before=action.before,
        after=action.after,
        moderation_action=action.pk,
        suspect=suspect.pk,
    )
    return action


# --------------------------------------------------------------------------------------
# Owner notices and appeals


def notice_send(*, action: ModerationAction, recipient) -> OwnerNotice:
    """Tell ``recipient`` (the entry's owner) about ``action``: a notice on their notices
    page now, and an email (``moderation.send_notice``) once the transaction commits.

    Output: the saved :class:`OwnerNotice`.
    """
    subject = f"Worldbook moderation: {action.get_kind_display().lower()} ({action.target_label})"
    return _notice(recipient, action, subject, "moderation/email/notice.txt", {})


def _notice(
    recipient, action: ModerationAction, subject: str, template: str, context
) -> OwnerNotice:
    from directory.moderation.tasks import send_notice

    context = {
        **context,
        "action": action,
        "notices_url": settings.SITE_URL + reverse("moderation:notices"),
    }
    notice = OwnerNotice.objects.create(
        recipient=recipient,
        action=action,
        subject=subject[:200],
        body=render_to_string(template, context),
    )
    send_notice.delay_on_commit(notice.pk)
    return notice


@transaction.atomic
def appeal_file(*, action: ModerationAction, user, statement: str) -> Appeal:
    """Appeal ``action`` as the owner of the entry it was taken against; once per action.

    Inputs: the action, the signed-in ``user``, ``statement`` (1–4000 characters).
    Output: the open :class:`Appeal`. Raises :class:`Forbidden` when ``user`` does not own
    the entry or the action cannot be appealed (dismissals, reservations, restorations),
    :class:`ConflictError` when it was appealed already, :class:`WorldbookError` for an
    empty statement.
    """
    entry = action.entry
    if entry is None or user is None or entry.owner_id != getattr(user, "pk", None):
        raise Forbidden("Only the owner of the entry may appeal this action.")
    if not action.appealable:
        raise Forbidden("This action cannot be appealed.")
    statement = _clean_text(statement, "A statement", limit=4000)
    appeal = Appeal(action=action, appellant=user, statement=statement)
    try:
        with transaction.atomic():
            appeal.save()
    except IntegrityError:
        raise ConflictError("This action was appealed already; each action once.") from None
    audit_record(
        action=AuditEvent.Action.APPEAL_FILED,
        user=user,
        target=(action.target_type, action.target_id),
        moderation_action=action.pk,
        appeal=appeal.pk,
    )
    return appeal


@transaction.atomic
def appeal_decide(*, appeal: Appeal, moderator, grant: bool, reason: str) -> Appeal:
    """Grant or deny an open appeal (``moderation.decide_appeal``, a senior moderator's).

    Granting undoes the action: a suspended entry becomes active, a revoked handle
    verified again, a hidden endpoint gets its former audience back. The owner is told
    either way. Output: the decided appeal. Raises :class:`ConflictError` when it was
    decided already (or the handle is now verified by someone else), and as
    :func:`entry_suspend` does.
    """
    _require(moderator, "decide_appeal")
    reason = _clean_text(reason, "A reason")
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("action__entry__owner")
        .get(pk=appeal.pk)
    )
    if appeal.status != Appeal.Status.OPEN:
        raise ConflictError("This appeal was decided already.")
    action = appeal.action
    if grant:
        _undo(action)
    appeal.status = Appeal.Status.GRANTED if grant else Appeal.Status.DENIED
    appeal.decided_at = timezone.now()
    appeal.decided_by = moderator
    appeal.decision_reason = reason
    appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    audit_record(
        action=AuditEvent.Action.APPEAL_GRANTED if grant else AuditEvent.Action.APPEAL_DENIED,
        user=appeal.appellant,
        actor=moderator,
        reason=reason,
        target=(action.target_type, action.target_id),
        before=action.after,
        after=action.before if grant else action.after,
        moderation_action=action.pk,
        appeal=appeal.pk,
    )
    _notice(
        appeal.appellant,
        action,
        f"Worldbook moderation: your appeal was {appeal.get_status_display().lower()}",
        "moderation/email/appeal_decided.txt",
        {"appeal": appeal},
    )
    return appeal


def _undo(action: ModerationAction) -> None:
    if action.kind == Kind.SUSPEND and action.entry is not None:
        entry_set_status(entry=action.entry, status=Entry.Status.ACTIVE)
    elif action.kind == Kind.REVOKE_VERIFICATION:
        handle = Handle.objects.filter(pk=action.target_id).first()
        if handle is not None:
            handle_mark_verified(handle=handle)
    elif action.kind == Kind.HIDE_ENDPOINT:
        endpoint = Endpoint.objects.filter(pk=action.target_id).first()
        if endpoint is not None:
            audience = (action.before or {}).get("audience", Endpoint.Audience.EVERYONE)
            endpoint_update(endpoint=endpoint, audience=audience)
    else:
        raise NormalizationError(f"A {action.get_kind_display()} action cannot be undone.")

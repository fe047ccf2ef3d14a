"""Moderator actions: suspend, restore, revoke, hide, reserve, dismiss."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.exceptions import ConflictError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.models import (
    ImpersonationSuspect,
    ModerationAction,
    QueueStatus,
    ReportCase,
    ReservedName,
    TargetType,
)
from directory.moderation.services.appeals import notice_send
from directory.moderation.services.common import (
    Kind,
    clean_text,
    endpoint_label,
    endpoint_snapshot,
    entry_snapshot,
    handle_label,
    handle_snapshot,
    require_permission,
)
from directory.normalization import normalize_directory_handle
from directory.services import (
    endpoint_update,
    entry_set_status,
    handle_revoke,
)

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


def _entry_status_change(
    *, entry: Entry, status: str, kind: str, audit_action: str, moderator, reason: str
) -> ModerationAction | None:
    """Move ``entry`` to ``status`` under a row lock and record the action; ``None`` when it
    is there already. A suspension also closes the entry's open reports and suspects."""
    reason = clean_text(reason, "A reason")
    entry = Entry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if entry.status == status:
        return None
    before = entry_snapshot(entry)
    entry_set_status(entry=entry, status=status)
    if status == Entry.Status.SUSPENDED:
        _close_queues(
            entry=entry, moderator=moderator, target_type=TargetType.ENTRY, target_id=entry.pk
        )
    return _record(
        kind=kind,
        audit_action=audit_action,
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
def entry_suspend(*, entry: Entry, moderator, reason: str) -> ModerationAction | None:
    """Suspend ``entry``: hidden from resolve, search, its page, vCard and WebFinger as
    soon as the transaction commits; the search index drops it through
    ``search.sync_entry``.

    Inputs: the entry, the acting ``moderator`` (needs ``moderation.suspend_entry``) and
    ``reason``. Output: the :class:`ModerationAction`, or ``None`` when the entry was
    suspended already. Closes the entry's open reports and suspects. Raises
    :class:`Forbidden` without the permission, :class:`WorldbookError` without a reason.
    """
    require_permission(moderator, "suspend_entry")
    return _entry_status_change(
        entry=entry,
        status=Entry.Status.SUSPENDED,
        kind=Kind.SUSPEND,
        audit_action=AuditEvent.Action.ENTRY_SUSPENDED,
        moderator=moderator,
        reason=reason,
    )


@transaction.atomic
def entry_restore(*, entry: Entry, moderator, reason: str) -> ModerationAction | None:
    """Make a suspended ``entry`` active again (a senior moderator's action:
    ``moderation.restore_entry``). Output: the action, or ``None`` when it was active.
    Raises as :func:`entry_suspend` does."""
    require_permission(moderator, "restore_entry")
    return _entry_status_change(
        entry=entry,
        status=Entry.Status.ACTIVE,
        kind=Kind.RESTORE,
        audit_action=AuditEvent.Action.ENTRY_RESTORED,
        moderator=moderator,
        reason=reason,
    )


@transaction.atomic
def verification_revoke(*, handle: Handle, moderator, reason: str) -> ModerationAction | None:
    """Withdraw ``handle``'s verification (``moderation.revoke_verification``): it stops
    answering lookups at once and leaves the index after commit. Output: the action, or
    ``None`` when the handle was revoked already. Raises as :func:`entry_suspend` does."""
    require_permission(moderator, "revoke_verification")
    reason = clean_text(reason, "A reason")
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
    require_permission(moderator, "hide_endpoint")
    reason = clean_text(reason, "A reason")
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
    require_permission(moderator, "reserve_handle")
    reason = clean_text(reason, "A reason")
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
    require_permission(moderator, "dismiss_report")
    reason = clean_text(reason, "A reason")
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
    require_permission(moderator, "dismiss_report")
    reason = clean_text(reason, "A reason")
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

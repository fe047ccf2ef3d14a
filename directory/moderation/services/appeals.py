"""Owner notices and appeals."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.exceptions import ConflictError, Forbidden, NormalizationError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.models import (
    Appeal,
    ModerationAction,
    OwnerNotice,
)
from directory.moderation.services.common import (
    Kind,
    clean_text,
    require_permission,
)
from directory.services import (
    endpoint_update,
    entry_set_status,
    handle_mark_verified,
)

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
    from directory.outbox import outbox_enqueue

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
    outbox_enqueue(
        "moderation.send_notice", args=[notice.pk], dedupe_key=f"moderation.send_notice:{notice.pk}"
    )
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
    statement = clean_text(statement, "A statement", limit=4000)
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
    require_permission(moderator, "decide_appeal")
    reason = clean_text(reason, "A reason")
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("action__entry__owner")
        .get(pk=appeal.pk)
    )
    if appeal.status != Appeal.Status.OPEN:
        raise ConflictError("This appeal was decided already.")
    action = appeal.action
    appeal.status = Appeal.Status.GRANTED if grant else Appeal.Status.DENIED
    appeal.decided_at = timezone.now()
    appeal.decided_by = moderator
    appeal.decision_reason = reason
    appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    if grant:
        # After the save: a hidden endpoint opens only once its appeal is granted.
        _undo(action)
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

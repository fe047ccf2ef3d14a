"""Celery tasks of the moderation console: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone


@shared_task(name="moderation.impersonation_check")
def impersonation_check(entry_id: int) -> int:
    """After ``entry_id``'s names changed: refresh its protected name keys (if it is
    verified, also queueing the entries that already carried its new nickname) and open
    impersonation suspects for it (see :mod:`directory.moderation.impersonation`).
    Output: how many suspects were opened for it; a second run opens none."""
    from directory.moderation.impersonation import earlier_look_alikes_check
    from directory.moderation.impersonation import impersonation_check as check
    from directory.moderation.impersonation import protect_names as protect

    if protect(entry_id=entry_id):
        # A verified entry's new name may be one others already carry.
        earlier_look_alikes_check(entry_id=entry_id)
    return len(check(entry_id=entry_id))


@shared_task(name="moderation.protect_names")
def protect_names(entry_id: int) -> int:
    """After a verification of ``entry_id`` changed: store its names' keys when it is
    verified (and queue the entries that already carried its nickname), drop them when
    not. Output: the number of keys. Idempotent."""
    from directory.moderation.impersonation import earlier_look_alikes_check
    from directory.moderation.impersonation import protect_names as protect

    keys = protect(entry_id=entry_id)
    if keys:
        earlier_look_alikes_check(entry_id=entry_id)
    return keys


@shared_task(
    name="moderation.send_notice",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def send_notice(notice_id: int) -> bool:
    """Email an owner notice to its recipient, once.

    The notice is claimed with a compare-and-set on ``emailed_at`` before the mail goes
    out and released if sending fails, so two deliveries of the task send one mail.
    Output: True when this run sent it. Connection errors (``OSError``) are retried with
    backoff.
    """
    from directory.moderation.models import OwnerNotice

    notice = OwnerNotice.objects.select_related("recipient").filter(pk=notice_id).first()
    if notice is None or not notice.recipient.email:
        return False
    claimed = OwnerNotice.objects.filter(pk=notice_id, emailed_at=None).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        send_mail(
            subject=notice.subject,
            message=notice.body,
            from_email=None,
            recipient_list=[notice.recipient.email],
        )
    except Exception:
        OwnerNotice.objects.filter(pk=notice_id).update(emailed_at=None)
        raise
    return True

"""Celery tasks of the transparency log: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from transparency import services


@shared_task(name="transparency.integrate", acks_late=True)
def integrate() -> int:
    """Integrate every pending leaf, batch by batch; return the tree size reached (0: none).

    Idempotent, so safe to run late or twice: each batch is one transaction under the
    tree's lock, and leaves already integrated are never taken again.
    """
    size = 0
    while (checkpoint := services.log_integrate()) is not None:
        size = checkpoint.size
    return size


@shared_task(
    name="transparency.alert_owner",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def alert_owner(alert_id: int) -> bool:
    """Email an owner the alert of a change to their handle they did not make, once.

    Claimed with a compare-and-set on ``emailed_at`` and released if sending fails, so two
    deliveries send one mail. Output: True when this run sent it. Connection errors are
    retried with backoff.
    """
    from django.core.mail import send_mail
    from django.utils import timezone

    from transparency.alerts import alert_email
    from transparency.models import LogAlert

    alert = LogAlert.objects.select_related("recipient", "leaf").filter(pk=alert_id).first()
    if alert is None or not alert.recipient.email:
        return False
    if not LogAlert.objects.filter(pk=alert_id, emailed_at=None).update(emailed_at=timezone.now()):
        return False
    subject, body = alert_email(alert)
    try:
        send_mail(
            subject=subject, message=body, from_email=None, recipient_list=[alert.recipient.email]
        )
    except Exception:
        LogAlert.objects.filter(pk=alert_id).update(emailed_at=None)
        raise
    return True

"""Celery tasks of the phone-number features: thin, take ids, call one service.

``numbers.advance`` runs on the beat schedule (``CELERY_BEAT_SCHEDULE["numbers-advance"]``)
and is idempotent: each due number is claimed under a row lock and purged once.
"""

from __future__ import annotations

from celery import shared_task

from directory.numbers import emails, services


# Idempotent (each due row is claimed under a lock), so a redelivery after a crash is safe.
@shared_task(name="numbers.advance", acks_late=True)
def advance() -> int:
    """Purge every retiring number whose forwarding window has ended; return how many."""
    return services.numbers_advance()


@shared_task(name="numbers.email_contacts")
def email_contacts(
    entry_id: int, recipient_entry_ids: list[int], notice_ids: list[int] | None = None
) -> int:
    """Email the owners of ``recipient_entry_ids`` that entry ``entry_id`` retired a
    number and where to reach it now (``notice_ids``: the notices this retirement left
    them); return how many messages were sent. A second run sends none."""
    return emails.send_contact_notices(entry_id, recipient_entry_ids, notice_ids)


@shared_task(name="numbers.email_binding_ended")
def email_binding_ended(linked_number_id: int) -> bool:
    """Tell the owner of a number whose binding ended early (recycled, or ended by a
    moderator); return whether this run sent the message (a second run sends none)."""
    return emails.send_binding_ended(linked_number_id)

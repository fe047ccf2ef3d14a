"""Mail about phone numbers. Messages name the number only by its last two digits."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from directory.models import Entry
from directory.numbers.models import LinkedNumber, NumberNotice


def send_contact_notices(
    entry_id: int, recipient_entry_ids: list[int], notice_ids: list[int] | None = None
) -> int:
    """Email each owner (with an address) of the entries ``recipient_entry_ids`` that
    entry ``entry_id`` retired a phone number and is reached at its handle now.

    Each recipient's :class:`NumberNotice` (those of ``notice_ids``; without them, every
    notice about ``entry_id`` not yet emailed) is claimed with a compare-and-set on
    ``emailed_at`` before its mail goes out, and released if sending fails, so a task
    delivered twice, or two at once, send each message once. Output: messages sent. An
    entry gone or suspended meanwhile sends nothing. Errors: the mail backend's (the
    failed recipient's claim is released first).
    """
    moved = Entry.objects.visible().filter(pk=entry_id).first()
    if moved is None:
        return 0
    recipients = (
        Entry.objects.filter(pk__in=recipient_entry_ids)
        .exclude(owner=None)
        .exclude(owner__email="")
        .select_related("owner")
    )
    notices = NumberNotice.objects.filter(moved_id=entry_id)
    notices = notices.filter(pk__in=notice_ids) if notice_ids is not None else notices
    sent = 0
    emailed: set[str] = set()
    for recipient in recipients:
        address = recipient.owner.email
        mine = notices.filter(recipient=recipient)
        claimed = list(mine.filter(emailed_at=None).values_list("pk", flat=True))
        if not claimed or not mine.filter(pk__in=claimed, emailed_at=None).update(
            emailed_at=timezone.now()
        ):
            continue
        if address.lower() in emailed:
            continue
        emailed.add(address.lower())
        body = render_to_string(
            "numbers/email/contact_moved.txt", {"moved": moved, "recipient": recipient}
        )
        try:
            sent += send_mail(
                subject=f"{moved.nickname} ({moved.at_handle}) gave up a phone number",
                message=body,
                from_email=None,
                recipient_list=[address],
            )
        except Exception:
            NumberNotice.objects.filter(pk__in=claimed).update(emailed_at=None)
            raise
    return sent


def send_binding_ended(linked_number_id: int) -> bool:
    """Email the owner of a number whose binding ended before its window (recycled, or
    ended by a moderator). The number is claimed with a compare-and-set on
    ``end_emailed_at`` before the mail goes out, and released if sending fails, so a task
    delivered twice sends one message. Output: whether this call sent it. Errors: the mail
    backend's."""
    linked = (
        LinkedNumber.objects.filter(pk=linked_number_id, state=LinkedNumber.State.RETIRED)
        .select_related("entry__owner")
        .first()
    )
    if linked is None or linked.entry.owner is None or not linked.entry.owner.email:
        return False
    if not LinkedNumber.objects.filter(pk=linked.pk, end_emailed_at=None).update(
        end_emailed_at=timezone.now()
    ):
        return False
    body = render_to_string("numbers/email/binding_ended.txt", {"linked": linked})
    try:
        return bool(
            send_mail(
                subject="Your phone number was unlinked from Worldbook",
                message=body,
                from_email=None,
                recipient_list=[linked.entry.owner.email],
            )
        )
    except Exception:
        LinkedNumber.objects.filter(pk=linked.pk).update(end_emailed_at=None)
        raise

"""Mail about phone numbers. Messages name the number only by its last two digits."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string

from directory.models import Entry
from directory.numbers.models import LinkedNumber


def send_contact_notices(entry_id: int, recipient_entry_ids: list[int]) -> int:
    """Email each owner (with an address) of the entries ``recipient_entry_ids`` that
    entry ``entry_id`` retired a phone number and is reached at its handle now.
    Output: messages sent. An entry gone or suspended meanwhile sends nothing."""
    moved = Entry.objects.visible().filter(pk=entry_id).first()
    if moved is None:
        return 0
    recipients = (
        Entry.objects.filter(pk__in=recipient_entry_ids)
        .exclude(owner=None)
        .exclude(owner__email="")
        .select_related("owner")
    )
    sent = 0
    emailed: set[str] = set()
    for recipient in recipients:
        address = recipient.owner.email
        if address.lower() in emailed:
            continue
        emailed.add(address.lower())
        body = render_to_string(
            "numbers/email/contact_moved.txt", {"moved": moved, "recipient": recipient}
        )
        sent += send_mail(
            subject=f"{moved.nickname} ({moved.at_handle}) gave up a phone number",
            message=body,
            from_email=None,
            recipient_list=[address],
        )
    return sent


def send_binding_ended(linked_number_id: int) -> bool:
    """Email the owner of a number whose binding ended before its window (recycled, or
    ended by a moderator). Output: whether a message was sent."""
    linked = (
        LinkedNumber.objects.filter(pk=linked_number_id, state=LinkedNumber.State.RETIRED)
        .select_related("entry__owner")
        .first()
    )
    if linked is None or linked.entry.owner is None or not linked.entry.owner.email:
        return False
    body = render_to_string("numbers/email/binding_ended.txt", {"linked": linked})
    return bool(
        send_mail(
            subject="Your phone number was unlinked from Worldbook",
            message=body,
            from_email=None,
            recipient_list=[linked.entry.owner.email],
        )
    )

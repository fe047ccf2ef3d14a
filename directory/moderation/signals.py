"""Impersonation checks follow every change of an entry's names.

A receiver rather than a call in :mod:`directory.services`: every path that saves an
entry (API, pages, admin, vCard import) is covered, and the check runs in a worker after
the transaction commits, never in the request.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from directory.models import Entry, Handle
from directory.outbox import outbox_enqueue

NAME_FIELDS = frozenset({"nickname", "nickname_skeleton", "handle", "handle_skeleton"})


@receiver(post_save, sender=Entry, dispatch_uid="moderation.entry_names_changed")
def entry_names_changed(sender, instance: Entry, created: bool, update_fields, **kwargs) -> None:
    """Enqueue ``moderation.impersonation_check`` after commit when an entry is created
    or its nickname or directory handle is saved."""
    if not created and update_fields is not None and not NAME_FIELDS & set(update_fields):
        return
    outbox_enqueue(
        "moderation.impersonation_check",
        args=[instance.pk],
        dedupe_key=f"moderation.impersonation_check:{instance.pk}",
    )


@receiver(post_save, sender=Handle, dispatch_uid="moderation.handle_status_changed")
def handle_status_changed(sender, instance: Handle, created: bool, update_fields, **kwargs):
    """Enqueue ``moderation.protect_names`` after commit when a handle's status may have
    changed (verified or not), so its entry's names are protected exactly while it is
    verified."""
    if update_fields is not None and "status" not in update_fields:
        return
    if created and instance.status != Handle.Status.VERIFIED:
        return
    _protect_names(instance.entry_id)


@receiver(post_delete, sender=Handle, dispatch_uid="moderation.handle_removed")
def handle_removed(sender, instance: Handle, **kwargs) -> None:
    """A removed verified handle may leave its entry unverified: re-protect after commit."""
    if instance.status != Handle.Status.VERIFIED:
        return
    _protect_names(instance.entry_id)


def _protect_names(entry_id: int) -> None:
    outbox_enqueue(
        "moderation.protect_names",
        args=[entry_id],
        dedupe_key=f"moderation.protect_names:{entry_id}",
    )

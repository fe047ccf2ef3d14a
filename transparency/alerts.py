"""Owners are told at once of a change to their handle they did not make.

When a transaction that queued binding records commits, each record is checked: a change
made from the entry owner's own account is theirs; a change with an audit event about the
owner or the entry from the minute before (a moderator's action, a verification or its
revocation, a number's retirement) is accounted for, and those have their own notices.
Anything else — an operator's edit in the admin, a script, a compromised server — gets a
:class:`LogAlert`: shown on the owner's log page and emailed (``transparency.alert_owner``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

logger = logging.getLogger(__name__)

#: How far before a change an audit event may be and still account for it.
AUDIT_WINDOW = timedelta(minutes=1)

#: Audit actions that change what a handle answers, each with its own notice or email:
#: an event of these about the owner or the entry accounts for a change (a sign-in does
#: not).
ACCOUNTING_ACTIONS = (
    "handle_verified",
    "handle_revoked",
    "claim_contested",
    "claim_resolved",
    "number_linked",
    "number_retiring",
    "number_retired",
    "entry_suspended",
    "entry_restored",
    "verification_revoked",
    "endpoint_hidden",
    "appeal_granted",
    "account_deleted",
)


def leaves_check(leaf_ids: Iterable[int]) -> list:
    """Alert the owners of the binding records ``leaf_ids`` that nothing accounts for.

    Output: the LogAlert rows made (a record alerted once). Raises database errors.
    """
    from accounts.models import AuditEvent
    from directory.models import Entry
    from directory.outbox import outbox_enqueue
    from transparency.models import LogAlert, LogLeaf

    made = []
    with transaction.atomic():
        for leaf in LogLeaf.objects.filter(pk__in=list(leaf_ids), alert__isnull=True):
            entry = Entry.objects.filter(handle_canonical=leaf.handle).first()
            owner_id = entry.owner_id if entry is not None else None
            if owner_id is None or leaf.actor_id == owner_id:
                continue
            events = AuditEvent.objects.filter(
                action__in=ACCOUNTING_ACTIONS, created_at__gte=leaf.created_at - AUDIT_WINDOW
            )
            if events.filter(Q(user_id=owner_id) | Q(target_type="entry", target_id=str(entry.pk))):
                continue
            alert = LogAlert.objects.create(recipient_id=owner_id, leaf=leaf)
            outbox_enqueue("transparency.alert_owner", args=[alert.pk])
            made.append(alert)
    return made


def alert_email(alert) -> tuple[str, str]:
    """The subject and body of the email telling an owner of ``alert``."""
    leaf = alert.leaf
    url = settings.SITE_URL + reverse("owner:entry-log", args=[leaf.handle])
    subject = f"Worldbook: a change to @{leaf.handle} you did not make"
    body = (
        f"What your handle @{leaf.handle} answers was changed, and the change was not made "
        f"from your account nor by a moderator's action you were told of.\n\n"
        f"It is record {leaf.seq} of your handle in Worldbook's public transparency log. "
        f"See it, and what your handle answers now:\n{url}#record-{leaf.seq}\n\n"
        f"If you did not ask for it, change your password and contact the operator.\n"
    )
    return subject, body

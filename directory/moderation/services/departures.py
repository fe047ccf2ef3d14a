"""What the moderation record keeps when entries are deleted.

An entry's owner cannot delete a suspended entry (:func:`directory.services.entry_delete`
refuses it), but a suspended entry can still go: an operator deletes it in the admin, or
the account is erased under data rights. The moderation record outlives it: report cases
stay (without their link to the entry), the directory handle of a suspended entry is
reserved so nobody registers it again, and open appeals on it are closed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from directory.models import Entry
from directory.moderation.models import (
    Appeal,
    QueueStatus,
    ReportCase,
    ReservedName,
    TargetType,
)
from directory.normalization import normalize_directory_handle

APPEAL_CLOSED_REASON = "The entry was deleted while suspended; there is nothing left to restore."


def entries_departing(entry_ids: Iterable[int], *, erased: bool = False) -> None:
    """Prepare the moderation record for the deletion of the entries ``entry_ids``.

    Call inside the deleting transaction, before the entries go. For each suspended entry
    its directory handle becomes a :class:`ReservedName` (the note says why) and its open
    appeals are closed as withdrawn. Open report cases are closed (actioned when the entry
    was suspended, dismissed otherwise); every case keeps its reports. ``erased``: the
    owner's account is being erased, so a case's label keeps only the entry's directory
    handle and the kind of target, not the reported value (an email address, a number).
    """
    entries = list(
        Entry.objects.select_for_update()
        .filter(pk__in=list(entry_ids))
        .only("pk", "handle", "handle_canonical", "status")
    )
    if not entries:
        return
    now = timezone.now()
    suspended = [entry for entry in entries if entry.status == Entry.Status.SUSPENDED]
    for entry in suspended:
        _reserve(entry, now)
    if suspended:
        Appeal.objects.filter(action__entry__in=suspended, status=Appeal.Status.OPEN).update(
            status=Appeal.Status.WITHDRAWN, decided_at=now, decision_reason=APPEAL_CLOSED_REASON
        )
    suspended_ids = {entry.pk for entry in suspended}
    for entry in entries:
        cases = ReportCase.objects.filter(entry=entry)
        cases.filter(status=QueueStatus.OPEN).update(
            status=QueueStatus.ACTIONED if entry.pk in suspended_ids else QueueStatus.DISMISSED,
            closed_at=now,
        )
        if erased:
            cases.filter(target_type=TargetType.ENTRY).update(
                target_label=f"@{entry.handle} (account erased)"
            )
            for kind in (TargetType.HANDLE, TargetType.ENDPOINT):
                cases.filter(target_type=kind).update(
                    target_label=f"{kind.label.lower()} of @{entry.handle} (account erased)"
                )


def _reserve(entry: Entry, now) -> None:
    wanted = normalize_directory_handle(entry.handle_canonical)
    if ReservedName.objects.filter(Q(skeleton=wanted.skeleton)).exists():
        return
    ReservedName.objects.create(
        name=wanted.display,
        skeleton=wanted.skeleton,
        note=f"@{wanted.display} was deleted while suspended ({now:%Y-%m-%d}); "
        "kept reserved so the suspension cannot be dodged by registering it again.",
    )

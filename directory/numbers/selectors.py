"""Reads about phone numbers, each through the contact policy.

A number lookup answers ``moved`` (with the entry's handle) while the number is in its
forwarding window and the policy lets the caller see the forward, ``retired`` (with the
date) once a keyed-hash record exists, and ``unknown`` otherwise. A number nobody linked,
one whose forward is hidden from the caller, and one whose entry is suspended or not
findable by number give the same answer, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone

from directory.models import Entry
from directory.numbers.hashing import number_digests
from directory.numbers.models import LinkedNumber, NumberNotice, RetiredNumber
from directory.policy import number_forward_visible_to

MOVED = "moved"
RETIRED = "retired"
UNKNOWN = "unknown"
# Answers to ``?since=`` (FCC Reassigned Numbers Database style).
SINCE_YES = "yes"
SINCE_NO = "no"
SINCE_NO_DATA = "no_data"


@dataclass(frozen=True)
class NumberAnswer:
    """What a lookup of ``number`` (E.164) tells a caller.

    ``status``: ``moved``, ``retired`` or ``unknown``; ``entry`` and ``forward_until``
    for ``moved``; ``retired_on`` for ``retired``; ``retired_since`` (``yes``, ``no``,
    ``no_data``) when the caller asked about a date.
    """

    number: str
    status: str
    entry: Entry | None = None
    forward_until: object = None
    retired_on: date | None = None
    retired_since: str | None = None


def forward_allows(linked: LinkedNumber, caller) -> bool:
    """Whether ``caller`` may see the forward of a retiring number to its entry
    (:func:`directory.policy.number_forward_visible_to`)."""
    return number_forward_visible_to(linked.entry, linked.forward_audience, caller)


def number_forward(e164: str, caller, *, now=None) -> LinkedNumber | None:
    """The retiring binding of ``e164`` whose forward ``caller`` may see, or ``None``
    (none, window over, or hidden: never told apart). One query."""
    linked = (
        LinkedNumber.objects.filter(
            e164=e164,
            state=LinkedNumber.State.RETIRING,
            forward_until__gt=now or timezone.now(),
        )
        .select_related("entry")
        .first()
    )
    if linked is None or not forward_allows(linked, caller):
        return None
    return linked


def retired_dates(e164: str) -> list[date]:
    """The dates ``e164`` was retired, newest first, matched under every configured key
    version (so records made under an older key still answer)."""
    query = Q(pk__in=[])
    for version, digest in number_digests(e164):
        clause = Q(key_version=version, digest=digest)
        query |= clause
    return list(
        RetiredNumber.objects.filter(query)
        .order_by("-retired_on")
        .values_list("retired_on", flat=True)
    )


def number_lookup(e164: str, *, caller, since: date | None = None) -> NumberAnswer:
    """Answer a lookup of ``e164`` for ``caller``.

    Input: an E.164 number, the caller (a user, possibly anonymous for a calling app) and
    an optional ``since`` date. Output: a :class:`NumberAnswer`. ``retired_since`` is
    ``yes`` when the number was retired on or after ``since``, ``no`` when it is known to
    the caller (a visible forward, or retired only before ``since``) and ``no_data``
    otherwise; like the FCC Reassigned Numbers Database's three answers.
    """
    forward = number_forward(e164, caller)
    dates = retired_dates(e164)
    retired_since = None
    if since is not None:
        if any(day >= since for day in dates):
            retired_since = SINCE_YES
        elif dates or forward is not None:
            retired_since = SINCE_NO
        else:
            retired_since = SINCE_NO_DATA
    if forward is not None:
        return NumberAnswer(
            number=e164,
            status=MOVED,
            entry=forward.entry,
            forward_until=forward.forward_until,
            retired_since=retired_since,
        )
    if dates:
        return NumberAnswer(
            number=e164, status=RETIRED, retired_on=dates[0], retired_since=retired_since
        )
    return NumberAnswer(number=e164, status=UNKNOWN, retired_since=retired_since)


def numbers_for_owner(entry: Entry) -> list[LinkedNumber]:
    """The entry's numbers, every state, newest first (for its owner only)."""
    return list(LinkedNumber.objects.filter(entry=entry).order_by("-linked_at", "-id"))


def notices_for(entry: Entry) -> list[NumberNotice]:
    """Open notices on ``entry``'s contacts page, newest first, with the moved entry,
    leaving out entries that are suspended now."""
    return list(
        NumberNotice.objects.filter(
            recipient=entry, dismissed_at=None, moved__status=Entry.Status.ACTIVE
        ).select_related("moved")[:50]
    )


def numbers_export(user) -> list[dict]:
    """The numbers of ``user``'s entries for their data export, oldest first: ``entry``
    (``@alice``), ``number`` (E.164 while linked or retiring; ``None`` once purged),
    ``last_digits``, ``state``, ``forward_audience``, ``end_reason`` and the ISO 8601
    times ``linked_at``, ``retiring_at``, ``forward_until``, ``retired_at``."""

    def when(value):
        return value.isoformat() if value else None

    rows = LinkedNumber.objects.filter(entry__owner=user).select_related("entry")
    return [
        {
            "entry": row.entry.at_handle,
            "number": row.e164,
            "last_digits": row.last_digits,
            "state": row.state,
            "forward_audience": row.forward_audience,
            "end_reason": row.end_reason,
            "linked_at": when(row.linked_at),
            "retiring_at": when(row.retiring_at),
            "forward_until": when(row.forward_until),
            "retired_at": when(row.retired_at),
        }
        for row in rows.order_by("linked_at", "id")
    ]

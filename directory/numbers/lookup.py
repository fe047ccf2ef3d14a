"""Number lookups shared by the API, the resolve hook and the discovery page.

Each one is authenticated and counted against a daily quota kept in the database
(``NUMBER_LOOKUPS_PER_DAY``, ``NUMBER_DISCOVER_PER_DAY``): throttles in the cache keep
clients fair, these limits hold against someone walking the number space.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import prefetch_related_objects

from directory.exceptions import NormalizationError, NotFound
from directory.models import Entry
from directory.numbers.models import LookupQuota
from directory.numbers.selectors import MOVED, UNKNOWN, number_forward
from directory.numbers.services import quota_take, read_number
from directory.policy import PHONE_HANDLE_KINDS

FOUND = "found"
INVALID = "invalid"


def quota_client(user, app_id: int | None = None) -> str:
    """The key a daily quota counts under: ``app-<id>`` for a calling app's token,
    ``user-<id>`` for a person."""
    return f"app-{app_id}" if app_id is not None else f"user-{user.pk}"


def resolve_moved_number(candidates, caller) -> tuple[Entry, str] | None:
    """For :func:`directory.selectors.entry_resolve`: when the query was a phone number
    (``tel:`` or ``+E.164``) and the caller is signed in, the entry its retiring number
    forwards to and ``moved:tel:<E.164>``; otherwise ``None``. Raises
    :class:`~directory.numbers.errors.LimitReached` past the caller's daily quota."""
    numbers = [c.key for c in candidates if c.kind in PHONE_HANDLE_KINDS and c.key[:1] == "+"]
    if not numbers or not (caller and caller.is_authenticated):
        return None
    quota_take(
        client=quota_client(caller),
        kind=LookupQuota.Kind.LOOKUP,
        items=1,
        limit=settings.NUMBER_LOOKUPS_PER_DAY,
    )
    linked = number_forward(numbers[0], caller)
    if linked is None:
        return None
    entry = linked.entry
    prefetch_related_objects([entry], "handles", "endpoints")
    return entry, f"moved:tel:{linked.e164}"


@dataclass(frozen=True)
class Discovered:
    """One item of a discovery request: the ``query`` as given, ``status`` (``moved``,
    ``found`` for a handle that resolves, ``unknown``, ``invalid``) and the ``entry``."""

    query: str
    status: str
    entry: Entry | None = None


def _looks_like_number(text: str) -> bool:
    stripped = text.strip()
    return stripped.lower().startswith("tel:") or (
        stripped[:1] in "+0123456789(" and sum(ch.isdigit() for ch in stripped) >= 5
    )


def discover(
    items: list[str], *, caller, client: str, region: str | None = None, charge: bool = True
) -> list[Discovered]:
    """Contact discovery: who, among ``items`` (numbers or handles), moved where.

    Inputs: at most ``NUMBER_DISCOVER_MAX_ITEMS`` strings; the caller; the quota
    ``client`` key; ``region`` for national numbers. Output: one :class:`Discovered`
    per item, in order. A number answers ``moved`` only inside its forwarding window and
    where the forward's policy admits the caller; any other number, hidden or not,
    answers ``unknown``. A handle answers ``found`` when resolve would find it for the
    caller. ``charge=False`` skips the quota, for a caller that took it for the whole
    request already (the discovery page). Raises :class:`NormalizationError` for too many
    items and :class:`~directory.numbers.errors.LimitReached` past
    ``NUMBER_DISCOVER_PER_DAY``.
    """
    from directory.selectors import entry_resolve

    if len(items) > settings.NUMBER_DISCOVER_MAX_ITEMS:
        raise NormalizationError(
            f"At most {settings.NUMBER_DISCOVER_MAX_ITEMS} numbers or handles per request."
        )
    if charge:
        quota_take(
            client=client,
            kind=LookupQuota.Kind.DISCOVER,
            items=len(items),
            limit=settings.NUMBER_DISCOVER_PER_DAY,
        )
    answers: list[Discovered] = []
    for item in items:
        if _looks_like_number(item):
            try:
                e164 = read_number(item, region)
            except NormalizationError:
                answers.append(Discovered(item, INVALID))
                continue
            linked = number_forward(e164, caller)
            if linked is None:
                answers.append(Discovered(item, UNKNOWN))
            else:
                answers.append(Discovered(item, MOVED, linked.entry))
            continue
        try:
            entry, _ = entry_resolve(item, caller=caller)
        except (NotFound, NormalizationError):
            answers.append(Discovered(item, UNKNOWN))
            continue
        answers.append(Discovered(item, FOUND, entry))
    return answers

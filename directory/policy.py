"""The contact policy: one place that decides what a caller may see of an entry.

Every surface (resolve, entry detail, search results, web pages, vCard, WebFinger) asks
these functions, so no surface can reveal what another hides.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from directory.models import Endpoint, Entry, Handle


def caller_is_owner(entry: Entry, caller) -> bool:
    return bool(caller and caller.is_authenticated and entry.owner_id == caller.pk)


def caller_is_verified(caller) -> bool:
    """True when the caller's own entry holds at least one verified handle."""
    if not caller or not caller.is_authenticated:
        return False
    cached = getattr(caller, "_worldbook_verified", None)
    if cached is None:
        cached = Handle.objects.filter(
            entry__owner=caller, entry__status=Entry.Status.ACTIVE, status=Handle.Status.VERIFIED
        ).exists()
        caller._worldbook_verified = cached
    return cached


def entry_visible_to(entry: Entry | None, caller=None) -> bool:
    """Whether ``caller`` may know that ``entry`` exists. Suspended entries are hidden
    from everyone but their owner."""
    if entry is None:
        return False
    return entry.status == Entry.Status.ACTIVE or caller_is_owner(entry, caller)


def endpoint_visible_to(endpoint: Endpoint, caller=None) -> bool:
    """Whether ``caller`` (a user, possibly anonymous) may see and use ``endpoint``.

    ``everyone``: anyone; ``signed_in``: any signed-in person; ``verified``: callers whose
    own entry has a verified handle; ``contacts``: people the owner saved (until contacts
    exist, only the owner); ``nobody``: only the owner.
    """
    entry = endpoint.entry
    if caller_is_owner(entry, caller):
        return True
    audience = endpoint.audience
    if audience == Endpoint.Audience.EVERYONE:
        return True
    if audience == Endpoint.Audience.SIGNED_IN:
        return bool(caller and caller.is_authenticated)
    if audience == Endpoint.Audience.VERIFIED:
        return caller_is_verified(caller)
    return False


def visible_endpoints(entry: Entry, caller=None) -> list[Endpoint]:
    """The entry's endpoints ``caller`` may use, in preference order.

    Uses ``entry.endpoints`` (prefetch it to avoid a query per entry).
    """
    caller = caller or AnonymousUser()
    endpoints = sorted(entry.endpoints.all(), key=lambda e: (e.preference, e.pk))
    for endpoint in endpoints:
        endpoint.entry = entry  # already loaded; avoids a query per endpoint
    return [e for e in endpoints if endpoint_visible_to(e, caller)]

"""The contact policy: one place that decides what a caller may see of an entry.

Every surface (resolve, entry detail, search results, web pages, vCard, WebFinger) asks
these functions, so no surface can reveal what another hides.

What a caller is, for the policy: anonymous (no one signed in, or a calling app using
its client credentials), signed in, *verified* (their own active entry holds a verified
handle), a *contact* of an entry (the entry's owner saved one of the caller's active
entries) and the entry's *owner*. The facts about a caller that need the database are
read once per caller object and kept on it, so a request that shows many endpoints makes
at most one query for each.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts.models import Contact
from directory.models import Endpoint, Entry, Handle
from directory.normalization import HandleKind

# Handles of these kinds may be phone numbers (E.164); see handle_answers_lookup.
PHONE_HANDLE_KINDS = frozenset({HandleKind.WHATSAPP, HandleKind.SIGNAL})


def _signed_in(caller) -> bool:
    return bool(caller and caller.is_authenticated)


def caller_is_owner(entry: Entry, caller) -> bool:
    """True when ``caller`` is signed in and owns ``entry`` (no query)."""
    return _signed_in(caller) and entry.owner_id == caller.pk


def caller_is_verified(caller) -> bool:
    """True when the caller's own entry holds at least one verified handle."""
    if not _signed_in(caller):
        return False
    cached = getattr(caller, "_worldbook_verified", None)
    if cached is None:
        cached = Handle.objects.filter(
            entry__owner=caller, entry__status=Entry.Status.ACTIVE, status=Handle.Status.VERIFIED
        ).exists()
        caller._worldbook_verified = cached
    return cached


def caller_contact_of(caller) -> frozenset[int]:
    """The ids of the entries whose owners saved one of ``caller``'s active entries.

    Input: a user (possibly anonymous) or ``None``. Output: a frozenset of ``Entry`` ids
    (empty for anonymous callers). One query per caller object, kept on it; a suspended
    entry of the caller earns nothing, as with :func:`caller_is_verified`.
    """
    if not _signed_in(caller):
        return frozenset()
    cached = getattr(caller, "_worldbook_contact_of", None)
    if cached is None:
        cached = frozenset(
            Contact.objects.filter(
                saved__owner=caller, saved__status=Entry.Status.ACTIVE
            ).values_list("owner_id", flat=True)
        )
        caller._worldbook_contact_of = cached
    return cached


def entry_visible_to(entry: Entry | None, caller=None) -> bool:
    """Whether ``caller`` may know that ``entry`` exists. Suspended entries are hidden
    from everyone but their owner."""
    if entry is None:
        return False
    return entry.status == Entry.Status.ACTIVE or caller_is_owner(entry, caller)


def handle_answers_lookup(handle: Handle, caller=None) -> bool:
    """Whether a lookup by ``handle`` may find its entry for ``caller``.

    Input: a claimed handle (its ``entry`` loaded) and the caller. Only a verified
    handle answers. A phone-number handle (E.164 WhatsApp or Signal number, which no
    surface shows anyone but the owner) answers only when the entry is findable by
    number (``Entry.findable_by_number``); otherwise the lookup fails exactly as for a
    number nobody holds. The owner always finds their own entry.
    """
    if handle.status != Handle.Status.VERIFIED:
        return False
    if handle.kind in PHONE_HANDLE_KINDS and handle.canonical.startswith("+"):
        return handle.entry.findable_by_number or caller_is_owner(handle.entry, caller)
    return True


def endpoint_visible_to(endpoint: Endpoint, caller=None) -> bool:
    """Whether ``caller`` (a user, possibly anonymous) may see and use ``endpoint``.

    ``everyone``: anyone; ``signed_in``: any signed-in person; ``verified``: callers whose
    own entry has a verified handle; ``contacts``: callers the owner saved (the endpoint's
    entry saved one of the caller's active entries); ``nobody``: only the owner, who sees
    every endpoint of their entry.
    """
    entry = endpoint.entry
    if caller_is_owner(entry, caller):
        return True
    audience = endpoint.audience
    if audience == Endpoint.Audience.EVERYONE:
        return True
    if audience == Endpoint.Audience.SIGNED_IN:
        return _signed_in(caller)
    if audience == Endpoint.Audience.VERIFIED:
        return caller_is_verified(caller)
    if audience == Endpoint.Audience.CONTACTS:
        return endpoint.entry_id in caller_contact_of(caller)
    return False


def visible_endpoints(entry: Entry, caller=None) -> list[Endpoint]:
    """The entry's endpoints ``caller`` may use, in preference order.

    Uses ``entry.endpoints`` (prefetch it to avoid a query per entry); whatever the
    number of endpoints, at most one query each for the caller's verified handles and
    contacts (kept on ``caller`` for the rest of the request).
    """
    caller = caller or AnonymousUser()
    endpoints = sorted(entry.endpoints.all(), key=lambda e: (e.preference, e.pk))
    for endpoint in endpoints:
        endpoint.entry = entry  # already loaded; avoids a query per endpoint
    return [e for e in endpoints if endpoint_visible_to(e, caller)]


# Phone numbers (directory.numbers): who may see where a retiring number forwards.
def number_forward_visible_to(entry: Entry, audience: str, caller=None) -> bool:
    """Whether ``caller`` may learn that a number ``entry`` is retiring now leads to it.

    Inputs: the entry, the forward's audience (an :class:`Endpoint.Audience` value the
    owner chose) and the caller. The entry must be visible to the caller and findable by
    number (``Entry.findable_by_number``); the audience then admits callers exactly as it
    would for an endpoint (:func:`endpoint_visible_to`). Output: a bool; a refusal must
    look the same as a number nobody holds.
    """
    if not entry.findable_by_number or not entry_visible_to(entry, caller):
        return False
    return endpoint_visible_to(Endpoint(entry=entry, audience=audience), caller)

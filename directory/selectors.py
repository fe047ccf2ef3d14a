"""Reads from the directory, each through the contact policy."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from directory.exceptions import Forbidden, NotFound
from directory.models import Endpoint, Entry, Handle
from directory.normalization import normalize_directory_handle, parse_lookup
from directory.policy import caller_is_owner, entry_visible_to, handle_answers_lookup


def _related() -> tuple[Prefetch, Prefetch]:
    return (
        Prefetch("handles", queryset=Handle.objects.order_by("kind", "key")),
        Prefetch("endpoints", queryset=Endpoint.objects.order_by("preference", "id")),
    )


def _with_related(qs: QuerySet[Entry]) -> QuerySet[Entry]:
    return qs.prefetch_related(*_related())


def entry_get_by_handle(handle: str, *, caller=None) -> Entry:
    """Return the entry with directory handle ``handle`` (``alice`` or ``@alice``).

    Raises :class:`NotFound` when there is none *or* the caller may not see it; the two
    cases raise the same error with the same message, after the same one query: the
    handles and endpoints are fetched only once the policy lets the caller see the
    entry, so a hidden entry takes no longer to refuse than a missing one.
    """
    try:
        canonical = normalize_directory_handle(handle).canonical
    except ValueError:
        raise NotFound("No entry answers to that handle.") from None
    entry = Entry.objects.filter(handle_canonical=canonical).first()
    if not entry_visible_to(entry, caller):
        raise NotFound("No entry answers to that handle.")
    prefetch_related_objects([entry], *_related())
    return entry


def entry_with_related(canonical: str, *, active_only: bool = False) -> Entry | None:
    """The entry whose ``handle_canonical`` is ``canonical``, handles and endpoints
    prefetched, whatever its status; ``None`` when there is none. No policy check: the
    caller decides who may see it. With ``active_only``, a suspended entry comes without
    its handles and endpoints (one query, as for a missing entry)."""
    if not active_only:
        return _with_related(Entry.objects.filter(handle_canonical=canonical)).first()
    entry = Entry.objects.filter(handle_canonical=canonical).first()
    if entry is not None and entry.status == Entry.Status.ACTIVE:
        prefetch_related_objects([entry], *_related())
    return entry


def entry_resolve(query: str, *, caller=None) -> tuple[Entry, str]:
    """Resolve any handle form to the entry that answers for it.

    Input: ``query`` in any form :func:`directory.normalization.parse_lookup` reads.
    Output: ``(entry, matched)`` where ``matched`` says what matched (``"@alice"`` or
    ``"fediverse:alice@mastodon.social"``). Matches the directory handle or a *verified*
    external handle only: an unverified claim never answers, nor does a phone number
    whose entry is not findable by number (:func:`directory.policy.handle_answers_lookup`).
    Raises :class:`NotFound` (missing, hidden and not allowed alike) and
    :class:`NormalizationError` for unreadable input.
    """
    parsed = parse_lookup(query, local_domain=settings.WORLDBOOK_DOMAIN)
    return resolve_parsed(parsed, caller)


def resolve_parsed(parsed, caller) -> tuple[Entry, str]:
    """:func:`entry_resolve` for a query already read by
    :func:`directory.normalization.parse_lookup` (a ``LookupQuery``): same output, same
    errors (:class:`NotFound`)."""
    # A bare dotted name (``example.org``) may be a directory handle or a domain: the
    # verified domain answers first, so nobody can take over a proved domain by naming a
    # directory handle after it.
    found = _resolve_external(parsed.candidates, caller)
    if found is not None:
        return found
    # Phone numbers (directory.numbers): a retiring number forwards to its entry's handle.
    moved = _resolve_moved_number(parsed.candidates, caller)
    if moved is not None:
        return moved
    if parsed.directory_handle is not None:
        entry = entry_get_by_handle(parsed.directory_handle.display, caller=caller)
        return entry, f"@{entry.handle}"
    raise NotFound("No entry answers to that handle.")


def _resolve_external(candidates, caller) -> tuple[Entry, str] | None:
    """The entry a verified external handle among ``candidates`` names for ``caller``.

    Candidates are tried in order; the first verified handle decides (a hidden entry or
    a number kept unfindable ends the search with ``None``, as if nobody held it).
    """
    for candidate in candidates:
        # The entry comes in the handle's query, and its handles and endpoints are
        # fetched only once the policy lets the caller see it: three queries for a hit,
        # one for a hidden entry.
        handle = (
            Handle.objects.filter(
                kind=candidate.kind, key=candidate.key, status=Handle.Status.VERIFIED
            )
            .select_related("entry")
            .first()
        )
        if handle is None:
            continue
        entry = handle.entry
        if not handle_answers_lookup(handle, caller):
            # A number its holder keeps unfindable answers as if nobody held it.
            continue
        if entry_visible_to(entry, caller):
            prefetch_related_objects([entry], *_related())
            return entry, f"{handle.kind}:{handle.canonical}"
        break
    return None


def _resolve_moved_number(candidates, caller) -> tuple[Entry, str] | None:
    """The entry a ``tel:``/``+E.164`` query forwards to while that number is retiring,
    for a signed-in caller the forward's policy admits (directory.numbers); ``matched``
    is ``moved:tel:+E.164``. Counts against the caller's daily number-lookup quota."""
    from directory.numbers.lookup import resolve_moved_number

    return resolve_moved_number(candidates, caller)


def entry_get_for_owner(handle: str, *, user, require_active: bool = True) -> Entry:
    """Return the entry with directory handle ``handle`` for ``user`` to manage.

    The permission-checking fetch every owner action starts from. Inputs: ``handle``
    (``alice`` or ``@alice``), ``user`` (the signed-in account), ``require_active``
    (``False`` for reading and deleting, which the owner of a suspended entry may still
    do). Output: the :class:`Entry` with handles and endpoints prefetched.

    Raises :class:`NotFound` when the entry is missing or hidden from ``user`` (the same
    error :func:`entry_get_by_handle` raises, so a non-owner cannot tell a suspended
    entry from a missing one); :class:`Forbidden` when the entry is visible but owned by
    someone else (its existence is public, so refusing reveals nothing), or when it is
    suspended and ``require_active`` is set.
    """
    entry = entry_get_by_handle(handle, caller=user)
    if not caller_is_owner(entry, user):
        raise Forbidden("Only the owner of this entry may manage it.")
    if require_active and entry.status != Entry.Status.ACTIVE:
        raise Forbidden("This entry is suspended: it can be read, not changed or deleted.")
    return entry

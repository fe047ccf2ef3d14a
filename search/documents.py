"""What the search index may know about an entry: only what is public.

An index document holds the entry's id, directory handle and nickname, and the canonical
values of its *verified* external handles. Unverified claims, endpoints and phone numbers
never reach it, so no backend (the database tables or a Meilisearch cluster) can leak them.
"""

from __future__ import annotations

import re
from typing import TypedDict

from directory.models import Entry, Handle
from directory.normalization import HandleKind

# Handle kinds whose value is (or may be) a phone number. The entry still counts as
# verified through them, but the number is never indexed.
PHONE_HANDLE_KINDS = frozenset({HandleKind.WHATSAPP, HandleKind.SIGNAL})
# A SIP or XMPP address may carry a number as its user part (``+390612345678@sip.example``):
# seven digits or more in a row are treated as one.
_NUMBER_INSIDE = re.compile(r"\d{7,}")


class EntryDocument(TypedDict):
    """One entry as every search backend indexes it.

    ``id``: the entry's primary key; ``handle``: the directory handle as displayed (no
    ``@``); ``handle_canonical``: its case-folded form (unique; ties sort by it);
    ``nickname``; ``verified_handles``: canonical values of the verified external handles
    (``alice@mastodon.social``, ``@alice:matrix.org``), sorted; ``verified_kinds``: the
    kinds of those handles (``fediverse``, ``github``…), sorted, for filtering;
    ``verified``: whether the entry holds at least one verified external handle.
    """

    id: int
    handle: str
    handle_canonical: str
    nickname: str
    verified_handles: list[str]
    verified_kinds: list[str]
    verified: bool


def _is_public_verified(kind: str, canonical: str, status: str) -> bool:
    """Whether a handle may be shown and indexed as verified: verified, and its value is
    not, and does not hold, a phone number."""
    return (
        status == Handle.Status.VERIFIED
        and kind not in PHONE_HANDLE_KINDS
        and not _NUMBER_INSIDE.search(canonical)
    )


def public_verified_handles(entry: Entry) -> list[Handle]:
    """The entry's verified external handles that may be shown and indexed.

    Input: an entry, ideally with ``handles`` prefetched. Output: the verified handles,
    sorted by kind then canonical value, leaving out those whose value is, or holds, a phone
    number.
    """
    return sorted(
        (h for h in entry.handles.all() if _is_public_verified(h.kind, h.canonical, h.status)),
        key=lambda handle: (handle.kind, handle.canonical),
    )


def _document(
    pk: int, handle: str, handle_canonical: str, nickname: str, handles: list[tuple[str, str, str]]
) -> EntryDocument:
    # ``handles``: (kind, canonical, status) of each of the entry's external handles.
    public = [
        (kind, canonical)
        for kind, canonical, status in handles
        if _is_public_verified(kind, canonical, status)
    ]
    return {
        "id": pk,
        "handle": handle,
        "handle_canonical": handle_canonical,
        "nickname": nickname,
        "verified_handles": sorted({canonical for _, canonical in public}),
        "verified_kinds": sorted({str(kind) for kind, _ in public}),
        "verified": any(status == Handle.Status.VERIFIED for _, _, status in handles),
    }


def entry_document(entry: Entry) -> EntryDocument:
    """Build the index document of ``entry`` (see :class:`EntryDocument`).

    Input: an entry with ``handles`` prefetched (otherwise one query is made). Output: a
    JSON-serializable dict. The caller decides whether the entry may be indexed at all
    (``Entry.objects.listed()``); this function only decides what of it is public.
    """
    return _document(
        entry.pk,
        entry.handle,
        entry.handle_canonical,
        entry.nickname,
        [(h.kind, h.canonical, h.status) for h in entry.handles.all()],
    )


def listed_documents(entry_ids: list[int]) -> list[EntryDocument]:
    """The documents of the listed entries among ``entry_ids``, in primary-key order.

    Input: entry primary keys (a batch of a rebuild); those not listed are left out.
    Output: what :func:`entry_document` gives for each, built from two plain queries (the
    entries' columns, then their handles') instead of model instances, which is where a
    rebuild of a million entries otherwise spends most of its Python time.
    """
    rows = list(
        Entry.objects.listed()
        .filter(pk__in=entry_ids)
        .order_by("pk")
        .values_list("pk", "handle", "handle_canonical", "nickname")
    )
    handles: dict[int, list[tuple[str, str, str]]] = {}
    for entry_id, kind, canonical, status in Handle.objects.filter(
        entry_id__in=[row[0] for row in rows]
    ).values_list("entry_id", "kind", "canonical", "status"):
        handles.setdefault(entry_id, []).append((kind, canonical, status))
    return [_document(*row, handles.get(row[0], [])) for row in rows]

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


def public_verified_handles(entry: Entry) -> list[Handle]:
    """The entry's verified external handles that may be shown and indexed.

    Input: an entry, ideally with ``handles`` prefetched. Output: the verified handles,
    sorted by kind then canonical value, leaving out those whose value is, or holds, a phone
    number.
    """
    return sorted(
        (
            handle
            for handle in entry.handles.all()
            if handle.status == Handle.Status.VERIFIED
            and handle.kind not in PHONE_HANDLE_KINDS
            and not _NUMBER_INSIDE.search(handle.canonical)
        ),
        key=lambda handle: (handle.kind, handle.canonical),
    )


def entry_document(entry: Entry) -> EntryDocument:
    """Build the index document of ``entry`` (see :class:`EntryDocument`).

    Input: an entry with ``handles`` prefetched (otherwise one query is made). Output: a
    JSON-serializable dict. The caller decides whether the entry may be indexed at all
    (``Entry.objects.listed()``); this function only decides what of it is public.
    """
    handles = list(entry.handles.all())
    public = public_verified_handles(entry)
    return {
        "id": entry.pk,
        "handle": entry.handle,
        "handle_canonical": entry.handle_canonical,
        "nickname": entry.nickname,
        "verified_handles": sorted({h.canonical for h in public}),
        "verified_kinds": sorted({str(h.kind) for h in public}),
        "verified": any(h.status == Handle.Status.VERIFIED for h in handles),
    }

"""Reads from the search index, re-checked against the directory."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from directory.exceptions import WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.policy import entry_visible_to
from search.backends import get_backend

LIMIT_MAX = 100


@dataclass(frozen=True)
class SearchResults:
    """One page of search results.

    ``entries``: :class:`~directory.models.Entry` objects in rank order, each with
    ``handles`` and ``endpoints`` prefetched; ``total``: how many entries the index
    matched (an entry unlisted since it was indexed still counts until its sync runs, but is
    never in ``entries``); ``query``, ``limit``, ``offset``: as asked.
    """

    entries: list[Entry]
    total: int
    query: str = ""
    limit: int = 20
    offset: int = 0


def search_entries(query: str, *, caller=None, limit: int = 20, offset: int = 0) -> SearchResults:
    """Search the directory by nickname, directory handle or verified external handle.

    Inputs: ``query`` as typed; ``caller`` (a user or ``None``), whose view of each entry
    the contact policy decides; ``limit`` (1–100 results) and ``offset`` (≥ 0). Output:
    :class:`SearchResults`. The backend's ids are re-read from the database and only
    entries still listed (``Entry.objects.listed()``) and visible to ``caller`` are kept,
    in the backend's order. Raises :class:`WorldbookError` (HTTP 400) for a bad ``limit``
    or ``offset`` or a query the backend refuses (too long, too many words).
    """
    if not isinstance(limit, int) or not 1 <= limit <= LIMIT_MAX:
        raise WorldbookError(f"limit must be a whole number from 1 to {LIMIT_MAX}.")
    if not isinstance(offset, int) or offset < 0:
        raise WorldbookError("offset must be a whole number, 0 or more.")
    ids, total = get_backend().search(query, limit=limit, offset=offset)
    if not ids:
        return SearchResults([], total, query, limit, offset)
    found = (
        Entry.objects.listed()
        .filter(pk__in=ids)
        .prefetch_related(
            Prefetch("handles", queryset=Handle.objects.order_by("kind", "key")),
            Prefetch("endpoints", queryset=Endpoint.objects.order_by("preference", "id")),
        )
    )
    by_id = {entry.pk: entry for entry in found if entry_visible_to(entry, caller)}
    entries = [by_id[entry_id] for entry_id in ids if entry_id in by_id]
    return SearchResults(entries, total, query, limit, offset)

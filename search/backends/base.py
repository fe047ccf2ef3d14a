"""The interface every search backend implements.

A backend keeps an index of :func:`search.documents.entry_document` documents, one per
listed entry (``Entry.objects.listed()``), and answers queries with entry ids in rank
order. The index is never the source of truth: callers re-check every id against the
database (:func:`search.selectors.search_entries`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

# Called with the number of entries just processed, after each batch of a rebuild.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class BackendHealth:
    """What :meth:`SearchBackend.health` reports.

    ``ok``: the backend answers; ``backend``: its name; ``documents``: how many documents
    the index holds (``None`` when it cannot tell); ``detail``: a sentence for operators;
    ``fallbacks``: how many searches another backend answered because this one did not
    (``None`` for a backend without a fallback); ``breaker``: the state of its circuit
    breaker, ``closed`` or ``open (N seconds left)`` (``None`` for a backend without one).
    """

    ok: bool
    backend: str
    documents: int | None
    detail: str = ""
    fallbacks: int | None = None
    breaker: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The fields as a dictionary (for JSON)."""
        return asdict(self)


class SearchBackend(ABC):
    """One search backend. Instances are shared (see :func:`search.backends.get_backend`)
    and must be safe to use from several threads."""

    name: str = ""
    # Errors after which the same call may succeed if tried again later (a server that
    # did not answer, a database lock); the sync task retries them with backoff.
    transient_errors: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)

    @abstractmethod
    def sync_entry(self, entry_id: int) -> None:
        """Make the index agree with the database about one entry.

        Indexes ``entry_id`` when it is listed (``Entry.objects.listed()``), removes it
        otherwise (unlisted, suspended or deleted). Idempotent: running it twice, or after
        a newer run, leaves the same index. Raises one of ``transient_errors`` when the
        index cannot be reached.
        """

    @abstractmethod
    def remove_entry(self, entry_id: int) -> None:
        """Remove ``entry_id`` from the index; nothing happens when it is not there."""

    @abstractmethod
    def search(self, query: str, *, limit: int, offset: int) -> tuple[list[int], int]:
        """Find listed entries matching ``query``.

        Inputs: ``query`` as typed (read by :func:`search.text.parse_query`); ``limit``
        (results wanted, ≥ 1) and ``offset`` (results skipped, ≥ 0). Output: ``(ids,
        total)``: at most ``limit`` entry ids, best first, and the number of matching
        documents. Ranking: the whole query is the directory handle, then a verified
        external handle, then every word matches exactly, by prefix, with one typo;
        ties by verified entries first, then by handle. Raises
        :class:`directory.exceptions.WorldbookError` for a query it refuses (too long).
        """

    @abstractmethod
    def rebuild(
        self, progress: Progress | None = None, *, batch_size: int = 500, resume: bool = False
    ) -> int:
        """Index every listed entry afresh and drop everything else from the index.

        Entries are read and written ``batch_size`` at a time in primary-key order;
        ``progress`` is called with the number of entries done after each batch. After each
        batch the backend records a :class:`search.models.ReindexCheckpoint`; with
        ``resume`` a rebuild that was interrupted carries on after its last written batch
        (without a checkpoint it starts from the beginning). Output: the number of entries
        indexed by this call.
        """

    def indexed_documents(self, batch_size: int = 1000) -> Iterator[dict]:
        """Every document the index holds, in no particular order, read ``batch_size`` at a
        time; used by ``search_check`` to find drift. Raises one of ``transient_errors``
        when the index cannot be reached."""
        raise NotImplementedError(f"the {self.name} backend cannot list its documents")

    @abstractmethod
    def health(self) -> BackendHealth:
        """Report whether the backend answers and how many documents it holds. Never raises
        for an unreachable backend: it reports ``ok=False`` with the reason."""

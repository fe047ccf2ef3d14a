"""Drift between the search index and the directory, for ``manage.py search_check``."""

from __future__ import annotations

from dataclasses import dataclass, field

from search.backends.base import SearchBackend
from search.backends.database import _listed_with_handles
from search.documents import entry_document


@dataclass
class Drift:
    """Entry ids on which the index and the directory disagree.

    ``missing``: listed entries without a document; ``extra``: documents of entries that
    are not listed (hidden, suspended, deleted); ``stale``: documents that differ from
    :func:`search.documents.entry_document` of the entry now; ``checked``: listed entries
    compared.
    """

    missing: set[int] = field(default_factory=set)
    extra: set[int] = field(default_factory=set)
    stale: set[int] = field(default_factory=set)
    checked: int = 0

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.stale)


def find_drift(backend: SearchBackend, *, batch_size: int = 1000) -> Drift:
    """Compare every document ``backend`` holds with every listed entry.

    Inputs: a backend that can list its documents
    (:meth:`~search.backends.base.SearchBackend.indexed_documents`); the number of entries
    and documents read at a time. Output: :class:`Drift`. Memory: one document per indexed
    entry is held at once (about 200 bytes each). Raises what the backend raises when its
    index cannot be read.
    """
    indexed = {int(document["id"]): document for document in backend.indexed_documents(batch_size)}
    drift = Drift()
    last_pk = 0
    while True:
        entries = list(_listed_with_handles().filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not entries:
            break
        last_pk = entries[-1].pk
        for entry in entries:
            drift.checked += 1
            document = indexed.pop(entry.pk, None)
            if document is None:
                drift.missing.add(entry.pk)
            elif document != entry_document(entry):
                drift.stale.add(entry.pk)
    drift.extra = set(indexed)
    return drift

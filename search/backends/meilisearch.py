"""The ``meilisearch`` search backend, on the official ``meilisearch`` Python client.

Index settings (:data:`INDEX_SETTINGS`) follow Meilisearch's reference ("Settings"):
searchable attributes in order of importance (directory handle, nickname, verified external
handles), typo tolerance at Meilisearch's defaults (one typo from five characters, two from
nine), ``verified`` and ``verified_kinds`` filterable, and ranking rules that put an exact
match before a prefix, a prefix before a typo, and a verified entry before an unverified one.

Every write is a Meilisearch *task*: the backend waits for it (``wait_for_task``) and raises
:class:`MeilisearchTaskFailed` unless it ``succeeded``. A rebuild fills a fresh index and
swaps it with the live one (``swap_indexes``, atomic: searches never see a half-built
index), then deletes the old one.

The database backend's tables are kept in step too (every sync writes both), so when
Meilisearch does not answer, :meth:`MeilisearchBackend.search` answers from the database
instead, logs a warning and counts the fallback (:mod:`search.metrics`). A failure also
opens a circuit breaker (:class:`Breaker`): for ``MEILISEARCH_COOLDOWN`` seconds searches go
straight to the database without waiting on Meilisearch, then it is tried again. Index updates
that fail are retried by the sync task with backoff and marked durably
(:class:`search.models.PendingSync`) until one succeeds.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator

import meilisearch
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)
from meilisearch.models.task import TaskInfo

from directory.cache import with_local_fallback
from directory.models import Entry
from directory.normalization import clean_display
from search import metrics
from search.backends.base import BackendHealth, Progress, SearchBackend
from search.backends.database import DatabaseBackend, _listed_with_handles
from search.documents import entry_document, listed_documents
from search.models import ReindexCheckpoint
from search.text import parse_query

logger = logging.getLogger(__name__)

PRIMARY_KEY = "id"
# https://www.meilisearch.com/docs/reference/api/settings
INDEX_SETTINGS: dict[str, object] = {
    "searchableAttributes": ["handle", "nickname", "verified_handles"],
    "filterableAttributes": ["verified", "verified_kinds"],
    "sortableAttributes": ["handle_canonical"],
    "rankingRules": [
        "words",
        "typo",
        "exactness",
        "attribute",
        "verified:desc",
        "proximity",
        "sort",
        "handle_canonical:asc",
    ],
    "typoTolerance": {
        "enabled": True,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
    },
}
TASK_POLL_MS = 50


class MeilisearchUnavailable(ConnectionError):
    """Meilisearch answered with a server error (HTTP 5xx): it may work again later."""


class MeilisearchTaskFailed(RuntimeError):
    """A Meilisearch task ended ``failed`` or ``canceled``; the message gives its error."""


class Breaker:
    """The circuit breaker in front of Meilisearch searches, shared by every process.

    Its state lives in Django's cache (Redis in production), keyed by the server's URL:
    :meth:`open` stores the time it closes again, with that many seconds as the cache
    timeout, so it closes by itself when the cool-down ends; a marker without timeout
    remembers that it was opened, so the first search Meilisearch answers afterwards can
    log that it closed (:meth:`close`). While Redis is down each process keeps its own
    breaker (:func:`directory.cache.with_local_fallback`).
    """

    def __init__(self, url: str, cooldown: int) -> None:
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        self.key = f"search:meilisearch:breaker:{digest}"
        self.opened_key = f"{self.key}:opened"
        self.cooldown = cooldown

    @with_local_fallback
    def seconds_left(self) -> int:
        """Seconds until the breaker closes; 0 when it is closed (Meilisearch is asked)."""
        until = cache.get(self.key)
        if until is None:
            return 0
        return max(1, round(float(until) - time.time()))

    @with_local_fallback
    def open(self, reason: str) -> None:
        """Open the breaker for the cool-down, logging it unless it was already open."""
        if cache.add(self.key, time.time() + self.cooldown, timeout=self.cooldown):
            cache.set(self.opened_key, True, timeout=None)
            logger.warning(
                "Meilisearch circuit breaker opened (%s): searches use the database index "
                "for %d seconds.",
                reason,
                self.cooldown,
            )

    @with_local_fallback
    def close(self) -> None:
        """Note that Meilisearch answered: logs that the breaker closed if it had opened."""
        if cache.get(self.opened_key) is not None and cache.delete(self.opened_key):
            logger.warning("Meilisearch circuit breaker closed: Meilisearch answers again.")

    def state(self) -> str:
        """``closed``, or ``open (N seconds left)`` for operators."""
        left = self.seconds_left()
        return f"open ({left} seconds left)" if left else "closed"


class MeilisearchBackend(SearchBackend):
    """Search in a Meilisearch index named ``settings.MEILISEARCH_INDEX``.

    Settings: ``MEILISEARCH_URL``, ``MEILISEARCH_API_KEY``, ``MEILISEARCH_INDEX``,
    ``MEILISEARCH_TIMEOUT`` (seconds per HTTP request), ``MEILISEARCH_TASK_TIMEOUT``
    (seconds to wait for a task), ``MEILISEARCH_COOLDOWN`` (seconds searches skip
    Meilisearch after it failed to answer one: see :class:`Breaker`).
    """

    name = "meilisearch"
    # Meilisearch unreachable, slow or failing on its side; the database (the fallback
    # index is written first) locked or disconnected.
    unavailable_errors = (
        MeilisearchCommunicationError,
        MeilisearchTimeoutError,
        MeilisearchUnavailable,
    )
    transient_errors = (*unavailable_errors, OperationalError, InterfaceError)

    def __init__(self) -> None:
        self.client = meilisearch.Client(
            settings.MEILISEARCH_URL,
            settings.MEILISEARCH_API_KEY or None,
            timeout=settings.MEILISEARCH_TIMEOUT,
        )
        self.index_uid = settings.MEILISEARCH_INDEX
        self.database = DatabaseBackend()
        self.breaker = Breaker(settings.MEILISEARCH_URL, settings.MEILISEARCH_COOLDOWN)

    # ------------------------------------------------------------------ tasks

    def _call(self, method, *args, **kwargs):
        """Call a client method, turning a Meilisearch 5xx into :class:`MeilisearchUnavailable`."""
        try:
            return method(*args, **kwargs)
        except MeilisearchApiError as exc:
            if exc.status_code >= 500:
                raise MeilisearchUnavailable(str(exc)) from exc
            raise

    def _wait(self, task: TaskInfo) -> None:
        """Wait for ``task`` to finish; raise :class:`MeilisearchTaskFailed` unless it
        ``succeeded``, ``MeilisearchTimeoutError`` after ``MEILISEARCH_TASK_TIMEOUT``."""
        done = self._call(
            self.client.wait_for_task,
            task.task_uid,
            timeout_in_ms=settings.MEILISEARCH_TASK_TIMEOUT * 1000,
            interval_in_ms=TASK_POLL_MS,
        )
        if done.status != "succeeded":
            error = (done.error or {}).get("message", "no reason given")
            raise MeilisearchTaskFailed(
                f"Meilisearch task {done.uid} ({done.type}) {done.status}: {error}"
            )

    def _rebuilding_into(self) -> str | None:
        """The fresh index a rebuild is filling, if one is running."""
        return (
            ReindexCheckpoint.objects.filter(backend=self.name)
            .exclude(index_uid="")
            .values_list("index_uid", flat=True)
            .first()
        )

    # ------------------------------------------------------------------ writing

    def sync_entry(self, entry_id: int) -> None:
        """See :meth:`SearchBackend.sync_entry`.

        Writes the database index first (the fallback), then enqueues the Meilisearch
        update while holding the entry's row lock, so two syncs of one entry reach
        Meilisearch in the order they read the database; then waits for the task. During a
        rebuild the fresh index is updated as well, so the swap loses no change.
        """
        self.database.sync_entry(entry_id)
        tasks: list[TaskInfo] = []
        with transaction.atomic():
            list(Entry.objects.select_for_update().filter(pk=entry_id).values_list("pk"))
            entry = _listed_with_handles().filter(pk=entry_id).first()
            for uid in filter(None, (self.index_uid, self._rebuilding_into())):
                index = self.client.index(uid)
                if entry is None:
                    tasks.append(self._call(index.delete_document, entry_id))
                else:
                    tasks.append(
                        self._call(
                            index.add_documents, [entry_document(entry)], primary_key=PRIMARY_KEY
                        )
                    )
        for task in tasks:
            self._wait(task)

    def remove_entry(self, entry_id: int) -> None:
        """See :meth:`SearchBackend.remove_entry`: from the database index and Meilisearch."""
        self.database.remove_entry(entry_id)
        for uid in filter(None, (self.index_uid, self._rebuilding_into())):
            self._wait(self._call(self.client.index(uid).delete_document, entry_id))

    def ensure_index(self, uid: str | None = None) -> None:
        """Create index ``uid`` (the live one by default) with primary key ``id`` unless it
        exists, and apply :data:`INDEX_SETTINGS` to it."""
        uid = uid or self.index_uid
        try:
            self._call(self.client.get_index, uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise
            self._wait(self._call(self.client.create_index, uid, {"primaryKey": PRIMARY_KEY}))
        self._wait(self._call(self.client.index(uid).update_settings, INDEX_SETTINGS))

    def rebuild(
        self, progress: Progress | None = None, *, batch_size: int = 500, resume: bool = False
    ) -> int:
        """See :meth:`SearchBackend.rebuild`.

        Rebuilds the database index (the fallback) first, then fills a fresh Meilisearch
        index ``<MEILISEARCH_INDEX>_<unix time>`` in batches of ``batch_size`` documents
        (``add_documents`` with primary key ``id``, each task waited for), swaps it with the
        live index (created empty if missing) and deletes the old one. The fresh index's
        name and the last entry id written are kept in a :class:`ReindexCheckpoint`, so
        ``resume`` carries on filling the same index.
        """
        self.database.rebuild(batch_size=batch_size, resume=resume)
        checkpoint = ReindexCheckpoint.objects.filter(backend=self.name).first()
        if resume and checkpoint and checkpoint.index_uid:
            fresh, last_pk = checkpoint.index_uid, checkpoint.last_entry_id
        else:
            fresh, last_pk = f"{self.index_uid}_{time.time_ns()}", 0
            self.ensure_index(fresh)
            ReindexCheckpoint.objects.update_or_create(
                backend=self.name, defaults={"index_uid": fresh, "last_entry_id": 0}
            )
        index = self.client.index(fresh)
        done = 0
        while True:
            batch = list(
                Entry.objects.listed()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            documents = listed_documents(batch)
            self._wait(self._call(index.add_documents, documents, primary_key=PRIMARY_KEY))
            last_pk = batch[-1]
            ReindexCheckpoint.objects.filter(backend=self.name).update(last_entry_id=last_pk)
            done += len(documents)
            if progress is not None:
                progress(len(documents))
        self.ensure_index()
        self._wait(self._call(self.client.swap_indexes, [{"indexes": [self.index_uid, fresh]}]))
        ReindexCheckpoint.objects.filter(backend=self.name).delete()
        # After the swap the fresh name holds the old documents.
        self._wait(self._call(self.client.delete_index, fresh))
        return done

    # ------------------------------------------------------------------ reading

    def search(self, query: str, *, limit: int, offset: int) -> tuple[list[int], int]:
        """See :meth:`SearchBackend.search`.

        Asks Meilisearch for ids only (``attributesToRetrieve``); the total is its
        ``estimatedTotalHits``. When Meilisearch is unreachable, too slow
        (``MEILISEARCH_TIMEOUT``), fails with a 5xx or has no index yet, the database
        backend answers instead; the fallback is logged (a warning, without the query, which may be
        personal) and counted in :data:`search.metrics.FALLBACKS`. Unreachable, too slow or
        failing also opens the :class:`Breaker`: while it is open, Meilisearch is not asked
        and the database answers at once (counted as a fallback too, logged at debug level).
        """
        parsed = parse_query(query)
        if parsed.is_empty:
            return [], 0
        if self.breaker.seconds_left():
            count = metrics.increment(metrics.FALLBACKS)
            logger.debug("Meilisearch circuit breaker open; fallback number %d.", count)
            return self.database.search(query, limit=limit, offset=offset)
        try:
            result = self._call(
                self.client.index(self.index_uid).search,
                clean_display(query).strip(),
                {"limit": limit, "offset": offset, "attributesToRetrieve": [PRIMARY_KEY]},
            )
        except self.unavailable_errors as exc:
            self.breaker.open(type(exc).__name__)
            return self._fall_back(exc, query, limit=limit, offset=offset)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":  # not built yet: the database still answers
                raise
            return self._fall_back(exc, query, limit=limit, offset=offset)
        self.breaker.close()
        hits = result.get("hits", [])
        return [int(hit[PRIMARY_KEY]) for hit in hits], int(
            result.get("estimatedTotalHits", len(hits))
        )

    def _fall_back(
        self, exc: Exception, query: str, *, limit: int, offset: int
    ) -> tuple[list[int], int]:
        count = metrics.increment(metrics.FALLBACKS)
        logger.warning(
            "Meilisearch did not answer (%s: %s); searching the database index instead "
            "(fallback number %d).",
            type(exc).__name__,
            exc,
            count,
        )
        return self.database.search(query, limit=limit, offset=offset)

    def indexed_documents(self, batch_size: int = 1000) -> Iterator[dict]:
        """See :meth:`SearchBackend.indexed_documents`: the live index's documents, read
        with ``get_documents`` a page of ``batch_size`` at a time."""
        index = self.client.index(self.index_uid)
        offset = 0
        while True:
            page = self._call(index.get_documents, {"limit": batch_size, "offset": offset})
            for document in page.results:
                yield dict(document)
            offset += len(page.results)
            if not page.results or offset >= page.total:
                return

    # ------------------------------------------------------------------ operations

    def health(self) -> BackendHealth:
        """See :meth:`SearchBackend.health`: Meilisearch's ``/health`` and the live index's
        document count, with the number of searches that fell back to the database and the
        state of the circuit breaker (health checks do not open or close it)."""
        fallbacks = metrics.read(metrics.FALLBACKS)
        breaker = self.breaker.state()
        try:
            status = self._call(self.client.health).get("status")
            documents: int | None = self._call(
                self.client.index(self.index_uid).get_stats
            ).number_of_documents
            detail = f"Meilisearch is {status}"
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                return BackendHealth(
                    False, self.name, None, str(exc), fallbacks=fallbacks, breaker=breaker
                )
            documents, detail = 0, f"Meilisearch is {status}; index {self.index_uid} not built yet"
        except self.unavailable_errors as exc:
            detail = f"Meilisearch did not answer: {exc}"
            return BackendHealth(
                False, self.name, None, detail, fallbacks=fallbacks, breaker=breaker
            )
        return BackendHealth(
            status == "available",
            self.name,
            documents,
            detail,
            fallbacks=fallbacks,
            breaker=breaker,
        )

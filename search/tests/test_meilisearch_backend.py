"""The Meilisearch backend: what it sends (settings, documents, swap) and how it falls back.

A recording server on loopback (:mod:`search.tests.meilisearch_server`) stands in for
Meilisearch where the payloads are checked; the fallback is checked with
``MEILISEARCH_URL`` pointing at a closed port, where the official client's connection
really fails.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest

from directory import services
from directory.models import Entry
from search import metrics
from search.backends import get_backend
from search.backends.meilisearch import (
    INDEX_SETTINGS,
    Breaker,
    MeilisearchBackend,
    MeilisearchTaskFailed,
)
from search.documents import entry_document
from search.models import PendingSync, ReindexCheckpoint
from search.tasks import drain_pending, sync_entry
from search.tests.meilisearch_server import FakeMeilisearch

pytestmark = pytest.mark.django_db


@pytest.fixture
def meili(settings):
    server = FakeMeilisearch().start()
    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_URL = server.url
    settings.MEILISEARCH_INDEX = "entries"
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def meili_down(settings, closed_port):
    settings.SEARCH_BACKEND = "meilisearch"
    settings.MEILISEARCH_URL = f"http://127.0.0.1:{closed_port}"
    settings.MEILISEARCH_TIMEOUT = 1
    forget_breaker_later(settings.MEILISEARCH_URL)


@pytest.fixture
def meili_hung(settings):
    """A loopback server that accepts connections and never answers: a hung Meilisearch.
    Yields the list of connections it accepted (held open until the test ends)."""
    accepted: list[socket.socket] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)

        def accept() -> None:
            while True:
                try:
                    accepted.append(server.accept()[0])
                except OSError:
                    return  # the listening socket was closed

        threading.Thread(target=accept, daemon=True).start()
        settings.SEARCH_BACKEND = "meilisearch"
        settings.MEILISEARCH_URL = f"http://127.0.0.1:{server.getsockname()[1]}"
        settings.MEILISEARCH_TIMEOUT = 1
        settings.MEILISEARCH_COOLDOWN = 30
        forget_breaker_later(settings.MEILISEARCH_URL)
        yield accepted
    for connection in accepted:
        connection.close()


def forget_breaker_later(url: str) -> None:
    """Have the breaker of ``url`` deleted from the cache when the test ends."""
    breaker = Breaker(url, 1)
    cache_keys_opened.extend([breaker.key, breaker.opened_key])


@pytest.fixture(autouse=True)
def fresh_metrics():
    from django.core.cache import cache

    cache.delete(metrics.FALLBACKS)
    yield
    cache.delete_many([key for key in cache_keys_opened])
    cache_keys_opened.clear()


# Breaker keys the tests opened, forgotten afterwards (each is keyed by the server's URL).
cache_keys_opened: list[str] = []


def test_it_creates_the_index_with_its_settings(meili):
    get_backend().ensure_index()
    created = meili.sent("POST", "/indexes")
    assert [r.body for r in created] == [{"uid": "entries", "primaryKey": "id"}]
    (patch,) = meili.sent("PATCH", "/indexes/entries/settings")
    assert patch.body == INDEX_SETTINGS
    assert patch.body["searchableAttributes"] == ["handle", "nickname", "verified_handles"]
    assert patch.body["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert set(patch.body["filterableAttributes"]) == {"verified", "verified_kinds"}
    rules = patch.body["rankingRules"]
    assert rules.index("typo") < rules.index("exactness") < rules.index("verified:desc")


def test_it_sends_the_public_document_with_its_primary_key(meili, make_entry):
    entry = make_entry(
        "Ada Lovelace",
        "ada",
        verified=[("github", "ada-l"), ("whatsapp", "+390656851242")],
        claimed=[("email", "ada@private.example")],
    )
    additions = meili.sent("POST", "/indexes/entries/documents")
    assert additions, "no document was sent"
    assert all(r.query["primaryKey"] == ["id"] for r in additions)
    assert additions[-1].body == [entry_document(entry)]
    sent = json.dumps([r.body for r in meili.requests])
    assert "390656851242" not in sent and "private.example" not in sent
    # The database index, the fallback, is written too.
    assert get_backend().database.search("lovelace", limit=5, offset=0) == ([entry.pk], 1)


def test_it_deletes_the_document_of_an_entry_that_is_no_longer_listed(meili, make_entry, built):
    entry = make_entry("Ada Lovelace", "ada")
    with built():
        services.entry_update(entry=entry, discoverable=False)
    assert meili.sent("DELETE", f"/indexes/entries/documents/{entry.pk}")
    assert meili.indexes["entries"].documents == {}


def test_it_maps_hits_to_entry_ids(meili, make_entry):
    ada = make_entry("Ada Lovelace", "ada")
    make_entry("Grace Hopper", "grace")
    assert get_backend().search("lovel", limit=10, offset=0) == ([ada.pk], 1)
    (request,) = meili.sent("POST", "/indexes/entries/search")
    assert request.body == {"q": "lovel", "limit": 10, "offset": 0, "attributesToRetrieve": ["id"]}


def test_it_rebuilds_into_a_fresh_index_and_swaps_it_in(meili, make_entry):
    entries = [make_entry(f"Person {n}", f"person{n}") for n in range(5)]
    Entry.objects.filter(pk=entries[0].pk).update(discoverable=False)
    meili.indexes["entries"].documents[999999] = {"id": 999999, "handle": "stale"}
    meili.requests.clear()
    done: list[int] = []

    indexed = get_backend().rebuild(progress=done.append, batch_size=2)

    assert indexed == 4 and done == [2, 2]
    (create,) = meili.sent("POST", "/indexes")
    fresh = create.body["uid"]
    assert fresh.startswith("entries_") and create.body["primaryKey"] == "id"
    assert meili.sent("PATCH", f"/indexes/{fresh}/settings")[0].body == INDEX_SETTINGS
    batches = meili.sent("POST", f"/indexes/{fresh}/documents")
    assert [len(r.body) for r in batches] == [2, 2]
    (swap,) = meili.sent("POST", "/swap-indexes")
    assert swap.body == [{"indexes": ["entries", fresh]}]
    assert meili.sent("DELETE", f"/indexes/{fresh}")
    # The live index now holds exactly the listed entries; the old one is gone.
    assert sorted(meili.indexes["entries"].documents) == sorted(e.pk for e in entries[1:])
    assert fresh not in meili.indexes
    assert not ReindexCheckpoint.objects.exists()


def test_it_resumes_a_rebuild_into_the_same_fresh_index(meili, make_entry):
    entries = [make_entry(f"Person {n}", f"person{n}") for n in range(4)]
    backend = get_backend()
    backend.ensure_index("entries_resumed")
    ReindexCheckpoint.objects.create(
        backend="meilisearch", index_uid="entries_resumed", last_entry_id=entries[1].pk
    )
    meili.requests.clear()

    assert backend.rebuild(batch_size=10, resume=True) == 2
    (batch,) = meili.sent("POST", "/indexes/entries_resumed/documents")
    assert [d["id"] for d in batch.body] == [entries[2].pk, entries[3].pk]
    assert not meili.sent("POST", "/indexes")
    assert meili.sent("POST", "/swap-indexes")[0].body == [
        {"indexes": ["entries", "entries_resumed"]}
    ]


def test_it_writes_to_the_fresh_index_too_while_a_rebuild_runs(meili, make_entry):
    get_backend().ensure_index("entries_fresh")
    ReindexCheckpoint.objects.create(backend="meilisearch", index_uid="entries_fresh")
    entry = make_entry("Ada Lovelace", "ada")
    assert entry.pk in meili.indexes["entries"].documents
    assert entry.pk in meili.indexes["entries_fresh"].documents


def test_it_raises_when_a_task_fails(meili, make_entry):
    entry = make_entry("Ada Lovelace", "ada")
    meili.fail_tasks = True
    with pytest.raises(MeilisearchTaskFailed, match="failed: refused by the test"):
        get_backend().sync_entry(entry.pk)


def test_it_reports_health_and_documents(meili, make_entry):
    make_entry("Ada Lovelace", "ada")
    health = get_backend().health()
    assert health.ok and health.backend == "meilisearch" and health.documents == 1
    assert health.fallbacks == 0


def test_it_falls_back_to_the_database_when_meilisearch_is_down(
    meili_down, make_entry, caplog, settings
):
    # Index through the database backend while Meilisearch is out of the picture.
    settings.SEARCH_BACKEND = "database"
    ada = make_entry("Ada Lovelace", "ada")
    settings.SEARCH_BACKEND = "meilisearch"
    backend = get_backend()
    assert isinstance(backend, MeilisearchBackend)

    with caplog.at_level(logging.WARNING, logger="search.backends.meilisearch"):
        assert backend.search("lovelace", limit=5, offset=0) == ([ada.pk], 1)
        assert backend.search("lovelace", limit=5, offset=0) == ([ada.pk], 1)

    # The first search met the closed port and opened the breaker; the second skipped it.
    warnings = [r for r in caplog.records if "searching the database index" in r.getMessage()]
    assert len(warnings) == 1
    assert any("circuit breaker opened" in r.getMessage() for r in caplog.records)
    assert all("lovelace" not in r.getMessage() for r in caplog.records)  # queries stay private
    assert metrics.read(metrics.FALLBACKS) == 2
    health = backend.health()
    assert not health.ok and health.fallbacks == 2 and "did not answer" in health.detail


def test_it_marks_an_update_pending_and_the_drain_makes_it(
    meili_down, make_entry, settings, closed_port
):
    from directory.celery import app

    settings.SEARCH_BACKEND = "database"
    entry = make_entry("Ada Lovelace", "ada")
    settings.SEARCH_BACKEND = "meilisearch"
    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    try:
        result = sync_entry.delay(entry.pk)
    finally:
        app.conf.task_eager_propagates = previous
    assert not result.successful()  # every retry met the closed port
    marker = PendingSync.objects.get(entry_id=entry.pk)
    assert marker.attempts == sync_entry.max_retries + 1
    assert "MeilisearchCommunicationError" in marker.last_error

    assert drain_pending() == 0  # still down: the mark stays
    assert PendingSync.objects.get(entry_id=entry.pk).attempts == marker.attempts + 1

    server = FakeMeilisearch().start()
    try:
        settings.MEILISEARCH_URL = server.url
        assert drain_pending() == 1
        assert not PendingSync.objects.exists()
        assert entry.pk in server.indexes["entries"].documents
    finally:
        server.stop()


def test_it_checks_and_fixes_drift_in_the_meilisearch_index(meili, make_entry):
    import io

    from django.core.management import CommandError, call_command

    entry = make_entry("Ada Lovelace", "ada")
    meili.indexes["entries"].documents[999999] = {"id": 999999, "handle": "gone"}
    meili.indexes["entries"].documents[entry.pk]["nickname"] = "Old Name"
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 entries"):
        call_command("search_check", stdout=out)
    assert "extra: 1 (entry ids 999999)" in out.getvalue()
    assert f"stale: 1 (entry ids {entry.pk})" in out.getvalue()

    call_command("search_check", "--fix", stdout=io.StringIO())
    out = io.StringIO()
    call_command("search_check", stdout=out)
    assert "No drift" in out.getvalue()
    assert meili.indexes["entries"].documents[entry.pk]["nickname"] == "Ada Lovelace"


def test_it_falls_back_while_the_meilisearch_index_is_not_built(meili, make_entry):
    ada = make_entry("Ada Lovelace", "ada")
    meili.indexes.pop("entries")
    assert get_backend().search("lovelace", limit=5, offset=0) == ([ada.pk], 1)
    assert metrics.read(metrics.FALLBACKS) == 1


def test_a_hung_meilisearch_is_waited_for_once_then_skipped_for_the_cool_down(
    meili_hung, make_entry, settings, caplog
):
    settings.SEARCH_BACKEND = "database"
    ada = make_entry("Ada Lovelace", "ada")
    settings.SEARCH_BACKEND = "meilisearch"
    backend = get_backend()

    with caplog.at_level(logging.WARNING, logger="search.backends.meilisearch"):
        started = time.monotonic()
        assert backend.search("lovelace", limit=5, offset=0) == ([ada.pk], 1)
        first = time.monotonic() - started
        assert first >= 0.9  # waited MEILISEARCH_TIMEOUT on the silent socket
        # Meilisearch was asked: the search waited on a connection it holds.
        tried = len(meili_hung)
        assert tried >= 1
        for _ in range(3):
            assert backend.search("lovelace", limit=5, offset=0) == ([ada.pk], 1)
        # Straight from the database: no new connection to Meilisearch. (Had one been
        # made, the search would have waited a second on it, time enough to see it here.)
        assert len(meili_hung) == tried
    opened = [r for r in caplog.records if "circuit breaker opened" in r.getMessage()]
    assert len(opened) == 1 and "MeilisearchTimeoutError" in opened[0].getMessage()
    assert metrics.read(metrics.FALLBACKS) == 4
    # Another process (a fresh backend instance) sees the same open breaker.
    assert MeilisearchBackend().breaker.state().startswith("open (")


def test_the_breaker_tries_meilisearch_again_after_the_cool_down_and_logs_closing(
    meili, make_entry, settings, caplog
):
    settings.MEILISEARCH_COOLDOWN = 1
    forget_breaker_later(meili.url)
    make_entry("Ada Lovelace", "ada")
    backend = get_backend()
    backend.breaker.open("a test")
    searches_before = len(meili.sent("POST", "/indexes/entries/search"))

    with caplog.at_level(logging.WARNING, logger="search.backends.meilisearch"):
        backend.search("lovelace", limit=5, offset=0)
        assert len(meili.sent("POST", "/indexes/entries/search")) == searches_before
        assert metrics.read(metrics.FALLBACKS) == 1
        time.sleep(1.2)
        assert backend.breaker.state() == "closed"
        backend.search("lovelace", limit=5, offset=0)
    assert len(meili.sent("POST", "/indexes/entries/search")) == searches_before + 1
    assert metrics.read(metrics.FALLBACKS) == 1
    assert any("circuit breaker closed" in r.getMessage() for r in caplog.records)


def test_search_check_shows_fallbacks_and_the_breaker_when_meilisearch_is_down(
    meili_down, make_entry, settings
):
    import io

    from django.core.management import CommandError, call_command

    settings.SEARCH_BACKEND = "database"
    make_entry("Ada Lovelace", "ada")
    settings.SEARCH_BACKEND = "meilisearch"
    get_backend().search("lovelace", limit=5, offset=0)
    get_backend().search("lovelace", limit=5, offset=0)

    out = io.StringIO()
    with pytest.raises(CommandError, match="meilisearch search backend is not answering"):
        call_command("search_check", stdout=out)
    line = out.getvalue()
    assert "meilisearch: not answering, unknown documents" in line
    assert "2 searches fell back to the database" in line
    assert "circuit breaker open (" in line


def test_search_check_shows_a_closed_breaker_when_meilisearch_answers(meili, make_entry):
    import io

    from django.core.management import call_command

    make_entry("Ada Lovelace", "ada")
    out = io.StringIO()
    call_command("search_check", stdout=out)
    assert "0 searches fell back to the database; circuit breaker closed." in out.getvalue()

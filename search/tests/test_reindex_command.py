"""manage.py search_reindex."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from directory.models import Entry
from search.backends import get_backend
from search.documents import entry_document
from search.models import ReindexCheckpoint, SearchDocument, SearchWord, TermVariant

pytestmark = pytest.mark.django_db


def test_it_rebuilds_the_index_in_batches_with_a_progress_bar(make_entry):
    entries = [make_entry(f"Ottoline {n}", f"otto{n}") for n in range(5)]
    hidden = make_entry("Ottoline Hidden", "hidden")
    Entry.objects.filter(pk=hidden.pk).update(discoverable=False)
    SearchDocument.objects.filter(pk=entries[0].pk).delete()
    out, err = io.StringIO(), io.StringIO()

    call_command("search_reindex", "--batch-size", "2", stdout=out, stderr=err)

    assert "Indexed 5 entries." in out.getvalue()
    assert "5/5" in err.getvalue()  # the tqdm bar reached its total
    assert set(SearchDocument.objects.values_list("pk", flat=True)) == {e.pk for e in entries}
    assert get_backend().search("ottoline", limit=20, offset=0)[1] == 5


def test_it_is_silent_at_verbosity_zero(make_entry):
    make_entry("Ottoline", "otto")
    out, err = io.StringIO(), io.StringIO()
    call_command("search_reindex", verbosity=0, stdout=out, stderr=err)
    assert out.getvalue() == "" and err.getvalue() == ""
    assert SearchDocument.objects.count() == 1


def test_it_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="--batch-size must be 1 or more"):
        call_command("search_reindex", "--batch-size", "0")


def test_it_resumes_an_interrupted_rebuild_after_its_checkpoint(make_entry):
    entries = [make_entry(f"Ottoline {n}", f"otto{n}") for n in range(4)]
    SearchDocument.objects.all().delete()
    ReindexCheckpoint.objects.create(backend="database", last_entry_id=entries[1].pk)
    out, err = io.StringIO(), io.StringIO()

    call_command("search_reindex", "--resume", stdout=out, stderr=err)

    assert f"Resuming after entry {entries[1].pk}." in out.getvalue()
    assert "Indexed 2 entries." in out.getvalue() and "2/2" in err.getvalue()
    assert set(SearchDocument.objects.values_list("pk", flat=True)) == {
        entries[2].pk,
        entries[3].pk,
    }
    assert not ReindexCheckpoint.objects.exists()


def test_it_records_a_checkpoint_per_batch_so_a_crash_can_resume(make_entry, monkeypatch):
    entries = [make_entry(f"Ottoline {n}", f"otto{n}") for n in range(4)]
    backend = get_backend()
    write = backend._write
    calls = []

    def crash_on_second_batch(documents, **options):
        calls.append(documents)
        if len(calls) == 2:
            raise RuntimeError("the machine went down")
        write(documents, **options)

    monkeypatch.setattr(backend, "_write", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        backend.rebuild(batch_size=2)
    assert ReindexCheckpoint.objects.get(backend="database").last_entry_id == entries[1].pk
    monkeypatch.undo()
    assert backend.rebuild(batch_size=2, resume=True) == 2
    assert not ReindexCheckpoint.objects.exists()


def _index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone() is not None


def _lookup_index_exists() -> bool:
    return _index_exists("search_term_lookup")


@pytest.mark.postgres
def test_it_bulk_loads_an_empty_index_and_restores_the_lookup_index(make_entry):
    make_entry("Wilhelmina Brackwater", "mina")
    make_entry("Marguerite Brackwater", "daisy")
    for model in (SearchDocument, TermVariant, SearchWord):
        model.objects.all().delete()

    assert get_backend().rebuild(batch_size=1) == 2

    assert _lookup_index_exists()
    assert TermVariant.objects.filter(term="brackwater").count() == len("brackwater")
    assert SearchWord.objects.filter(word="wilhelmina").exists()
    assert get_backend().search("brakwater", limit=5, offset=0)[1] == 2
    assert get_backend().search("vilhelmena", limit=5, offset=0)[1] == 1
    assert get_backend().search("br", limit=5, offset=0)[1] == 2  # the prefix table
    assert _index_exists("search_prefix_ranked")
    # The copied documents are the entries' documents, as a sync would write them.
    loaded = sorted(get_backend().indexed_documents(), key=lambda d: d["id"])
    assert loaded == [entry_document(e) for e in Entry.objects.order_by("pk")]


@pytest.mark.postgres
def test_it_rebuilds_the_lookup_index_a_killed_bulk_load_left_dropped(make_entry):
    make_entry("Wilhelmina Brackwater", "mina")
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX search_term_lookup")
    get_backend().rebuild()
    assert _lookup_index_exists()

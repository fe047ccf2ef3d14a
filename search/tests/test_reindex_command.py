"""manage.py search_reindex."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from directory.models import Entry
from search.backends import get_backend
from search.models import SearchDocument

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

"""The benchmarks' COPY loader writes rows the directory can use: every column a model
requires, the look-alike claims of each directory handle, and lookups that resolve."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from benchmarks import bulk
from directory.models import Entry, EntryHandleSkeleton, Handle
from directory.normalization import normalize_directory_handle

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY loader needs PostgreSQL (set DATABASE_URL)")
    settings.ANSWER_CACHE = False


def test_loaded_entries_claim_their_skeletons_and_resolve():
    load = bulk.ensure_bulk_loaded(300, seed=7, progress=False)
    assert (load.entries, Entry.objects.count()) == (300, 300)
    assert load.handles == Handle.objects.count() > 0

    # Each entry claims every skeleton of its directory handle, so the look-alike check
    # refuses a new handle that looks like a loaded one.
    for entry in Entry.objects.all()[:50]:
        wanted = normalize_directory_handle(entry.handle)
        claimed = set(
            EntryHandleSkeleton.objects.filter(entry=entry).values_list("skeleton", flat=True)
        )
        assert claimed == set(wanted.skeletons)

    client = APIClient()
    mix = bulk.sampled_mix(40, seed=7)
    assert any(lookup.found for lookup in mix)
    for lookup in mix:
        response = client.get("/api/v1/resolve", {"handle": lookup.query})
        assert response.status_code == (200 if lookup.found else 404), lookup

    # A second call with the same size and seed reuses the load, also once the bearer-token
    # callers (some owning entries of their own) were made beside it.
    assert len(bulk.bearer_callers(4, seed=7)) == 4
    assert Entry.objects.count() > 300
    assert bulk.ensure_bulk_loaded(300, seed=7, progress=False).reused

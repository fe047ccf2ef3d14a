"""search_entries: the contract the pages and the REST API rely on."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory import services
from directory.exceptions import WorldbookError
from directory.models import Entry
from search.selectors import search_entries

pytestmark = pytest.mark.django_db


def test_it_returns_entries_in_rank_order_with_handles_and_endpoints(make_entry):
    second = make_entry("Marguerite Plain", "plain")
    first = make_entry("Zed", "marguerite")
    services.endpoint_add(entry=first, uri="sip:marguerite@voip.example.org")

    found = search_entries("marguerite")

    assert found.total == 2
    assert [e.pk for e in found.entries] == [first.pk, second.pk]
    with CaptureQueriesContext(connection) as queries:
        uris = [[ep.uri for ep in e.endpoints.all()] for e in found.entries]
        kinds = [[h.kind for h in e.handles.all()] for e in found.entries]
    assert len(queries) == 0
    assert uris == [["sip:marguerite@voip.example.org"], []] and kinds == [[], []]


def test_it_rechecks_every_result_against_the_database(make_entry):
    hidden = make_entry("Marguerite Hidden", "hidden")
    suspended = make_entry("Marguerite Suspended", "suspended")
    kept = make_entry("Marguerite Kept", "kept")
    # Changed behind the actions' back: the index still holds both until their sync runs.
    Entry.objects.filter(pk=hidden.pk).update(discoverable=False)
    Entry.objects.filter(pk=suspended.pk).update(status=Entry.Status.SUSPENDED)

    found = search_entries("marguerite", caller=None)

    assert [e.pk for e in found.entries] == [kept.pk]


def test_it_pages_with_limit_and_offset(make_entry):
    for letter in "abc":
        make_entry("Marguerite", f"{letter}_m")
    found = search_entries("marguerite", limit=2, offset=1)
    assert [e.handle for e in found.entries] == ["b_m", "c_m"]
    assert found.total == 3


@pytest.mark.parametrize(
    ("limit", "offset", "message"),
    [(0, 0, "limit"), (101, 0, "limit"), (20, -1, "offset"), ("5", 0, "limit")],
)
def test_it_refuses_a_bad_limit_or_offset(limit, offset, message):
    with pytest.raises(WorldbookError, match=message):
        search_entries("ada", limit=limit, offset=offset)


def test_it_refuses_a_query_that_is_too_long():
    with pytest.raises(WorldbookError) as raised:
        search_entries("x" * 201)
    assert raised.value.status == 400

"""The contact policy reads what it needs about a caller once, however much it shows."""

from __future__ import annotations

import pytest

from accounts.contacts import contact_save
from directory.models import Entry
from directory.policy import visible_endpoints
from directory.services import endpoint_add, entry_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(django_user_model):
    """Three entries with five ``contacts`` endpoints each; the first two saved Cora."""
    cora_user = django_user_model.objects.create_user("cora", "cora@example.org", "pw")
    cora = entry_create(nickname="Cora", handle="cora", owner=cora_user)
    entries = []
    for n in range(3):
        entry = entry_create(nickname=f"Person {n}", handle=f"person{n}")
        for m in range(5):
            endpoint_add(entry=entry, uri=f"sip:p{n}-{m}@example.org", audience="contacts")
        entries.append(entry)
    contact_save(owner=entries[0], saved=cora)
    contact_save(owner=entries[1], saved=cora)
    fetched = list(
        Entry.objects.filter(pk__in=[e.pk for e in entries])
        .prefetch_related("endpoints")
        .order_by("handle_canonical")
    )
    return cora_user, fetched


def test_it_reads_the_callers_contacts_in_one_query_for_many_entries(
    book, django_assert_num_queries
):
    caller, entries = book
    with django_assert_num_queries(1):
        shown = [len(visible_endpoints(entry, caller)) for entry in entries]

    assert shown == [5, 5, 0]


def test_it_reads_nothing_for_an_anonymous_caller(book, django_assert_num_queries):
    _, entries = book
    with django_assert_num_queries(0):
        shown = [len(visible_endpoints(entry, None)) for entry in entries]

    assert shown == [0, 0, 0]


def test_a_suspended_entry_of_the_caller_earns_no_contact_access(book):
    caller, entries = book
    Entry.objects.filter(owner=caller).update(status=Entry.Status.SUSPENDED)

    assert visible_endpoints(entries[0], caller) == []

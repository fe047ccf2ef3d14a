"""The queries one resolve runs: the raw baseline (drivers.raw_lookup) runs the same ones.

If resolve's query count changes, the baseline no longer measures "the same lookup
without Django", and these tests say so.
"""

from __future__ import annotations

import pytest
from django.db import connection

from benchmarks import drivers
from directory.exceptions import NotFound
from directory.models import Endpoint, Entry, Handle
from directory.selectors import entry_resolve
from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified


@pytest.fixture
def alice(db):
    entry = entry_create(nickname="Alice Liddell", handle="alice")
    handle = handle_add(entry=entry, kind="fediverse", raw="@alice@mastodon.social")
    handle_mark_verified(handle=handle)
    handle_add(entry=entry, kind="email", raw="alice@example.org")
    endpoint_add(entry=entry, uri="sip:alice@sip.example.org")
    endpoint_add(entry=entry, uri="xmpp:alice@jabber.org", audience="signed_in")
    return entry


def test_it_resolves_a_directory_handle_in_three_queries(alice, django_assert_num_queries):
    with django_assert_num_queries(3):
        entry, matched = entry_resolve("@alice")
        assert len(entry.handles.all()) == 2 and len(entry.endpoints.all()) == 2
    assert (entry, matched) == (alice, "@alice")


def test_it_resolves_a_verified_handle_in_three_queries(alice, django_assert_num_queries):
    with django_assert_num_queries(3):
        entry, matched = entry_resolve("@alice@mastodon.social")
        assert len(entry.handles.all()) == 2 and len(entry.endpoints.all()) == 2
    assert (entry, matched) == (alice, "fediverse:alice@mastodon.social")


def test_it_answers_a_miss_in_one_query(alice, django_assert_num_queries):
    with django_assert_num_queries(1), pytest.raises(NotFound):
        entry_resolve("@nobody")


def test_it_hides_a_suspended_entry_after_one_query(alice, django_assert_num_queries):
    Entry.objects.filter(pk=alice.pk).update(status=Entry.Status.SUSPENDED)
    with django_assert_num_queries(1), pytest.raises(NotFound):
        entry_resolve("@alice@mastodon.social")


class _CountingCursor:
    def __init__(self, cursor):
        self.cursor = cursor
        self.statements = 0

    def execute(self, *args, **kwargs):
        self.statements += 1
        return self.cursor.execute(*args, **kwargs)

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("kind", "key", "found", "statements"),
    [
        ("directory", "alice", True, 3),
        ("fediverse", "alice@mastodon.social", True, 3),
        ("email", "alice@example.org", False, 1),  # claimed, not verified
        ("directory", "nobody", False, 1),
    ],
)
def test_the_raw_baseline_runs_as_many_statements_as_resolve(alice, kind, key, found, statements):
    import psycopg

    quote = connection.ops.quote_name
    sql = drivers.RawStatements.for_tables(
        *(quote(m._meta.db_table) for m in (Entry, Handle, Endpoint))
    )
    connection.ensure_connection()
    cursor = _CountingCursor(psycopg.Cursor(connection.connection))
    assert drivers.raw_lookup(cursor, sql, kind, key) is found
    assert cursor.statements == statements

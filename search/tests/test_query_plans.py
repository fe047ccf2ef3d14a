"""The database backend's lookups are answered from the term index, on each database."""

from __future__ import annotations

import pytest
from django.db import connection

from search.backends import get_backend
from search.text import parse_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_entries(make_entry):
    for n in range(3):
        make_entry(f"Marguerite Number{n}", f"marguerite{n}")


@pytest.mark.postgres
def test_it_reads_words_and_prefixes_from_the_pattern_index_on_postgresql(some_entries):
    with connection.cursor() as cursor:
        # Three rows make a sequential scan cheapest; forbid it (and bitmap scans, which a
        # table without a visibility map favours) to see which index fits.
        for kind in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
    backend = get_backend()
    sql, params = backend.ranked_sql(parse_query("numbr1 marg"))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Whenever the term index is read, it alone answers (it carries every column read):
    # here the whole-handle branches and the last word's prefix range at least.
    assert plan.count("Index Only Scan using search_term_lookup") >= 3, plan
    assert "Index Scan using search_term_lookup" not in plan, plan
    # varchar_pattern_ops turns LIKE 'marg%' into an index range, whatever the collation.
    assert "~>=~ 'marg'" in plan and "~<~ 'marh'" in plan


def test_it_reads_prefixes_from_the_term_index_on_sqlite(some_entries):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query planner")
    sql, params = get_backend().ranked_sql(parse_query("marg"))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "search_term_lookup (field=? AND term>? AND term<?)" in plan

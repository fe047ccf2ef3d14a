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


def _plan(query: str) -> str:
    sql, params = get_backend().ranked_sql(parse_query(query))
    with connection.cursor() as cursor:
        # Three rows make a sequential scan cheapest; forbid it (and bitmap scans, which a
        # table without a visibility map favours) to see which index fits.
        for kind in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_it_reads_words_and_prefixes_from_the_pattern_index_on_postgresql(some_entries):
    plan = _plan("marg")
    # varchar_pattern_ops turns LIKE 'marg%' into an index range, whatever the collation.
    assert "~>=~ 'marg'" in plan and "~<~ 'marh'" in plan
    # The term index alone answers (it carries every column read): the whole-handle
    # branches and the word's exact terms and prefix range.
    assert plan.count("Index Only Scan using search_term_lookup") == 4, plan
    assert "Index Scan using search_term_lookup" not in plan, plan


@pytest.mark.postgres
def test_it_reads_the_longest_word_from_the_term_index_alone(some_entries):
    lines = _plan("marg number1").splitlines()
    # The longest word ("number1", with its one-typo variants) is read first, by an
    # index-only scan of the term index whose condition names it.
    conditions = [
        following
        for i, line in enumerate(lines)
        if "Index Only Scan using search_term_lookup" in line
        for following in lines[i + 1 : i + 2]
    ]
    assert any("Index Cond" in c and "number1" in c for c in conditions), "\n".join(lines)


def test_it_reads_prefixes_from_the_term_index_on_sqlite(some_entries):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query planner")
    sql, params = get_backend().ranked_sql(parse_query("marg"))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "search_term_lookup (field=? AND term>? AND term<?)" in plan

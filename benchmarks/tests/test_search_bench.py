"""The search benchmark's query generator and figures: typos as many as claimed."""

from __future__ import annotations

import random

import pytest
from rapidfuzz.distance import DamerauLevenshtein

from benchmarks.search_bench import make_query, percentile, table, with_typos
from search.text import fold, typo_budget


@pytest.mark.parametrize("typos", [1, 2])
def test_it_makes_words_exactly_as_many_edits_away_as_asked(typos):
    rng = random.Random(7)
    for word in ("Alexander", "Catherine", "Wilhelmina", "Giuseppe", "Наталья", "Fernandes"):
        typed = with_typos(word, typos, rng)
        if typed is None:
            assert typos == 2 and len(word) < 11  # too short to keep nine letters
            continue
        assert DamerauLevenshtein.distance(fold(word), fold(typed)) == typos
        assert typo_budget(fold(typed)) >= typos


def test_it_makes_one_query_of_each_class_from_a_name():
    rng = random.Random(3)
    exact = {make_query("exact", 1, "Wilhelmina Brackwater", "mina", rng) for _ in range(20)}
    assert {q.text for q in exact} == {"@mina", "Wilhelmina Brackwater"}
    prefix = make_query("prefix", 1, "Wilhelmina Brackwater", "mina", rng)
    assert prefix.text == "Wilhelmina Brack" and prefix.nickname == "wilhelmina brackwater"
    typo2 = make_query("typo2", 1, "Wilhelmina Brackwater", "mina", rng)
    assert typo2 is not None and typo2.text != "Wilhelmina Brackwater"
    assert make_query("typo2", 1, "Ada Byron", "ada", rng) is None  # no word of nine letters


def test_it_reports_nearest_rank_percentiles_and_tables():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95
    assert percentile(values, 99) == 99 and percentile([3.0], 99) == 3.0
    assert table([["a", "bb"], ["1", "2"]]) == "| a | bb |\n|---|----|\n| 1 | 2  |"

"""Folding, words, query parsing, matching and highlighting (no database)."""

from __future__ import annotations

import pytest

from directory.exceptions import WorldbookError
from search.text import (
    QUERY_MAX_LENGTH,
    RANK_EXACT,
    RANK_PREFIX,
    RANK_TYPO,
    deletions,
    fold,
    handle_name,
    highlight,
    index_words,
    parse_query,
    word_rank,
)


def test_it_folds_accents_case_and_compatibility_forms():
    assert fold("José NÚÑEZ") == "jose nunez"
    assert fold("Straße") == "strasse"
    assert fold("ﬁne") == "fine"  # the fi ligature is a compatibility form
    assert fold("Ἀθῆναι") == "αθηναι"


def test_it_keeps_cyrillic_and_cjk_letters():
    assert fold("Дмитрий") == "дмитрии"  # й loses its breve like any accent; Cyrillic stays
    assert fold("王小明") == "王小明"


def test_it_splits_words_on_anything_but_letters_and_digits():
    assert index_words("José Núñez-Ortiz") == ["jose", "nunez", "ortiz"]
    assert index_words("alice@mastodon.social") == ["alice", "mastodon", "social"]
    assert index_words("Ada  ADA ada") == ["ada"]


def test_it_indexes_every_suffix_of_a_script_written_without_spaces():
    assert index_words("王小明") == ["王小明", "小明", "明"]


def test_it_never_indexes_a_long_run_of_digits():
    assert index_words("Bob 3906568512 Bond 007") == ["bob", "bond", "007"]


@pytest.mark.parametrize(
    ("canonical", "name"),
    [
        ("ada@mastodon.social", "ada"),
        ("Ada.L@example.org", "Ada.L"),
        ("@Ada:matrix.org", "Ada"),
        ("ada.bsky.social", "ada"),
        ("www.ada.dev", "ada"),
        ("https://ada.dev/about", "ada"),
        ("ada-l", "ada-l"),
        ("live:ada.l", "live:ada.l"),
    ],
)
def test_it_takes_the_name_part_of_an_external_handle(canonical, name):
    assert handle_name(canonical) == name


def test_it_lists_one_deletion_variants_of_words_of_five_letters_or_more():
    assert deletions("alice") == {"lice", "aice", "alce", "alie", "alic"}
    assert deletions("anna") == set()


@pytest.mark.parametrize(
    ("query_word", "word", "rank"),
    [
        ("alice", "alice", RANK_EXACT),
        ("alic", "alice", RANK_PREFIX),
        ("alicee", "alice", RANK_TYPO),  # insertion
        ("alise", "alice", RANK_TYPO),  # substitution
        ("ailce", "alice", RANK_TYPO),  # transposition
        ("alicia", "alice", None),  # two edits
        ("alxce", "alixe", None),  # two substitutions
        ("alce", "alice", None),  # one deletion, but the query word has four letters
        ("bpb", "bob", None),  # short words must be typed right
    ],
)
def test_it_forgives_one_typo_in_words_of_five_letters_or_more(query_word, word, rank):
    assert word_rank(query_word, word) == rank


def test_it_requires_two_letters_for_a_prefix_except_in_spaceless_scripts():
    assert word_rank("a", "alice") is None
    assert word_rank("al", "alice") == RANK_PREFIX
    assert word_rank("王", "王小明") == RANK_PREFIX
    assert word_rank("al", "alice", prefix=False) is None


def test_only_the_last_word_of_a_query_is_a_prefix():
    assert parse_query("maria ga").prefix == "ga"
    assert parse_query("ga maria").prefix == "maria"
    assert parse_query("maria g").prefix is None  # one letter: too short
    assert parse_query("王").prefix == "王"
    parsed = parse_query("ga maria")
    assert highlight("Gabriel Mariani", parsed) == "Gabriel <mark>Maria</mark>ni"


def test_it_parses_a_query_into_whole_forms_and_words():
    parsed = parse_query("  @José_N ")
    assert parsed.whole == ("@jose_n", "jose_n")
    assert parsed.words == ("jose", "n")
    assert parse_query(" \u200b ").is_empty


def test_it_refuses_a_query_too_long_or_with_too_many_words():
    with pytest.raises(WorldbookError, match="at most 200 characters"):
        parse_query("a" * (QUERY_MAX_LENGTH + 1))
    with pytest.raises(WorldbookError, match="at most 8 words"):
        parse_query("a b c d e f g h i")


def test_it_marks_matches_in_the_original_text_accents_included():
    parsed = parse_query("jose nun")
    assert highlight("José Núñez", parsed) == "<mark>José</mark> <mark>Núñ</mark>ez"
    # A combining accent after the last matched letter belongs to the mark.
    assert highlight("Jose\u0301 X", parsed) == "<mark>Jose\u0301</mark> X"


def test_it_marks_the_whole_word_of_a_typo_and_a_handle_prefix():
    assert highlight("Alice Smith", parse_query("alise")) == "<mark>Alice</mark> Smith"
    assert highlight("alice_smith", parse_query("@alice_s"), whole=True) == (
        "<mark>alice_s</mark>mith"
    )
    assert highlight("@alice@host.example", parse_query("alice@ho"), whole=True) == (
        "@<mark>alice@ho</mark>st.example"
    )


def test_it_escapes_everything_it_does_not_mark():
    html = highlight('<script>alert("x")</script> Eve', parse_query("eve"))
    assert html == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>Eve</mark>"
    assert highlight("<b>", parse_query("b")) == "&lt;<mark>b</mark>&gt;"

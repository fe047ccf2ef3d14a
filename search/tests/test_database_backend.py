"""The database search backend, on whichever database the tests run (SQLite or PostgreSQL).

Every entry is made through the directory's actions; the index is written by the sync task
they schedule on commit (see conftest.py).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory import services
from directory.models import Entry, Handle
from search.backends import get_backend
from search.backends.database import DatabaseBackend, document_terms
from search.models import SearchDocument, SearchTerm, SearchWord, TermVariant
from search.services import schedule_entry_sync
from search.text import parse_query

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.SEARCH_BACKEND = "database"


def handles(query: str, *, limit: int = 20, offset: int = 0) -> list[str]:
    """The directory handles the backend returns for ``query``, in its order."""
    ids, _ = get_backend().search(query, limit=limit, offset=offset)
    by_id = dict(Entry.objects.filter(pk__in=ids).values_list("pk", "handle"))
    return [by_id[entry_id] for entry_id in ids]


def test_it_uses_the_database_backend():
    assert isinstance(get_backend(), DatabaseBackend)


@pytest.mark.parametrize(
    "query",
    ["wilhelmina", "Wilhelmina", "wilhelmnia", "wilhelminna", "wilhelmna", "vilhelmina"],
)
def test_it_finds_a_long_word_typed_with_at_most_one_typo(make_entry, query):
    make_entry("Wilhelmina Brackwater", "mina")
    assert handles(query) == ["mina"]


def test_it_forgives_two_typos_from_nine_letters_but_not_three(make_entry):
    make_entry("Wilhelmina Brackwater", "mina")
    assert handles("wilhelmmnia") == ["mina"]  # transposition + substitution
    assert handles("vilhelmena") == ["mina"]  # two substitutions
    assert handles("vilhelmeno") == []  # three


def test_it_forgives_only_one_typo_in_an_eight_letter_word(make_entry):
    make_entry("Brackwat Quentin", "quentin")
    assert handles("brackwet") == ["quentin"]
    assert handles("bruckwet") == []


def test_it_does_not_forgive_a_typo_in_a_four_letter_word(make_entry):
    make_entry("Anna Karenina", "anna")
    assert handles("anne") == []
    assert handles("anna") == ["anna"]


def test_it_matches_prefixes_from_two_letters(make_entry):
    make_entry("Quentin Brackwater", "quentin")
    assert handles("qu") == ["quentin"]
    assert handles("brack") == ["quentin"]
    assert handles("q") == []


def test_it_matches_the_directory_handle_as_typed(make_entry):
    make_entry("Q", "quentin_b")
    assert handles("@quentin_b") == ["quentin_b"]
    assert handles("@quentin_") == ["quentin_b"]
    assert handles("quentin") == ["quentin_b"]


def test_it_ignores_accents_both_ways(make_entry):
    make_entry("José Núñez", "jnunez")
    make_entry("Jose Nunez", "jnunez2")
    assert sorted(handles("Jose")) == ["jnunez", "jnunez2"]
    assert sorted(handles("JOSÉ NÚÑEZ")) == ["jnunez", "jnunez2"]


def test_it_finds_cyrillic_names(make_entry):
    make_entry("Дмитрий Иванов", "dmitry")
    assert handles("Дмитрий") == ["dmitry"]
    assert handles("иван") == ["dmitry"]
    assert handles("Дмитрй") == ["dmitry"]  # one letter missing from a seven-letter word


def test_it_finds_cjk_names_whole_by_prefix_and_by_given_name(make_entry):
    make_entry("王小明", "xiaoming")
    make_entry("田中 さくら", "sakura")
    assert handles("王小明") == ["xiaoming"]
    assert handles("王") == ["xiaoming"]
    assert handles("小明") == ["xiaoming"]
    assert handles("さくら") == ["sakura"]


def test_it_requires_every_word_of_the_query(make_entry):
    make_entry("Ada Lovelace", "ada")
    make_entry("Ada Byron", "byron")
    make_entry("Augusta Lovelace", "augusta")
    assert handles("ada lovelace") == ["ada"]
    assert handles("lovelace ada") == ["ada"]
    assert sorted(handles("lovelace")) == ["ada", "augusta"]
    assert handles("ada lovelaec") == ["ada"]  # one typo in the long word
    assert handles("ada nobody") == []


def test_it_ranks_handle_then_verified_handle_then_word_then_prefix_then_typo(make_entry):
    make_entry("Alise Typo", "typo")
    make_entry("Alicent Prefix", "prefix")
    make_entry("Alice Plain", "plain")
    make_entry("Alice Proven", "proven", verified=[("fediverse", "@proven@mastodon.social")])
    make_entry("Someone", "github_owner", verified=[("github", "alice")])
    make_entry("Zed", "alice")
    assert handles("alice") == ["alice", "github_owner", "proven", "plain", "prefix", "typo"]


def test_it_ranks_full_words_before_prefixes_in_multi_word_queries(make_entry):
    make_entry("Ada Lovelace", "b_exact")
    make_entry("Ada Lovelaceworth", "a_prefix")
    assert handles("ada lovelace") == ["b_exact", "a_prefix"]


def test_it_breaks_ties_by_verified_then_handle(make_entry):
    make_entry("Ada", "c_ada")
    make_entry("Ada", "b_ada")
    make_entry("Ada", "z_ada", verified=[("github", "zada")])
    assert handles("ada") == ["z_ada", "b_ada", "c_ada"]


def test_it_pages_through_results_and_counts_them_all(make_entry):
    for letter in "abcde":
        make_entry("Marguerite", f"{letter}_marguerite")
    backend = get_backend()
    first, total = backend.search("marguerite", limit=2, offset=0)
    second, _ = backend.search("marguerite", limit=2, offset=2)
    past, past_total = backend.search("marguerite", limit=2, offset=10)
    assert total == 5 and past_total == 5 and past == []
    assert handles("marguerite", limit=2) == ["a_marguerite", "b_marguerite"]
    assert handles("marguerite", limit=2, offset=2) == ["c_marguerite", "d_marguerite"]
    assert not set(first) & set(second)


def test_it_answers_an_empty_query_with_nothing(make_entry):
    make_entry("Ada", "ada")
    assert get_backend().search("  ", limit=20, offset=0) == ([], 0)
    assert get_backend().search("-- !", limit=20, offset=0) == ([], 0)


def test_it_never_indexes_unlisted_or_suspended_entries(make_entry, built):
    hidden = make_entry("Ottoline Hidden", "hidden", discoverable=False)
    shown = make_entry("Ottoline Shown", "shown")
    assert not SearchDocument.objects.filter(pk=hidden.pk).exists()
    assert handles("ottoline") == ["shown"]

    with built():
        Entry.objects.filter(pk=shown.pk).update(status=Entry.Status.SUSPENDED)
        schedule_entry_sync(shown.pk)
    assert handles("ottoline") == []
    assert not SearchDocument.objects.exists()
    assert not SearchTerm.objects.exists()

    with built():
        services.entry_update(entry=hidden, discoverable=True)
    assert handles("ottoline") == ["hidden"]
    with built():
        services.entry_update(entry=hidden, discoverable=False)
    assert handles("ottoline") == []


def test_it_drops_a_deleted_entry(make_entry, built):
    entry = make_entry("Ottoline", "otto")
    with built():
        services.entry_delete(entry=entry)
    assert handles("ottoline") == []
    assert not SearchTerm.objects.exists()


def test_it_follows_renames(make_entry, built):
    entry = make_entry("Wilhelmina Quaxleigh", "mina")
    with built():
        services.entry_update(entry=entry, nickname="Wilhelmina Brackwater", handle="minab")
    assert handles("brackwater") == ["minab"]
    assert handles("quaxleigh") == []
    assert handles("@mina") == ["minab"]  # by prefix of the new handle only
    assert handles("@minab") == ["minab"]


def test_it_searches_verified_handles_but_never_unverified_claims(make_entry, built):
    entry = make_entry(
        "Plain Name",
        "plain",
        verified=[("fediverse", "@proudfoot@mastodon.social")],
        claimed=[("github", "octocatterpillar"), ("email", "secret@hidden.example")],
    )
    assert handles("proudfoot@mastodon.social") == ["plain"]
    assert handles("@proudfoot@mastodon.social") == ["plain"]
    assert handles("proudfoot@mast") == ["plain"]  # typed so far
    assert handles("proudfoot") == ["plain"]
    assert handles("mastodon") == []  # a server's name does not list its users
    assert handles("octocatterpillar") == []
    assert handles("secret") == []
    assert handles("hidden.example") == []

    claim = Handle.objects.get(entry=entry, kind="github")
    with built():
        services.handle_mark_verified(handle=claim)
    assert handles("octocatterpillar") == ["plain"]

    with built():
        services.handle_remove(handle=claim)
    assert handles("octocatterpillar") == []


def test_it_never_indexes_endpoints_or_phone_numbers(make_entry, built):
    entry = make_entry(
        "Plain Name",
        "plain",
        verified=[("whatsapp", "+390656851242"), ("sip", "+390612345678@sip.example.org")],
    )
    with built():
        services.endpoint_add(entry=entry, uri="sip:ringme@voip.example.org")
        services.endpoint_add(entry=entry, uri="tel:+390699999999")
    terms = set(SearchTerm.objects.values_list("term", flat=True))
    assert terms == {"plain", "name"}
    assert not any(
        char.isdigit()
        for term in TermVariant.objects.values_list("variant", flat=True)
        for char in term
    )
    assert handles("ringme") == []
    assert handles("390656851242") == []
    assert SearchDocument.objects.get(pk=entry.pk).document["verified"] is True
    assert set(SearchTerm.objects.values_list("verified", flat=True)) == {True}


def test_it_syncs_idempotently(make_entry):
    entry = make_entry("Ottoline Morrell", "otto", verified=[("github", "ottoline")])
    before = sorted(SearchTerm.objects.values_list("document_id", "field", "term"))
    backend = get_backend()
    backend.sync_entry(entry.pk)
    backend.sync_entry(entry.pk)
    assert sorted(SearchTerm.objects.values_list("document_id", "field", "term")) == before
    assert SearchDocument.objects.count() == 1
    assert before == sorted(
        (entry.pk, field, term)
        for field, term in document_terms(SearchDocument.objects.get().document)
    )


def test_it_skips_rewriting_an_unchanged_document(make_entry):
    entry = make_entry("Ottoline Morrell", "otto")
    with CaptureQueriesContext(connection) as queries:
        get_backend().sync_entry(entry.pk)
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))
    ]
    assert writes == []


def test_it_removes_an_entry_and_tolerates_removing_it_twice(make_entry):
    entry = make_entry("Ottoline", "otto")
    backend = get_backend()
    backend.remove_entry(entry.pk)
    backend.remove_entry(entry.pk)
    assert handles("ottoline") == []


def test_it_keeps_typo_variants_in_a_dictionary_shared_by_entries(make_entry):
    make_entry("Marguerite", "one")
    make_entry("Marguerite", "two")
    assert TermVariant.objects.filter(term="marguerite").count() == len("marguerite")
    assert not TermVariant.objects.filter(term__in=["one", "two"]).exists()  # too short


def test_it_prunes_only_the_removed_entrys_unshared_words(make_entry):
    gone = make_entry("Wilhelmina Marguerite", "gone")
    make_entry("Marguerite Stays", "stays")
    with CaptureQueriesContext(connection) as queries:
        get_backend().remove_entry(gone.pk)
    assert not TermVariant.objects.filter(term="wilhelmina").exists()
    assert not SearchWord.objects.filter(word="wilhelmina").exists()
    assert TermVariant.objects.filter(term="marguerite").exists()  # still used by "stays"
    assert SearchWord.objects.filter(word="marguerite").exists()
    # The prune names the removed entry's words: it never reads the whole dictionary.
    prunes = [q["sql"] for q in queries if "DELETE" in q["sql"] and "termvariant" in q["sql"]]
    assert prunes and all("wilhelmina" in sql for sql in prunes)


def test_it_prunes_the_words_a_renamed_entry_no_longer_uses(make_entry, built):
    entry = make_entry("Wilhelmina", "renamed")
    with built():
        services.entry_update(entry=entry, nickname="Garsington")
    assert not TermVariant.objects.filter(term="wilhelmina").exists()
    assert SearchWord.objects.filter(word="garsington").exists()
    assert handles("garsingtn") == ["renamed"]


def test_it_rebuilds_the_index_from_the_directory(make_entry):
    listed = make_entry("Ottoline Morrell", "otto")
    unlisted = make_entry("Ottoline Hidden", "hidden")
    gone = make_entry("Wilhelmina Gone", "gone")
    # Changes made behind the actions' back, so no sync ran: the index is now stale.
    Entry.objects.filter(pk=unlisted.pk).update(discoverable=False)
    Entry.objects.filter(pk=gone.pk).update(nickname="Renamed", status=Entry.Status.SUSPENDED)
    Entry.objects.filter(pk=listed.pk).update(nickname="Ottoline Garsington")
    SearchDocument.objects.filter(pk=listed.pk).delete()
    assert TermVariant.objects.filter(term="wilhelmina").exists()

    done: list[int] = []
    indexed = get_backend().rebuild(progress=done.append, batch_size=2)

    assert indexed == 1 and sum(done) == 1 and len(done) == 2
    assert handles("ottoline") == ["otto"]
    assert handles("garsington") == ["otto"]
    assert handles("morrell") == []
    assert handles("wilhelmina") == []
    assert set(SearchDocument.objects.values_list("pk", flat=True)) == {listed.pk}
    assert not TermVariant.objects.filter(term="wilhelmina").exists()
    assert TermVariant.objects.filter(term="garsington").exists()


def test_it_reports_its_health(make_entry):
    make_entry("Ada", "ada")
    health = get_backend().health()
    assert health.ok and health.backend == "database" and health.documents == 1


def test_it_answers_a_search_in_a_fixed_number_of_queries(make_entry):
    for n in range(6):
        make_entry(f"Margaret {n}", f"margaret{n}")
    with CaptureQueriesContext(connection) as queries:
        ids, total = get_backend().search("margarettt", limit=20, offset=0)
    assert total == 6 and len(ids) == 6
    # the typo dictionary, the vocabulary for two typos (SQLite: one query; PostgreSQL:
    # the trigram threshold, then the lookup), then matches ranked, paged and counted
    assert len(queries) == (4 if connection.vendor == "postgresql" else 3)
    with CaptureQueriesContext(connection) as queries:
        ids, total = get_backend().search("margaert", limit=20, offset=0)
    assert total == 6 and len(queries) == 2  # eight letters: one typo, no vocabulary


def test_it_takes_an_indexed_long_word_as_typed_without_a_two_typo_lookup(make_entry):
    make_entry("Marcantonio Sauli", "marco")
    make_entry("Marcantonia Sauli", "marcia")
    with CaptureQueriesContext(connection) as queries:
        ranked = handles("marcantonio")
    assert ranked == ["marco", "marcia"]  # the one-typo match still comes, after
    assert not any("searchword" in q["sql"] for q in queries)
    assert handles("marcantnoia") == ["marcia", "marco"]  # not indexed: two typos looked up


def test_a_short_prefix_is_answered_from_the_prefix_table_as_the_general_query_would(
    make_entry,
):
    """One word of two to four characters takes the prefix-table path; it must give the
    same page and count as the general statement, for every page and every tier: the
    directory handle, a verified handle, an exact word, then prefixes by verified, handle."""
    make_entry("Somebody", "ma")  # the directory handle itself
    make_entry("Verified Ma", "vma", verified=[("github", "ma")])
    make_entry("Ma Long", "malong")  # the word exactly
    make_entry("Marta Ma", "marta", verified=[("github", "marta-g")])
    for n, name in enumerate(["Mario", "Maria", "Mathieu", "Omar", "Imam", "Mar Mari"]):
        make_entry(f"{name} Rossi", f"{name.split()[0].lower()}{n}")
    make_entry("Someone", "mar_tin")  # only the handle starts with it
    make_entry("Unrelated", "zed")
    make_entry("Someone Else", "sel", verified=[("matrix", "@mab:matrix.org")])  # "@ma…"
    backend = get_backend()
    for word in ("ma", "mar", "mari", "Ro", "ze", "@ma"):
        parsed = parse_query(word)
        assert DatabaseBackend._is_short_prefix(parsed)
        sql, params = backend.ranked_sql(parsed)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            general = cursor.fetchall()
        expected_ids = [row[0] for row in general]
        assert expected_ids, word
        for offset in range(0, len(expected_ids) + 2, 2):
            ids, total = backend.search(word, limit=3, offset=offset)
            assert ids == expected_ids[offset : offset + 3], (word, offset)
            assert total == len(expected_ids), word
    # handle, verified handle, then the exact word: the verified entry first
    assert handles("ma")[:4] == ["ma", "vma", "marta", "malong"]


def test_a_longer_or_a_second_word_takes_the_general_statement():
    for query in ("maria", "ma r", "ma_", "@m", "m"):
        assert not DatabaseBackend._is_short_prefix(parse_query(query)), query

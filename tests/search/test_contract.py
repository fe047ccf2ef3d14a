"""The contract every search backend passes: same documents, same queries, same answers.

It always runs for the database backend (on the test database: PostgreSQL in CI, and
SQLite in the CI's second pass), and for Meilisearch whenever ``MEILISEARCH_URL`` names a
running server; each Meilisearch test uses an index of its own and deletes it afterwards.
Entries are made through the directory's actions, so the index is written by the same
path as in production (action → on-commit sync task → backend).
"""

from __future__ import annotations

import os
import uuid

import pytest

from directory import services
from directory.models import Entry
from search.backends import get_backend

pytestmark = pytest.mark.django_db

MEILISEARCH_URL = os.environ.get("MEILISEARCH_URL", "")
BACKENDS = [
    "database",
    pytest.param(
        "meilisearch",
        marks=pytest.mark.skipif(
            not MEILISEARCH_URL, reason="set MEILISEARCH_URL to run the contract on Meilisearch"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request, settings):
    settings.SEARCH_BACKEND = request.param
    if request.param == "meilisearch":
        settings.MEILISEARCH_URL = MEILISEARCH_URL
        settings.MEILISEARCH_API_KEY = os.environ.get("MEILISEARCH_API_KEY", "")
        settings.MEILISEARCH_INDEX = f"contract_{uuid.uuid4().hex[:12]}"
        get_backend().ensure_index()
    yield get_backend()
    if request.param == "meilisearch":
        meili = get_backend()
        meili._wait(meili.client.delete_index(meili.index_uid))


def found(query: str, limit: int = 10) -> list[str]:
    ids, _ = get_backend().search(query, limit=limit, offset=0)

    handles = dict(Entry.objects.filter(pk__in=ids).values_list("pk", "handle"))
    return [handles[i] for i in ids if i in handles]


def test_it_finds_names_with_one_typo(backend, make_entry):
    make_entry("Giuseppe Verdi", "giuseppe")
    make_entry("Elon Musk", "elonmusk")
    assert found("Giuseppe Verdy") == ["giuseppe"]
    assert found("elonmsk") == ["elonmusk"]
    assert found("verdi") == ["giuseppe"]


def test_it_finds_long_names_with_two_typos_but_short_ones_with_none(backend, make_entry):
    make_entry("Wilhelmina Brackwater", "mina")
    make_entry("Anna Karenina", "anna")
    assert found("wilhelmmnia") == ["mina"]
    assert found("vilhelmena") == ["mina"]
    assert found("brakwatr") == []  # eight letters: one typo only
    assert found("anne") == []  # four letters: no typo


def test_it_finds_prefixes_from_two_letters_for_search_as_you_type(backend, make_entry):
    make_entry("Quentin Brackwater", "quentin")
    assert found("qu") == ["quentin"]
    assert found("brack") == ["quentin"]
    assert found("quentin brack") == ["quentin"]
    # Only the last word is a prefix, as in Meilisearch: earlier words are typed out.
    assert found("qu brackwater") == []


def test_it_folds_accents_and_reads_other_scripts(backend, make_entry):
    make_entry("José Núñez", "jose")
    make_entry("Наталья Вениаминовна", "natasha")
    make_entry("王小明", "xiaoming")
    assert found("Jose Nunez") == ["jose"]
    assert found("JOSÉ") == ["jose"]
    assert found("наталья") == ["natasha"]
    assert found("ната") == ["natasha"]
    assert found("наталя") == ["natasha"]  # one typo
    assert found("Наталья Веньаминовба") == ["natasha"]  # two typos in twelve letters
    assert found("王小明") == ["xiaoming"]
    assert found("王") == ["xiaoming"]


def test_it_finds_verified_handles_but_not_claims(backend, make_entry):
    make_entry(
        "Ada Lovelace",
        "ada",
        verified=[("fediverse", "@countess@mastodon.social")],
        claimed=[("email", "secret@private.example")],
    )
    assert found("countess@mastodon.social") == ["ada"]
    assert found("secret@private.example") == []
    assert found("secret") == []


def test_it_ranks_exact_handle_then_verified_then_prefix_then_typo(backend, make_entry):
    typo = make_entry("Marci Bianchi", "bianchi")
    prefix = make_entry("Marcolino Neri", "neri")
    plain = make_entry("Marco Verdi", "mverdi")
    verified = make_entry("Marco Rossi", "mrossi", verified=[("github", "mrossi")])
    handle = make_entry("Somebody Else", "marco")
    ranked = found("marco")
    assert ranked == [
        handle.handle,
        verified.handle,
        plain.handle,
        prefix.handle,
        typo.handle,
    ]


def test_it_never_indexes_hidden_entries(backend, make_entry, built):
    make_entry("Hidden Person", "hiddenperson", discoverable=False)
    suspended = make_entry("Suspended Person", "suspendedperson")
    listed = make_entry("Listed Person", "listedperson")
    with built():
        services.entry_set_status(entry=suspended, status=Entry.Status.SUSPENDED)
    assert found("person") == ["listedperson"]
    assert found("hiddenperson") == []
    assert found("suspendedperson") == []
    assert {d["id"] for d in backend.indexed_documents()} == {listed.pk}


def test_it_never_indexes_phone_numbers(backend, make_entry):
    make_entry("Bob", "bob", verified=[("whatsapp", "+390656851242")])
    assert found("390656851242") == []
    assert found("+39 06 5685 1242") == []
    assert "390656851242" not in str(list(backend.indexed_documents()))


def test_it_pages_and_counts(backend, make_entry):
    for n in range(5):
        make_entry(f"Pagina {n}", f"pagina{n}")
    first, total = backend.search("pagina", limit=2, offset=0)
    second, _ = backend.search("pagina", limit=2, offset=2)
    assert total == 5 and len(first) == 2 and len(second) == 2
    assert not set(first) & set(second)

"""Index documents hold only what is public."""

from __future__ import annotations

import json

import pytest

from directory import services
from search.documents import entry_document, listed_documents

pytestmark = pytest.mark.django_db


def test_it_puts_only_public_fields_and_verified_handles_in_the_document(make_entry):
    entry = make_entry(
        "Ada Lovelace",
        "Ada",
        verified=[("fediverse", "@Ada@Mastodon.Social"), ("github", "ada-l")],
        claimed=[("email", "ada@private.example")],
    )
    services.endpoint_add(entry=entry, uri="sip:ada@voip.example.org")

    assert entry_document(entry) == {
        "id": entry.pk,
        "handle": "Ada",
        "handle_canonical": "ada",
        "nickname": "Ada Lovelace",
        "verified_handles": ["Ada@mastodon.social", "ada-l"],
        "verified_kinds": ["fediverse", "github"],
        "verified": True,
    }


def test_it_leaves_phone_numbers_out_but_still_counts_them_as_verified(make_entry):
    entry = make_entry(
        "Bob",
        "bob",
        verified=[("whatsapp", "+390656851242"), ("sip", "+390612345678@sip.example.org")],
    )
    document = entry_document(entry)
    assert document["verified_handles"] == []
    assert document["verified_kinds"] == []
    assert document["verified"] is True
    assert "390" not in json.dumps(document)


def test_it_marks_an_entry_without_verified_handles_unverified(make_entry):
    entry = make_entry("Carol", "carol", claimed=[("github", "carol")])
    assert entry_document(entry)["verified"] is False
    assert entry_document(entry)["verified_handles"] == []


def test_a_batch_of_documents_equals_the_documents_one_by_one(make_entry):
    ada = make_entry(
        "Ada Lovelace",
        "Ada",
        verified=[("fediverse", "@Ada@Mastodon.Social"), ("github", "ada-l")],
        claimed=[("email", "ada@private.example")],
    )
    bob = make_entry("Bob", "bob", verified=[("whatsapp", "+390656851242")])
    carol = make_entry("Carol", "carol", claimed=[("github", "carol")])
    hidden = make_entry("Hidden", "hidden", discoverable=False)

    batch = listed_documents([carol.pk, hidden.pk, ada.pk, bob.pk])

    # Listed entries only, in primary-key order, each exactly as entry_document makes it.
    assert batch == [entry_document(entry) for entry in (ada, bob, carol)]

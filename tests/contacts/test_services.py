"""Saving, removing and listing contacts, and importing a vCard file into them."""

from __future__ import annotations

import pytest

from accounts.contacts import (
    IMPORT_MAX_BYTES,
    FileTooLarge,
    acting_entry,
    contact_remove,
    contact_save,
    contact_save_by_handle,
    contacts_import_vcard,
    contacts_list,
)
from accounts.models import Contact
from directory.exceptions import ConflictError, Forbidden, NotFound
from directory.models import Entry
from directory.services import entry_create
from directory.vcards import VCardSyntaxError

from .conftest import vcard

pytestmark = pytest.mark.django_db


def test_it_saves_a_contact_once(alice, bob):
    contact, created = contact_save(owner=alice, saved=bob)
    again, created_again = contact_save(owner=alice, saved=bob, note="ignored")

    assert (created, created_again) == (True, False)
    assert again.pk == contact.pk
    assert Contact.objects.filter(owner=alice).count() == 1


def test_it_refuses_to_save_an_entry_in_its_own_book(alice):
    with pytest.raises(ConflictError):
        contact_save(owner=alice, saved=alice)
    assert not Contact.objects.exists()


def test_it_treats_a_suspended_entry_as_missing_when_saving(users, alice, hal):
    with pytest.raises(NotFound) as hidden:
        contact_save_by_handle(owner=alice, handle="@hal", user=users["alice"])
    with pytest.raises(NotFound) as missing:
        contact_save_by_handle(owner=alice, handle="@nobody-here", user=users["alice"])

    assert hidden.value.detail == missing.value.detail
    assert not Contact.objects.exists()


def test_it_removes_a_contact_by_any_spelling_of_its_handle(alice, bob):
    contact_save(owner=alice, saved=bob)

    contact_remove(owner=alice, handle="@BOB")

    assert not Contact.objects.exists()
    with pytest.raises(NotFound):
        contact_remove(owner=alice, handle="bob")


def test_it_lists_contacts_newest_first_without_suspended_ones(users, alice, bob, dora, hal):
    for saved in (bob, dora, hal):
        contact_save(owner=alice, saved=saved)

    listed = contacts_list(owner=alice, user=users["alice"])

    assert [c.saved.handle for c in listed] == ["dora", "bob"]


def test_it_acts_for_the_first_entry_unless_told_which(users, alice):
    second = entry_create(nickname="Alice at work", handle="alice-work", owner=users["alice"])

    assert acting_entry(user=users["alice"]) == alice
    assert acting_entry(user=users["alice"], handle="@alice-work") == second
    with pytest.raises(Forbidden):
        acting_entry(user=users["charlie"])


def test_it_refuses_to_act_for_someone_elses_entry(users, alice, bob):
    with pytest.raises(Forbidden):
        acting_entry(user=users["alice"], handle="bob")


def test_it_imports_a_vcard_matching_by_verified_handles_only(users, alice, bob, dora, hal):
    data = vcard(
        "FN:Bob by email\nEMAIL:bob@EXAMPLE.net",
        "FN:Bob by Matrix\nIMPP:matrix:u/bob:matrix.org",
        "FN:Bob by number\nTEL;TYPE=CELL:+1 (415) 555-0111",
        "FN:Dora by page\nURL:https://worldbook.example/@Dora",
        "FN:Dora by number\nTEL:+1 415 555 0122",
        "FN:Hal\nEMAIL:hal@example.net",
        "FN:Nobody\nEMAIL:nobody@example.com",
        "FN:Alice herself\nURL:acct:alice@worldbook.example",
    )

    report = contacts_import_vcard(owner=alice, user=users["alice"], data=data)

    assert report.summary() == "8 cards: 4 matched, 4 not in Worldbook"
    assert [(c.name, c.matched) for c in report.matched] == [
        ("Bob by email", ("@bob",)),
        ("Bob by Matrix", ("@bob",)),
        ("Bob by number", ("@bob",)),
        ("Dora by page", ("@dora",)),
    ]
    # Dora keeps her number unfindable, Hal is suspended, Alice is not her own contact.
    assert [c.name for c in report.unmatched] == [
        "Dora by number",
        "Hal",
        "Nobody",
        "Alice herself",
    ]
    assert (report.saved, report.already) == (2, 2)
    assert sorted(Contact.objects.filter(owner=alice).values_list("saved__handle", flat=True)) == [
        "bob",
        "dora",
    ]


def test_it_reads_national_numbers_in_the_region_given(users, alice, bob):
    data = vcard("FN:Bob\nTEL:(415) 555-0111")

    without = contacts_import_vcard(owner=alice, user=users["alice"], data=data)
    with_region = contacts_import_vcard(owner=alice, user=users["alice"], data=data, region="US")

    assert (len(without.matched), len(with_region.matched)) == (0, 1)


def test_it_never_creates_entries_for_unmatched_cards(users, alice):
    before = Entry.objects.count()

    report = contacts_import_vcard(
        owner=alice, user=users["alice"], data=vcard("FN:Stranger\nEMAIL:s@example.com")
    )

    assert report.summary() == "1 card: 0 matched, 1 not in Worldbook"
    assert Entry.objects.count() == before


def test_it_reports_unreadable_lines_with_their_numbers(users, alice, bob):
    data = vcard("FN:Bob\nEMAIL:bob@example.net") + b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\n"

    report = contacts_import_vcard(owner=alice, user=users["alice"], data=data)

    assert len(report.matched) == 1
    assert [line for line, _ in report.problems] == [6]
    assert report.summary().endswith("; 1 problem in the file")


def test_it_refuses_a_file_without_cards(users, alice):
    with pytest.raises(VCardSyntaxError):
        contacts_import_vcard(owner=alice, user=users["alice"], data=b"")


def test_it_refuses_a_file_over_the_limit_and_saves_nothing(users, alice, bob):
    data = vcard("FN:Bob\nEMAIL:bob@example.net", "NOTE:" + "x" * IMPORT_MAX_BYTES)

    with pytest.raises(FileTooLarge):
        contacts_import_vcard(owner=alice, user=users["alice"], data=data)
    assert not Contact.objects.exists()


def test_it_matches_an_acct_uri_of_this_directory_but_not_another_sites_page(users, alice, bob):
    data = vcard(
        "FN:Bob by acct\nIMPP:acct:bob@worldbook.example",
        "FN:Bob elsewhere\nURL:https://elsewhere.example/@bob",
    )

    report = contacts_import_vcard(owner=alice, user=users["alice"], data=data)

    assert [(c.name, c.matched) for c in report.cards] == [
        ("Bob by acct", ("@bob",)),
        ("Bob elsewhere", ()),
    ]


def test_a_malformed_line_costs_only_its_property_and_is_reported_with_its_line(
    users, alice, bob
):
    data = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\n"
        b'TEL;TYPE="cell:+1 415 555 0111\r\n'  # an unclosed quote: no ':' outside it
        b"EMAIL:bob@example.net\r\nEND:VCARD\r\n"
    )

    report = contacts_import_vcard(owner=alice, user=users["alice"], data=data)

    assert [card.matched for card in report.cards] == [("@bob",)]
    assert [line for line, _ in report.problems] == [4]
    assert report.problems[0][1].endswith("only this line was left out")

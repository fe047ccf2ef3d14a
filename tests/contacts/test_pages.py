"""The address book page, the "save contact" button on entry pages, and the vCard upload."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.contacts import IMPORT_MAX_BYTES, contact_save
from accounts.models import Contact

from .conftest import vcard, web_as

pytestmark = pytest.mark.django_db


def test_an_entry_page_offers_a_save_button_to_signed_in_people_with_an_entry(users, alice, bob):
    form = b'action="/account/contacts/save"'

    assert form in web_as(users["alice"]).get("/@bob").content
    assert form not in web_as(None).get("/@bob").content
    assert form not in web_as(users["charlie"]).get("/@bob").content
    assert form not in web_as(users["bob"]).get("/@bob").content


def test_the_save_button_saves_and_returns_to_the_entry_page(users, alice, bob):
    client = web_as(users["alice"])

    response = client.post("/account/contacts/save", {"handle": "bob"})

    assert response.status_code == 302
    assert response["Location"] == "/@bob"
    assert Contact.objects.get().saved == bob
    page = client.get("/@bob").content
    assert b'action="/account/contacts/save"' not in page
    assert b"In your" in page


def test_saving_refuses_a_foreign_next_address(users, alice, bob):
    response = web_as(users["alice"]).post(
        "/account/contacts/save", {"handle": "bob", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/@bob"


def test_saving_needs_the_csrf_token(users, alice, bob):
    client = web_as(users["alice"])
    client.handler.enforce_csrf_checks = True

    response = client.post("/account/contacts/save", {"handle": "bob"})

    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_saving_a_suspended_entry_shows_the_missing_entry_error(users, alice, hal):
    client = web_as(users["alice"])

    hidden = client.post("/account/contacts/save", {"handle": "hal"})
    missing = client.post("/account/contacts/save", {"handle": "nobody-here"})

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_the_contacts_page_lists_contacts_with_remove_buttons(users, alice, bob):
    contact_save(owner=alice, saved=bob)
    client = web_as(users["alice"])

    page = client.get("/account/contacts")

    assert page.status_code == 200
    assert b"Bob Builder" in page.content
    assert b'action="/account/contacts/bob/remove"' in page.content
    removed = client.post("/account/contacts/bob/remove", {"as": "alice"})
    assert removed.status_code == 302
    assert not Contact.objects.exists()


def test_the_contacts_page_needs_sign_in(alice):
    response = web_as(None).get("/account/contacts")

    assert response.status_code == 302
    assert "/account/contacts" in response["Location"]


def test_the_contacts_page_tells_a_person_without_entry_to_make_one(users):
    response = web_as(users["charlie"]).get("/account/contacts")

    assert response.status_code == 403
    assert b"Create an entry first" in response.content
    assert b'href="/account/entries/new">Create your entry</a>' in response.content


def _upload(client, data: bytes, **fields):
    file = SimpleUploadedFile("book.vcf", data, content_type="text/vcard")
    return client.post("/account/contacts/import", {"file": file, **fields})


def test_the_upload_form_shows_what_matched(users, alice, bob):
    data = vcard(
        "FN:Bob\nEMAIL:bob@example.net",
        "FN:Zed\nEMAIL:zed@example.com",
        "FN:Yan\nEMAIL:yan@example.com",
    )

    response = _upload(web_as(users["alice"]), data)

    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert "3 cards: 1 matched, 2 not in Worldbook" in text
    assert "Zed" in text and "Yan" in text
    assert Contact.objects.get().saved == bob


def test_the_upload_form_refuses_a_large_file_with_a_clear_error(users, alice, bob):
    data = vcard("FN:Bob\nEMAIL:bob@example.net", "NOTE:" + "x" * IMPORT_MAX_BYTES)

    response = _upload(web_as(users["alice"]), data)

    assert response.status_code == 413
    assert b"are accepted" in response.content
    assert not Contact.objects.exists()


def test_the_upload_form_asks_for_a_file(users, alice):
    response = web_as(users["alice"]).post("/account/contacts/import", {})

    assert response.status_code == 400
    assert b"Choose a vCard file" in response.content


def test_the_upload_form_refuses_an_unknown_region(users, alice, bob):
    response = _upload(web_as(users["alice"]), vcard("FN:Bob\nTEL:(415) 555-0111"), region="QQ")

    assert response.status_code == 400
    assert b"is not a region code" in response.content
    assert not Contact.objects.exists()

"""/api/v1/contacts: list, save, remove, import a vCard file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.contacts import IMPORT_MAX_BYTES
from accounts.models import Contact
from directory.services import entry_create

from .conftest import api_as, assert_problem, vcard

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts"


def test_it_saves_lists_and_removes_a_contact(users, alice, bob):
    client = api_as(users["alice"])

    created = client.post(URL, {"handle": "@Bob", "note": "builder"}, format="json")
    again = client.post(URL, {"handle": "bob"}, format="json")
    listed = client.get(URL)
    removed = client.delete(f"{URL}/bob")

    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json()["entry"]["handle"] == "@bob"
    assert created.json()["note"] == "builder"
    assert [(c["entry"]["handle"], c["note"]) for c in listed.json()] == [("@bob", "builder")]
    assert removed.status_code == 204
    assert not Contact.objects.exists()


def test_it_acts_for_the_entry_named_by_as(users, alice, bob):
    work = entry_create(nickname="Alice at work", handle="alice-work", owner=users["alice"])
    client = api_as(users["alice"])

    client.post(f"{URL}?as=alice-work", {"handle": "bob"}, format="json")

    assert list(Contact.objects.values_list("owner", flat=True)) == [work.pk]
    assert client.get(URL).json() == []
    assert len(client.get(f"{URL}?as=@alice-work").json()) == 1


def test_it_refuses_as_for_someone_elses_entry(users, alice, bob):
    response = api_as(users["alice"]).get(f"{URL}?as=bob")

    assert_problem(response, 403, "forbidden")


def test_it_needs_a_signed_in_person(alice):
    assert_problem(api_as(None).get(URL), 401, "unauthenticated")


def test_it_needs_an_entry_to_keep_an_address_book(users):
    assert_problem(api_as(users["charlie"]).get(URL), 403, "forbidden")


def test_saving_a_suspended_entry_answers_as_a_missing_one(users, alice, hal):
    client = api_as(users["alice"])

    hidden = client.post(URL, {"handle": "hal"}, format="json")
    missing = client.post(URL, {"handle": "nobody-here"}, format="json")

    assert_problem(hidden, 404, "not-found")
    assert hidden.content == missing.content


def test_it_refuses_to_save_the_callers_own_entry(users, alice):
    response = api_as(users["alice"]).post(URL, {"handle": "alice"}, format="json")

    assert assert_problem(response, 409, "conflict")["errors"] == {
        "handle": ["An entry cannot save itself as a contact."]
    }


def test_it_refuses_a_request_without_a_handle(users, alice):
    response = api_as(users["alice"]).post(URL, {}, format="json")

    assert "handle" in assert_problem(response, 400, "invalid-request")["errors"]


def test_removing_a_contact_not_saved_is_404(users, alice, bob):
    assert_problem(api_as(users["alice"]).delete(f"{URL}/bob"), 404, "not-found")


def _upload(client, data: bytes, **fields):
    file = SimpleUploadedFile("contacts.vcf", data, content_type="text/vcard")
    return client.post(f"{URL}/import", {"file": file, **fields}, format="multipart")


def test_it_imports_a_vcard_file(users, alice, bob):
    data = vcard("FN:Bob\nEMAIL:bob@example.net", "FN:Zed\nEMAIL:zed@example.com")

    response = _upload(api_as(users["alice"]), data)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == "2 cards: 1 matched, 1 not in Worldbook"
    assert body["cards"] == 2
    assert body["matched"] == [{"line": 1, "name": "Bob", "matched": ["@bob"]}]
    assert body["unmatched"] == [{"line": 6, "name": "Zed", "matched": []}]
    assert (body["saved"], body["already"], body["problems"]) == (1, 0, [])
    assert Contact.objects.get().saved == bob


def test_it_reads_national_numbers_in_the_region_sent(users, alice, bob):
    data = vcard("FN:Bob\nTEL:(415) 555-0111")

    response = _upload(api_as(users["alice"]), data, region="us")

    assert response.json()["summary"] == "1 card: 1 matched, 0 not in Worldbook"


def test_it_refuses_an_unknown_region(users, alice):
    response = _upload(api_as(users["alice"]), vcard("FN:Bob"), region="QQ")

    assert "region" in assert_problem(response, 400, "invalid-request")["errors"]


def test_it_refuses_a_file_over_the_limit_with_413(users, alice, bob):
    data = vcard("FN:Bob\nEMAIL:bob@example.net", "NOTE:" + "x" * IMPORT_MAX_BYTES)

    response = _upload(api_as(users["alice"]), data)

    body = assert_problem(response, 413, "file-too-large")
    assert str(IMPORT_MAX_BYTES) in body["detail"]
    assert not Contact.objects.exists()


def test_it_refuses_a_file_that_holds_no_card(users, alice):
    response = _upload(api_as(users["alice"]), b"hello\r\n")

    body = assert_problem(response, 400, "invalid-vcard")
    assert "line 1" in body["detail"]
    assert body["errors"] == {"file": [body["detail"]]}


def test_it_refuses_an_upload_without_a_file(users, alice):
    response = api_as(users["alice"]).post(f"{URL}/import", {}, format="multipart")

    assert "file" in assert_problem(response, 400, "invalid-request")["errors"]


def test_it_refuses_a_request_body_far_over_the_limit_before_reading_it(users, alice):
    data = vcard("FN:Bob", "NOTE:" + "x" * (IMPORT_MAX_BYTES + 200_000))

    response = _upload(api_as(users["alice"]), data)

    body = assert_problem(response, 413, "file-too-large")
    assert body["detail"].startswith("The request has")

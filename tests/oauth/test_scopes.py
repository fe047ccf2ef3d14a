"""Scopes on the address book: reading needs contacts:read, changing it entry:write."""

from __future__ import annotations

import pytest

from accounts.contacts import contact_save
from accounts.models import Contact
from tests.api.conftest import assert_problem
from tests.oauth.conftest import bearer, user_token

pytestmark = pytest.mark.django_db

CONTACTS_URL = "/api/v1/contacts"


@pytest.fixture
def bobs_contact(bobs_entry, alice) -> Contact:
    contact, _ = contact_save(owner=bobs_entry, saved=alice)
    return contact


def test_it_lists_contacts_to_a_token_granted_contacts_read(bob, bobs_contact, phone_app):
    token = user_token(bob, phone_app, scope="contacts:read")

    response = bearer(token).get(CONTACTS_URL)

    assert response.status_code == 200, response.content
    assert [c["entry"]["handle"] for c in response.json()] == ["@alice"]


def test_it_hides_contacts_from_a_token_granted_lookup_only(bob, bobs_contact, phone_app):
    token = user_token(bob, phone_app, scope="lookup")

    body = assert_problem(bearer(token).get(CONTACTS_URL), 403, "forbidden")

    assert "contacts:read" in body["detail"]
    assert "alice" not in str(body)


def test_it_refuses_to_save_a_contact_with_contacts_read_only(bob, bobs_entry, phone_app, alice):
    token = user_token(bob, phone_app, scope="contacts:read")

    response = bearer(token).post(CONTACTS_URL, {"handle": "alice"}, format="json")

    assert_problem(response, 403, "forbidden")
    assert not Contact.objects.exists()


def test_it_saves_a_contact_with_entry_write(bob, bobs_entry, phone_app, alice):
    token = user_token(bob, phone_app, scope="entry:write")

    response = bearer(token).post(CONTACTS_URL, {"handle": "alice"}, format="json")

    assert response.status_code == 201, response.content
    assert Contact.objects.filter(owner=bobs_entry, saved=alice).exists()

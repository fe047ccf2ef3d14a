"""Pages: the owner's numbers, discovery from a vCard file, the contacts notice, and the
moderators' admin list with "end forwarding now"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from pytest_django.asserts import assertContains, assertNotContains

from directory.numbers import services
from directory.numbers.models import LinkedNumber, NumberNotice
from tests.numbers.conftest import NUMBER, last_code, link

pytestmark = pytest.mark.django_db

VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice Old Number\r\nTEL;TYPE=CELL:+1 415-555-0123\r\n"
    "END:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Someone Else\r\nTEL:(415) 555-0199\r\n"
    "END:VCARD\r\n"
)


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_links_and_retires_a_number_on_the_page(alice, alice_user):
    page = browser(alice_user)
    assertContains(page.get("/account/numbers"), "Text me a code")
    sent = page.post(
        "/account/numbers/send", {"entry": "alice", "number": "(415) 555-0123", "region": "US"}
    )
    assert sent.status_code == 302
    linked = page.post(
        "/account/numbers/verify",
        {"entry": "alice", "number": NUMBER, "code": last_code()},
        follow=True,
    )
    assertContains(linked, "+1 ••••••23")
    assertNotContains(linked, "555-0123")
    number = LinkedNumber.objects.get()
    retired = page.post(
        f"/account/numbers/{number.pk}/retire", {"days": "45", "audience": "verified"}, follow=True
    )
    assertContains(retired, "Retiring (forwarding)")
    number.refresh_from_db()
    assert (number.state, number.forward_audience) == ("retiring", "verified")
    assert number.forward_until - number.retiring_at == timedelta(days=45)


def test_page_errors_are_shown_and_change_nothing(alice, alice_user, bob_user):
    page = browser(alice_user)
    bad = page.post("/account/numbers/send", {"entry": "alice", "number": "1-800-MYFAX"})
    assertContains(bad, "vanity", status_code=400)
    number = link(alice)
    wrong_days = page.post(f"/account/numbers/{number.pk}/retire", {"days": "many"})
    assert wrong_days.status_code == 400
    # Someone else's number is not found.
    other = browser(bob_user).post(f"/account/numbers/{number.pk}/retire", {"days": "5"})
    assert other.status_code == 404
    number.refresh_from_db()
    assert number.state == "active"


def test_discovery_page_shows_who_moved_where(alice, bob, bob_user):
    services.number_retire_start(linked=link(alice), days=30, audience="signed_in")
    page = browser(bob_user)
    assertContains(page.get("/discover"), "not kept")
    upload = SimpleUploadedFile("book.vcf", VCARD.encode(), content_type="text/vcard")
    shown = page.post("/discover", {"file": upload, "region": "US"})
    assertContains(shown, "1 moved, of 2 numbers")
    assertContains(shown, "Alice Old Number")
    assertContains(shown, 'href="/@alice"')
    assertNotContains(shown, "Someone Else")


@pytest.mark.postgres
def test_discovery_page_keeps_nothing_of_the_file(alice, bob, bob_user):
    from tests.numbers.test_purge import rows_holding

    page = browser(bob_user)
    upload = SimpleUploadedFile("book.vcf", VCARD.encode(), content_type="text/vcard")
    assert page.post("/discover", {"file": upload, "region": "US"}).status_code == 200
    assert rows_holding(["Someone Else", "4155550199", "555-0199", "Alice Old Number"]) == []


def test_the_owner_chooses_who_sees_the_forward(alice, alice_user):
    number = services.number_retire_start(linked=link(alice), days=10, audience="contacts")
    page = browser(alice_user)
    changed = page.post(
        f"/account/numbers/{number.pk}/audience", {"audience": "everyone"}, follow=True
    )
    assertContains(changed, "seen by everyone")
    refused = page.post(f"/account/numbers/{number.pk}/audience", {"audience": "friends"})
    assert refused.status_code == 400
    services.number_end_forwarding(linked=number)
    gone = page.post(f"/account/numbers/{number.pk}/audience", {"audience": "nobody"})
    assert gone.status_code == 409
    number.refresh_from_db()
    assert number.forward_audience == "everyone"


def test_discovery_page_refuses_what_it_cannot_read(bob_user):
    page = browser(bob_user)
    upload = SimpleUploadedFile("book.vcf", b"not a vcard at all", content_type="text/vcard")
    response = page.post("/discover", {"file": upload})
    assert response.status_code == 400
    assertContains(response, "line", status_code=400)
    assert page.post("/discover", {}).status_code == 400
    assert Client().get("/discover").status_code == 302  # sign-in first


def test_contacts_page_tells_who_retired_a_number(alice, bob, bob_user):
    services.number_retire_start(linked=link(alice), days=30)
    page = browser(bob_user)
    shown = page.get("/account/contacts")
    assertContains(shown, "Contacts who gave up a phone number")
    assertContains(shown, "Alice Liddell retired a phone number")
    notice = NumberNotice.objects.get()
    page.post(f"/account/numbers/notices/{notice.pk}/dismiss", {"as": "bob"})
    assertNotContains(page.get("/account/contacts"), "retired a phone number")


@pytest.fixture
def moderator(django_user_model) -> Client:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "root-pw-1")
    device = StaticDevice.objects.create(user=root, name="Backup codes")
    client = Client()
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_admin_lists_numbers_by_state_and_ends_forwarding(
    alice, bob, moderator, django_assert_max_num_queries
):
    soon = services.number_retire_start(linked=link(alice), days=3)
    later = services.number_retire_start(linked=link(bob, "+14155550177"), days=60)
    url = "/admin/numbers/linkednumber/"
    with django_assert_max_num_queries(12):
        listing = moderator.get(url, {"state": "retiring"})
    assertContains(listing, "+1 ••••••23")
    assertNotContains(listing, "555")
    upcoming = moderator.get(url, {"purge": "7"})
    assert list(upcoming.context["cl"].result_list) == [soon]

    ended = moderator.post(
        url, {"action": "end_forwarding_now", "_selected_action": [soon.pk]}, follow=True
    )
    assertContains(ended, "Ended 1 number")
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.state, soon.end_reason, later.state) == ("retired", "moderator", "retiring")
    assert soon.retired_at <= timezone.now()


@pytest.mark.parametrize(
    "card",
    [
        # No VERSION and nothing to name the card by: the TEL is still looked up.
        "BEGIN:VCARD\nTEL:+14155550123\nEND:VCARD\n",
        # vCard 2.1, a base64 PHOTO with no blank line after it and an indented TEL.
        "BEGIN:VCARD\nVERSION:2.1\nPHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ!!\n"
        " TEL;CELL:+14155550123\nEND:VCARD\n",
        "BEGIN:VCARD\nVERSION:2.1\nN:Old;Alice\nPHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ\n"
        "  SkZJRg\nTEL;CELL:+14155550123\nEND:VCARD\n",
    ],
)
def test_discovery_page_reads_the_numbers_of_odd_cards(alice, bob, bob_user, card):
    services.number_retire_start(linked=link(alice), days=30, audience="signed_in")
    upload = SimpleUploadedFile("book.vcf", card.encode(), content_type="text/vcard")
    shown = browser(bob_user).post("/discover", {"file": upload, "region": "US"})
    assertContains(shown, "1 moved, of 1 number")
    assertContains(shown, 'href="/@alice"')


def test_discovery_page_lists_numbers_it_cannot_read(bob_user):
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Vanity\nTEL:1-800-MYFAX\nEND:VCARD\n"
    upload = SimpleUploadedFile("book.vcf", card.encode(), content_type="text/vcard")
    shown = browser(bob_user).post("/discover", {"file": upload, "region": "US"})
    assertContains(shown, "0 moved, of 0 numbers")
    assertContains(shown, "Line 4: TEL")


def test_discovery_page_looks_up_only_valid_numbers_and_says_why_not_the_others(bob_user):
    card = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Greta\nTEL:030 1234567\nTEL:+49 30 1234567\n"
        "this line has no colon\nEND:VCARD\n"
    )
    upload = SimpleUploadedFile("book.vcf", card.encode(), content_type="text/vcard")
    shown = browser(bob_user).post("/discover", {"file": upload, "region": "US"})
    assertContains(shown, "0 moved, of 1 number")
    assertContains(shown, "Line 4: TEL skipped: &#x27;030 1234567&#x27; is not a valid number")
    assertContains(shown, "Line 6: line has no &#x27;:&#x27;")

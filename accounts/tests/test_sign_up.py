"""Sign-up with an email address and a password, and the email confirmation link."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.emails import confirmation_token
from accounts.models import AuditEvent, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase"


def _sign_up(client, email="carol@example.org", password=NEW_PASSWORD, again=None):
    return client.post(
        reverse("accounts:signup"),
        {"email": email, "password1": password, "password2": again or password},
    )


def _link(message) -> str:
    return re.search(r"https://worldbook\.example(/account/confirm-email/\S+/)", message.body)[1]


def test_it_makes_an_account_from_an_email_and_a_password_and_signs_it_in(client, mailoutbox):
    response = _sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")
    user = User.objects.get(email="carol@example.org")
    assert user.check_password(NEW_PASSWORD)
    assert user.email_confirmed_at is None
    assert client.get(reverse("accounts:home")).context["user"] == user
    assert [m.to for m in mailoutbox] == [["carol@example.org"]]
    assert list(user.audit_events.values_list("action", flat=True)) == [
        AuditEvent.Action.SIGN_IN,
        AuditEvent.Action.SIGN_UP,
    ]


def test_the_sign_up_page_asks_for_no_phone_number(client):
    page = client.get(reverse("accounts:signup")).content.decode().lower()

    assert 'name="email"' in page
    assert "tel" not in re.findall(r'type="(\w+)"', page)
    assert 'name="phone' not in page


def test_it_refuses_an_address_that_has_an_account_whatever_its_case(client, alice):
    response = _sign_up(client, email="ALICE@example.org")

    assert response.status_code == 400
    assert "exists" in response.context["form"].errors["email"][0]
    assert User.objects.count() == 1


def test_it_refuses_a_weak_password_and_writes_nothing(client, mailoutbox):
    response = _sign_up(client, password="12345678")

    assert response.status_code == 400
    assert response.context["form"].errors["password1"]
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()
    assert mailoutbox == []


def test_it_refuses_two_different_passwords(client):
    response = _sign_up(client, again=NEW_PASSWORD + "!")

    assert response.status_code == 400
    assert response.context["form"].errors["password2"]
    assert not User.objects.exists()


def test_the_link_confirms_the_address_once_and_audits_it(client, mailoutbox):
    _sign_up(client)
    link = _link(mailoutbox[0])

    page = client.get(link)
    assert page.status_code == 200
    user = User.objects.get(email="carol@example.org")
    assert user.email_confirmed_at is not None
    client.get(link)
    assert user.audit_events.filter(action=AuditEvent.Action.EMAIL_CONFIRMED).count() == 1


def test_an_unconfirmed_account_sees_a_banner_until_it_confirms(client, mailoutbox):
    _sign_up(client)
    assert (
        "Please confirm your email address" in client.get(reverse("accounts:home")).content.decode()
    )

    client.get(_link(mailoutbox[0]))

    assert "Please confirm" not in client.get(reverse("accounts:home")).content.decode()


def test_an_expired_link_is_refused(client, alice):
    with time_machine.travel(timezone.now() - timezone.timedelta(days=4)):
        token = confirmation_token(alice)

    response = client.get(reverse("accounts:confirm-email", args=[token]))

    assert response.status_code == 400
    assert response.context["problem"] == "expired"
    alice.refresh_from_db()
    assert alice.email_confirmed_at is None


def test_a_link_for_an_old_address_or_a_forged_one_is_refused(client, alice):
    token = confirmation_token(alice)
    alice.email = "alice@elsewhere.example"
    alice.save()

    assert client.get(reverse("accounts:confirm-email", args=[token])).status_code == 400
    assert (
        client.get(reverse("accounts:confirm-email", args=[token[:-2] + "xx"])).status_code == 400
    )
    alice.refresh_from_db()
    assert alice.email_confirmed_at is None


def test_it_sends_the_link_again_on_request(client, alice, mailoutbox):
    client.force_login(alice)

    client.post(reverse("accounts:resend-confirmation"))

    assert [m.to for m in mailoutbox] == [["alice@example.org"]]
    assert "/account/confirm-email/" in mailoutbox[0].body


# --------------------------------------------------------------------------------------
# The sign-up service: a taken address is a clear error, also under a race


def test_the_service_refuses_a_taken_address_with_a_clear_error(alice):
    from accounts.services import EmailTaken, user_sign_up

    with pytest.raises(EmailTaken) as refused:
        user_sign_up(email="Alice@Example.org", password=NEW_PASSWORD)

    assert refused.value.status == 409
    assert "An account with this email address exists" in refused.value.detail
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_at_once_give_one_account_and_one_clear_error():
    """The second sign-up passes the service's check while the first is not yet committed,
    then waits on the unique index: the constraint decides, and the loser hears
    EmailTaken, not an IntegrityError."""
    import threading

    from django.db import connection, transaction

    from accounts.services import EmailTaken, user_sign_up

    outcome: dict[str, object] = {}

    def second_sign_up() -> None:
        try:
            outcome["user"] = user_sign_up(email="race@example.org", password=NEW_PASSWORD)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever it was
            outcome["error"] = exc
        finally:
            connection.close()

    def waiting_on_a_lock() -> int:
        with connection.cursor() as cursor:
            # Statistics views hold one snapshot per transaction unless it is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0]

    with transaction.atomic():
        first = user_sign_up(email="Race@example.org", password=NEW_PASSWORD)
        racer = threading.Thread(target=second_sign_up)
        racer.start()
        # Wait until the second insert blocks on the first's uncommitted row (or ends):
        # no fixed sleep, so a busy machine only makes this slower.
        while racer.is_alive() and not waiting_on_a_lock():
            racer.join(0.01)
    racer.join(60)

    assert not racer.is_alive()
    assert isinstance(outcome.get("error"), EmailTaken), outcome
    assert list(User.objects.values_list("pk", flat=True)) == [first.pk]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_UP).count() == 1

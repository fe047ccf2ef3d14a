"""Sign-in: password, then a second factor when the account has one; limits kept in the
database for passwords (django-axes) and for codes (django-otp throttling); audit events."""

from __future__ import annotations

import base64
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import AuditEvent
from accounts.otp import backup_codes_generate
from accounts.tests.conftest import PASSWORD, password_step, totp_code

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")
VERIFY = reverse("accounts:login-verify")


def _actions(user) -> list[str]:
    return list(user.audit_events.order_by("id").values_list("action", flat=True))


def test_it_signs_in_with_email_and_password_when_there_is_no_second_factor(client, alice):
    response = password_step(client, "Alice@Example.org")

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).context["user"] == alice
    assert _actions(alice) == [AuditEvent.Action.SIGN_IN]


def test_it_goes_back_to_a_local_next_page_but_not_to_another_site(client, alice):
    assert password_step(client, alice.email, next="/search?q=x")["Location"] == "/search?q=x"
    client.logout()
    assert password_step(client, alice.email, next="https://evil.example/")["Location"] == HOME


def test_a_wrong_password_is_refused_and_audited_on_the_named_account(client, alice):
    response = password_step(client, alice.email, password="not it")

    assert response.status_code == 400
    assert "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = alice.audit_events.get()
    assert event.action == AuditEvent.Action.SIGN_IN_FAILED
    assert event.ip_address == "127.0.0.1"
    assert "not it" not in str(event.data)


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, alice, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert password_step(client, alice.email, password="guess").status_code == 400

    locked = password_step(client, alice.email, password="guess")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert AccessAttempt.objects.get().failures_since_start == 5

    refused = password_step(client, alice.email)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_the_cool_off(client, alice, settings):
    for _ in range(5):
        password_step(client, alice.email, password="guess")

    later = timezone.now() + settings.AXES_COOLOFF_TIME + timezone.timedelta(seconds=1)
    with time_machine.travel(later):
        assert password_step(client, alice.email)["Location"] == HOME


def test_the_lock_holds_one_account_from_one_address_only(client, alice, django_user_model):
    django_user_model.objects.create_user("bob@example.org", "bob@example.org", PASSWORD)
    for _ in range(5):
        password_step(client, alice.email, password="guess")

    assert password_step(client, "bob@example.org")["Location"] == HOME
    client.logout()
    assert password_step(client, alice.email, REMOTE_ADDR="192.0.2.7").status_code == 302
    client.logout()
    assert password_step(client, alice.email).status_code == 429


def test_with_a_second_factor_the_password_alone_does_not_sign_in(client, alice, alice_totp):
    response = password_step(client, alice.email)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert "_auth_user_id" not in client.session
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.Action.SIGN_IN not in _actions(alice)


def test_the_second_step_signs_in_with_a_verified_session(client, alice, alice_totp):
    password_step(client, alice.email, next="/search?q=x")

    response = client.post(VERIFY + "?next=/search%3Fq%3Dx", {"code": totp_code(alice_totp)})

    assert response["Location"] == "/search?q=x"
    assert client.session[DEVICE_ID_SESSION_KEY] == alice_totp.persistent_id
    assert client.get(HOME).context["user"].is_verified()
    assert _actions(alice) == [AuditEvent.Action.SIGN_IN]


def test_a_wrong_code_is_refused_and_audited(client, alice, alice_totp):
    password_step(client, alice.email)

    response = client.post(VERIFY, {"code": "000000" if totp_code(alice_totp) != "000000" else "1"})

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert _actions(alice) == [AuditEvent.Action.SECOND_FACTOR_FAILED]


def _wrong(device) -> str:
    return f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"


def test_code_guessing_is_locked_after_a_few_tries_even_for_the_right_code(
    client, alice, alice_totp
):
    start = timezone.now()
    password_step(client, alice.email)
    # Three wrong codes, each after the previous one's delay (2 s, then 4 s) has passed.
    for offset in (0, 3, 8):
        with time_machine.travel(start + timezone.timedelta(seconds=offset), tick=False):
            assert client.post(VERIFY, {"code": _wrong(alice_totp)}).status_code == 400
    alice_totp.refresh_from_db()
    assert alice_totp.throttling_failure_count == 3

    # Now the device waits 2 s × 2^2 = 8 s: the right code is refused meanwhile...
    with time_machine.travel(start + timezone.timedelta(seconds=14), tick=False):
        assert client.post(VERIFY, {"code": totp_code(alice_totp)}).status_code == 400
    assert "_auth_user_id" not in client.session

    # ...and taken once the wait is over (the first step stays good for five minutes).
    with time_machine.travel(start + timezone.timedelta(seconds=17), tick=False):
        assert client.post(VERIFY, {"code": totp_code(alice_totp)}).status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_a_code_typed_during_the_wait_does_not_count_but_is_refused(client, alice, alice_totp):
    password_step(client, alice.email)
    client.post(VERIFY, {"code": _wrong(alice_totp)})

    assert client.post(VERIFY, {"code": totp_code(alice_totp)}).status_code == 400
    alice_totp.refresh_from_db()
    assert alice_totp.throttling_failure_count == 1


def test_the_second_step_expires(client, alice, alice_totp):
    password_step(client, alice.email)

    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6)):
        response = client.post(VERIFY, {"code": totp_code(alice_totp)})

    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_the_second_step_without_the_first_goes_back_to_sign_in(client):
    assert client.get(VERIFY)["Location"] == reverse("accounts:login")


def test_an_emailed_code_signs_in(client, alice, mailoutbox):
    EmailDevice.objects.create(user=alice, name="Email codes", confirmed=True)
    password_step(client, alice.email)

    client.post(VERIFY, {"action": "email"})
    code = re.search(r"code is (\d{6})", mailoutbox[-1].body)[1]
    response = client.post(VERIFY, {"code": code})

    assert mailoutbox[-1].to == ["alice@example.org"]
    assert response["Location"] == HOME
    assert client.get(HOME).context["user"].is_verified()


def test_a_backup_code_signs_in_once(client, alice):
    codes = backup_codes_generate(user=alice)
    password_step(client, alice.email)
    assert client.post(VERIFY, {"code": codes[0]})["Location"] == HOME
    client.post(reverse("accounts:logout"))

    password_step(client, alice.email)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 400
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=3)):
        assert client.post(VERIFY, {"code": codes[1]})["Location"] == HOME


def test_sign_out_ends_the_session_and_is_audited(client, alice):
    password_step(client, alice.email)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert _actions(alice) == [AuditEvent.Action.SIGN_IN, AuditEvent.Action.SIGN_OUT]


def test_the_api_still_takes_basic_auth_with_the_request_axes_needs(client, alice):
    credentials = base64.b64encode(f"{alice.username}:{PASSWORD}".encode()).decode()
    response = client.post(
        "/api/v1/entries",
        {"nickname": "Alice", "handle": "alice"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )

    assert response.status_code == 201


def test_the_lock_holds_for_the_apis_basic_auth_too(client, alice):
    def basic(password: str) -> dict[str, str]:
        token = base64.b64encode(f"{alice.username}:{password}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {token}"}

    for _ in range(5):
        client.get("/api/v1/entries/nobody", **basic("guess"))

    refused = client.get("/api/v1/entries/nobody", **basic(PASSWORD))
    elsewhere = client.get("/api/v1/entries/nobody", REMOTE_ADDR="192.0.2.7", **basic(PASSWORD))

    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert elsewhere.status_code == 404


def test_a_second_email_code_within_the_cooldown_is_not_sent(client, alice, mailoutbox):
    EmailDevice.objects.create(user=alice, name="Email codes", confirmed=True)
    password_step(client, alice.email)

    client.post(VERIFY, {"action": "email"})
    page = client.post(VERIFY, {"action": "email"}, follow=True)

    assert len(mailoutbox) == 1
    assert "cooldown" in page.content.decode()


def test_a_wrong_password_keeps_the_page_to_go_back_to(client, alice):
    response = password_step(client, alice.email, password="wrong", next="/search?q=x")

    assert response.context["next"] == "/search?q=x"

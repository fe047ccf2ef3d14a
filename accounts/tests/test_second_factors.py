"""Adding and removing second factors: an authenticator app with a QR code, email codes,
backup codes and passkeys; each change audited."""

from __future__ import annotations

import json
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditEvent
from accounts.tests.authenticator import SoftAuthenticator
from accounts.tests.conftest import PASSWORD, password_step, totp_code

pytestmark = pytest.mark.django_db


def _added(user) -> list[str]:
    events = user.audit_events.filter(action=AuditEvent.Action.SECOND_FACTOR_ADDED)
    return [event.data["kind"] for event in events]


def test_it_shows_a_qr_code_and_confirms_the_app_only_with_a_right_code(client, alice):
    client.force_login(alice)

    page = client.get(reverse("accounts:totp-add"))

    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r"<svg[^>]*>.*</svg>", html, re.S)
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    assert page.context["key_b32"] in device.config_url
    assert "issuer=Worldbook" in device.config_url

    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    assert client.post(reverse("accounts:totp-add"), {"code": wrong}).status_code == 400
    device.refresh_from_db()
    assert not device.confirmed

    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=3)):
        response = client.post(reverse("accounts:totp-add"), {"code": totp_code(device)})
    assert response["Location"] == reverse("accounts:home")
    device.refresh_from_db()
    assert device.confirmed
    assert _added(alice) == ["totp"]
    # Confirming the first factor also verifies the session that set it up.
    assert client.get(reverse("accounts:home")).context["user"].is_verified()


def test_email_codes_are_confirmed_with_the_code_sent(client, alice, mailoutbox):
    client.force_login(alice)

    client.post(reverse("accounts:email-device-add"), {"action": "send"})
    code = re.search(r"code is (\d{6})", mailoutbox[-1].body)[1]
    assert not EmailDevice.objects.get(user=alice).confirmed
    response = client.post(reverse("accounts:email-device-add"), {"code": code})

    assert response["Location"] == reverse("accounts:home")
    assert EmailDevice.objects.get(user=alice).confirmed
    assert mailoutbox[-1].to == ["alice@example.org"]
    assert _added(alice) == ["email"]


def test_backup_codes_are_ten_shown_once_and_replace_the_old_ones(client, alice):
    client.force_login(alice)

    first = client.post(reverse("accounts:backup-codes")).context["codes"]
    second = client.post(reverse("accounts:backup-codes")).context["codes"]

    assert len(first) == len(set(first)) == 10
    device = StaticDevice.objects.get(user=alice)
    assert sorted(device.token_set.values_list("token", flat=True)) == sorted(second)
    assert not set(first) & set(second)
    assert client.get(reverse("accounts:backup-codes")).context["codes"] is None
    assert _added(alice) == ["backup_codes", "backup_codes"]


def test_removing_a_factor_needs_a_verified_session_and_is_audited(client, alice, alice_totp):
    remove = reverse("accounts:device-remove", args=[alice_totp.persistent_id])
    client.force_login(alice)

    assert client.post(remove).status_code == 403
    assert TOTPDevice.objects.filter(pk=alice_totp.pk).exists()

    client.logout()
    password_step(client, alice.email)
    client.post(reverse("accounts:login-verify"), {"code": totp_code(alice_totp)})
    assert client.post(remove)["Location"] == reverse("accounts:home")

    assert not TOTPDevice.objects.filter(pk=alice_totp.pk).exists()
    assert alice.audit_events.filter(action=AuditEvent.Action.SECOND_FACTOR_REMOVED).exists()


def test_a_password_alone_cannot_add_another_factor(client, alice, alice_totp):
    client.force_login(alice)

    assert client.get(reverse("accounts:totp-add")).status_code == 403
    assert client.post(reverse("accounts:backup-codes")).status_code == 403
    assert not StaticDevice.objects.exists()


def test_nobody_removes_someone_elses_factor(client, alice, django_user_model):
    bob = django_user_model.objects.create_user("bob@example.org", "bob@example.org", "pw")
    bobs = TOTPDevice.objects.create(user=bob, name="Bob's app", confirmed=True)
    client.force_login(alice)

    response = client.post(reverse("accounts:device-remove", args=[bobs.persistent_id]))

    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=bobs.pk).exists()


def test_passkey_registration_starts_with_the_sites_relying_party(client, alice, settings):
    settings.OTP_WEBAUTHN_RP_ID = "worldbook.example"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://worldbook.example"]
    client.force_login(alice)

    response = client.post(reverse("otp_webauthn:credential-registration-begin"))

    assert response.status_code == 200
    options = response.json()
    assert options["rp"] == {"id": "worldbook.example", "name": "Worldbook"}
    assert options["user"]["name"] == alice.username
    assert "otp_webauthn_register_state" in client.session


def test_a_passkey_ceremony_at_sign_in_needs_the_password_step_first(client):
    response = client.post(reverse("otp_webauthn:credential-authentication-begin"))

    assert response.status_code in (401, 403)
    assert "otp_webauthn_authentication_state" not in client.session


def test_after_the_password_step_a_passkey_ceremony_begins_for_that_account(
    client, alice, alice_totp, settings
):
    settings.OTP_WEBAUTHN_RP_ID = "worldbook.example"
    password_step(client, alice.email)

    response = client.post(reverse("otp_webauthn:credential-authentication-begin"))

    assert response.status_code == 200
    assert response.json()["rpId"] == "worldbook.example"
    assert "_auth_user_id" not in client.session


@pytest.fixture
def passkey_site(settings):
    settings.OTP_WEBAUTHN_RP_ID = "worldbook.example"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://worldbook.example"]
    return SoftAuthenticator("worldbook.example", "https://worldbook.example")


def _ceremony(client, step: str, answer) -> dict:
    begin = client.post(reverse(f"otp_webauthn:credential-{step}-begin"))
    assert begin.status_code == 200
    response = client.post(
        reverse(f"otp_webauthn:credential-{step}-complete"),
        json.dumps(answer(begin.json())),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_passkey_registers_and_then_serves_as_the_second_step(client, alice, passkey_site):
    client.force_login(alice)
    _ceremony(client, "registration", passkey_site.create)

    assert WebAuthnCredential.objects.get(user=alice).confirmed
    assert _added(alice) == ["passkey"]
    client.post(reverse("accounts:logout"))

    assert password_step(client, alice.email)["Location"].startswith(
        reverse("accounts:login-verify")
    )
    assert "_auth_user_id" not in client.session
    _ceremony(client, "authentication", passkey_site.get)

    assert client.session["_auth_user_id"] == str(alice.pk)
    assert client.get(reverse("accounts:home")).context["user"].is_verified()


def test_a_passkey_of_another_account_does_not_finish_the_sign_in(
    client, alice, django_user_model, passkey_site
):
    bob = django_user_model.objects.create_user("bob@example.org", "bob@example.org", PASSWORD)
    client.force_login(bob)
    _ceremony(client, "registration", passkey_site.create)
    client.post(reverse("accounts:logout"))
    TOTPDevice.objects.create(user=alice, name="Authenticator app", confirmed=True)
    password_step(client, alice.email)

    begin = client.post(reverse("otp_webauthn:credential-authentication-begin")).json()
    response = client.post(
        reverse("otp_webauthn:credential-authentication-complete"),
        json.dumps(passkey_site.get(begin)),
        content_type="application/json",
    )

    assert response.status_code >= 400
    assert "_auth_user_id" not in client.session
    failed = alice.audit_events.get(action=AuditEvent.Action.SECOND_FACTOR_FAILED)
    assert failed.data == {"kind": "passkey"}


def test_the_pages_load_the_passkey_scripts_where_passkeys_can_work(
    client, alice, passkey_site, settings
):
    settings.PASSKEYS_AVAILABLE = True
    client.force_login(alice)
    add_page = client.get(reverse("accounts:passkey-add")).content.decode()
    _ceremony(client, "registration", passkey_site.create)
    client.post(reverse("accounts:logout"))
    password_step(client, alice.email)

    verify_page = client.get(reverse("accounts:login-verify")).content.decode()

    assert 'id="passkey-register-button"' in add_page
    assert "otp_webauthn_register.js" in add_page
    assert 'id="passkey-verification-button"' in verify_page
    assert reverse("otp_webauthn:credential-authentication-begin") in verify_page


def test_without_https_the_passkey_page_says_why_and_loads_no_script(client, alice, settings):
    settings.PASSKEYS_AVAILABLE = False
    client.force_login(alice)

    page = client.get(reverse("accounts:passkey-add")).content.decode()

    assert "HTTPS" in page
    assert "otp_webauthn_register.js" not in page

"""The admin opens only to staff whose session passed a second factor."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from accounts.tests.conftest import password_step, totp_code

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")


@pytest.fixture
def moderator(django_user_model):
    return django_user_model.objects.create_user(
        "mod@example.org",
        "mod@example.org",
        "correct horse battery staple",
        is_staff=True,
        is_superuser=True,
    )


def test_a_visitor_is_sent_to_the_sites_sign_in(client):
    response = client.get(ADMIN, follow=True)

    assert response.redirect_chain[-1][0] == f"{reverse('accounts:login')}?next=%2Fadmin%2F"


def test_staff_without_a_second_factor_are_refused(client, moderator):
    password_step(client, moderator.email)

    response = client.get(ADMIN, follow=True)

    assert response.status_code == 403
    assert "needs a second factor" in response.content.decode()
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_staff_signed_in_with_a_password_only_are_refused_though_they_have_a_factor(
    client, moderator
):
    TOTPDevice.objects.create(user=moderator, name="Authenticator app", confirmed=True)
    client.force_login(moderator)

    assert client.get(ADMIN, follow=True).status_code == 403


def test_staff_who_passed_a_second_factor_get_in(client, moderator):
    device = TOTPDevice.objects.create(user=moderator, name="Authenticator app", confirmed=True)
    password_step(client, moderator.email, next=ADMIN)

    response = client.post(
        f"{reverse('accounts:login-verify')}?next={ADMIN}", {"code": totp_code(device)}
    )

    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_the_admin_has_no_sign_in_form_of_its_own(client, moderator):
    response = client.post(
        reverse("admin:login"),
        {"username": moderator.username, "password": "correct horse battery staple"},
    )

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_moderators_read_the_audit_trail_but_cannot_change_it(client, moderator):
    device = TOTPDevice.objects.create(user=moderator, name="Authenticator app", confirmed=True)
    password_step(client, moderator.email, password="wrong")
    password_step(client, moderator.email)
    client.post(reverse("accounts:login-verify"), {"code": totp_code(device)})
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).get()

    listing = client.get(reverse("admin:accounts_auditevent_changelist"))
    detail = client.get(reverse("admin:accounts_auditevent_change", args=[event.pk]))
    deleted = client.post(
        reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert listing.status_code == 200
    assert "Sign-in failed" in listing.content.decode()
    assert detail.status_code == 200
    assert "Save" not in detail.content.decode()
    assert deleted.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403

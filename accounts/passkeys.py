"""Passkeys (W3C WebAuthn Level 3) as a second factor, through django-otp-webauthn.

The plugin's registration views serve a signed-in person as they are. Its authentication
views are adapted to the two-step sign-in: the ceremony is for the account whose password
step this session passed (``accounts.views.pending_sign_in_user``), and on success that
account is signed in with a verified session, exactly as after a typed code. The URL
module below keeps the plugin's ``otp_webauthn`` namespace, which its browser script and
template tags look up.
"""

from __future__ import annotations

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp import login as otp_login
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from accounts.models import AuditEvent
from accounts.services import audit_record
from accounts.views import complete_sign_in, pending_sign_in_user


class _PendingUserMixin:
    def get_user(self):
        if self.request.user.is_authenticated:
            return self.request.user
        return pending_sign_in_user(self.request)

    def check_can_authenticate(self):
        if self.get_user() is None:
            raise exceptions.NotAuthenticated()


class PasskeyAuthenticationBegin(_PendingUserMixin, BeginCredentialAuthenticationView):
    """Options for a passkey ceremony for the account signing in (JSON)."""


class PasskeyAuthenticationComplete(_PendingUserMixin, CompleteCredentialAuthenticationView):
    """Checks the browser's assertion; signs the pending account in, verified (JSON)."""

    def handle_exception(self, exc):
        user = self.get_user()
        if user is not None and isinstance(exc, exceptions.OTPWebAuthnApiError):
            audit_record(
                action=AuditEvent.Action.SECOND_FACTOR_FAILED,
                user=user,
                request=self.request,
                kind="passkey",
            )
        return super().handle_exception(exc)

    def complete_auth(self, device):
        user = self.get_user()
        if device.user_id != user.pk:
            raise exceptions.CredentialUserMismatch()
        if self.request.user.is_authenticated:
            otp_login(self.request, device)
        else:
            complete_sign_in(self.request, user, device)


class PasskeyRegistrationComplete(CompleteCredentialRegistrationView):
    """Saves a new passkey for the signed-in person (JSON); audited."""

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            audit_record(
                action=AuditEvent.Action.SECOND_FACTOR_ADDED,
                user=self.request.user,
                request=self.request,
                kind="passkey",
            )
        return response


app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        BeginCredentialRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        PasskeyRegistrationComplete.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        PasskeyAuthenticationBegin.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        PasskeyAuthenticationComplete.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]

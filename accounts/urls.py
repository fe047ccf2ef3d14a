"""The person's account pages, mounted at ``/account/``."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-up/", views.sign_up, name="signup"),
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/verify/", views.sign_in_verify, name="login-verify"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("confirm-email/<str:token>/", views.confirm_email, name="confirm-email"),
    path("confirm-email/", views.resend_confirmation, name="resend-confirmation"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
    path("second-factors/app/", views.totp_add, name="totp-add"),
    path("second-factors/email/", views.email_device_add, name="email-device-add"),
    path("second-factors/backup-codes/", views.backup_codes, name="backup-codes"),
    path("second-factors/passkey/", views.passkey_add, name="passkey-add"),
    path(
        "second-factors/<path:persistent_id>/remove/",
        views.device_remove,
        name="device-remove",
    ),
]

"""Mail to people about their account: the email-address confirmation link.

The link carries a value signed with the site's secret (``django.core.signing``) naming the
account and the address it was sent to, so it stops working when the address changes and
after ``EMAIL_CONFIRMATION_MAX_AGE`` seconds.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

_SALT = "accounts.email-confirmation"


def confirmation_token(user) -> str:
    """A URL-safe token for confirming ``user.email``: signed, timestamped, no expiry of its
    own (the age is checked by :func:`confirmation_user`)."""
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=_SALT, compress=True)


def confirmation_user(token: str):
    """The account a confirmation token was made for.

    Input: the token from the link. Output: the user, whose ``email`` is still the address
    the link was sent to. Raises ``signing.SignatureExpired`` for a token older than
    ``EMAIL_CONFIRMATION_MAX_AGE`` seconds and ``signing.BadSignature`` for any other token
    that does not name a current account and address.
    """
    value = signing.loads(token, salt=_SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE)
    user = get_user_model()._default_manager.filter(pk=value.get("u")).first()
    if user is None or user.email.lower() != value.get("e"):
        raise signing.BadSignature("The link is for an address this account no longer has.")
    return user


def send_confirmation(user) -> None:
    """Email ``user.email`` a link to ``accounts:confirm-email`` (absolute, on SITE_URL)."""
    link = settings.SITE_URL + reverse(
        "accounts:confirm-email", kwargs={"token": confirmation_token(user)}
    )
    context = {
        "user": user,
        "link": link,
        "days": settings.EMAIL_CONFIRMATION_MAX_AGE // 86400,
    }
    send_mail(
        subject="Confirm your email address for Worldbook",
        message=render_to_string("accounts/email/confirm_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )

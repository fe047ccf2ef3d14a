"""Signing in with an email address (or a username) and a password. No phone number."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class EmailOrUsernameBackend(ModelBackend):
    """``ModelBackend`` that also takes the account's email address as its username.

    Input: ``username`` (an email address, compared case-insensitively as RFC 5321 §2.4
    allows providers to, or a username) and ``password``. Output: the active user, or
    ``None``. Runs the password hasher even for an unknown name, as ``ModelBackend``
    does, so timing does not tell which accounts exist.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        if username is None or password is None:
            return None
        model = get_user_model()
        if "@" in username:
            user = model._default_manager.filter(email__iexact=username.strip()).first()
        else:
            user = model._default_manager.filter(username=username).first()
        if user is None:
            model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
